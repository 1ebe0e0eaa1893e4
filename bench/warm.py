"""Cold and warm: the same kind of incremental campaign run in a fresh process, then again in a JVM that ran one.

`python -m bench.warm [--scale 1.0] [--runs 3]` (`make bench-warm`) loads the full export of that scale (the one
`bench.run` generates under bench/.work/scale-S, generated if missing) into a fresh lake, then, in one child
process, applies the realistic 1% changes incr04, incr05, … one after another, each by `lake workflow run campaign`
called in that process. The first run pays the JVM's first-use costs (class loading, JIT compilation, the start of
Delta and of the metastore, code generation for each query); the later ones find them paid. The difference is what
a Glue job, a fresh JVM every run, pays whatever the size of its change. Each run's own progress lines are printed,
so the per-job split of both kinds of run can be compared.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.run import BENCH, SESSION, generate, land, workflow

FIRST_REALISTIC = 4  # incr04 onwards: realistic 1% changes without deadline moves (see bench.run.generate)


def child(lake: Path, work: Path, runs: int) -> None:
    """In this process: each change landed, then the workflow run in-process; one line per run."""
    from lakekit import cli

    for number in range(FIRST_REALISTIC, FIRST_REALISTIC + runs):
        land(work / f"incr{number:02d}" / "landing", lake)
        output = io.StringIO()
        started = time.monotonic()
        with contextlib.redirect_stdout(output):
            status = cli.main(["workflow", "run", "campaign", "--lake-root", str(lake)])
        elapsed = time.monotonic() - started
        if status != 0:
            print(output.getvalue()[-5000:])
            raise SystemExit(f"run {number - FIRST_REALISTIC + 1} failed with exit code {status}")
        session = 0.0
        for line in output.getvalue().splitlines():
            if line.startswith("[") and "lake root" not in line:
                print(f"   {line}")
            if started_in := SESSION.match(line):
                session += float(started_in.group(1))
        kind = "cold (new JVM)" if number == FIRST_REALISTIC else "warm (same JVM)"
        print(f"run {number - FIRST_REALISTIC + 1} {kind}: {elapsed:.1f}s in-process, SparkSession {session:.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3, help="realistic 1%% changes applied in one process")
    parser.add_argument("--child", nargs=2, metavar=("LAKE", "WORK"), help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.child:
        child(Path(ns.child[0]), Path(ns.child[1]), ns.runs)
        return
    work = BENCH / ".work" / f"scale-{ns.scale}"
    generate(work, ns.scale, max(ns.runs, 20))
    lake = work / "lake_warm"
    shutil.rmtree(lake, ignore_errors=True)
    lake.mkdir()
    land(work / "full" / "landing", lake)
    workflow(lake, "full load (not compared, the starting state)")
    print(f"-- {ns.runs} realistic 1% incremental runs in one process", flush=True)
    argv = [sys.executable, "-m", "bench.warm", "--runs", str(ns.runs), "--child", str(lake), str(work)]
    started = time.monotonic()
    subprocess.run(argv, cwd=BENCH.parent, check=True)
    print(f"-- the process: {time.monotonic() - started:.1f}s in all (Python start and imports included)")
    shutil.rmtree(lake, ignore_errors=True)


if __name__ == "__main__":
    main()
