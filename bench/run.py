"""`make bench`: the campaign pipeline at scale, side by side with DuckDB and with a full rebuild, in one run.

Prints a table, writes bench/RESULTS.md with the machine, and ends with one machine-readable line.
Run: python -m bench.run [--scale 1.0] [--runs 20]  (make bench SCALE=…)
The ratios in the summary line compare whole-process wall times, as the targets are stated; the table
also shows each run's work time (less JVM and SparkSession start-up) and the ratios of those.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.delta_log import commits, files_at, max_files_per_partition, total_bytes
from bench.generate import Generator

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
BIN = Path(sys.executable).parent
PROGRESS = "curated/campaign_task_progress"


JOB_DONE = re.compile(r"^\[(\w+)\] done in ([0-9.]+)s")
SESSION = re.compile(r"^\[\w+\] SparkSession started in ([0-9.]+)s")
REBUILD = re.compile(r"^rebuild: ([0-9.]+)s")


@dataclass(frozen=True)
class Run:
    """One measured command: whole-process wall seconds, peak memory, and seconds of work inside the process.

    `work_s` is what the process spent after its start-up: for a workflow, its jobs' time less the
    SparkSession start; for the rebuild, its recompute and overwrite. None where it does not apply.
    """

    wall_s: float
    peak_bytes: int
    work_s: float | None = None


def measure(argv: list[str], label: str) -> Run:
    """Run one command, printing its progress lines; its wall time and peak resident memory (whole process tree)."""
    print(f"-- {label}: {' '.join(argv)}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    finished = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not finished.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    finished.set()
    sampler.join()
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        print(output[-5000:])
        raise SystemExit(f"{label} failed with exit code {process.returncode}")
    jobs_s = session_s = 0.0
    rebuild_s = None
    for line in output.splitlines():
        if line.startswith(("[", "duckdb:", "rebuild:")) and "bookmark option" not in line:
            print(f"   {line}")
        if done := JOB_DONE.match(line):
            jobs_s += float(done.group(2))
        elif session := SESSION.match(line):
            session_s += float(session.group(1))
        elif rebuild := REBUILD.match(line):
            rebuild_s = float(rebuild.group(1))
    work_s = rebuild_s if rebuild_s is not None else (jobs_s - session_s if jobs_s else None)
    print(f"   wall {elapsed:.1f}s" + (f", of which work {work_s:.1f}s" if work_s is not None else ""), flush=True)
    return Run(elapsed, peak, work_s)


def workflow(lake: Path, label: str) -> Run:
    return measure([str(BIN / "lake"), "workflow", "run", "campaign", "--lake-root", str(lake)], label)


def land(source: Path, lake: Path) -> None:
    shutil.copytree(source, lake / "landing", dirs_exist_ok=True)


ABSOLUTE_CHANGE = 2_000  # items, realistic: the same change at every scale, for incr_growth
# The exports each scale's folder holds, in the order they are applied (incrNN/landing).
PLAN = ["realistic 1% + 10 campaigns' deadlines", "uniform 1%", f"realistic {ABSOLUTE_CHANGE} items"]


def generate(work: Path, scale: float, runs: int) -> None:
    """The full export, then: incr01 realistic 1% (with deadlines moved), incr02 uniform 1%, incr03 realistic
    2,000 items, incr04.. `runs` realistic 1% runs."""
    marker = work / f"generated-{scale}-{runs}-v2"
    if marker.exists():
        print(f"-- reusing generated exports in {work}")
        return
    shutil.rmtree(work, ignore_errors=True)
    started = time.monotonic()
    generator = Generator(scale=scale)
    generator.write_full(work / "full" / "landing")
    steps = [("realistic", None), ("uniform", None), ("realistic", ABSOLUTE_CHANGE)] + [("realistic", None)] * runs
    for number, (distribution, count) in enumerate(steps, 1):
        landing = work / f"incr{number:02d}" / "landing"
        counts = generator.write_incremental(landing, number, distribution=distribution, count=count)
        if number == 1:
            generator.move_deadlines(landing, number)
        if number <= len(PLAN):
            print(f"-- incremental {number} ({PLAN[number - 1]}): {counts}")
    marker.write_text(f"{len(generator.items)} items\n")
    print(f"-- generated in {time.monotonic() - started:.0f}s under {work}")


def generate_growth(work: Path, scale: float) -> None:
    """At a larger scale, only what incr_growth needs: the full export and one realistic 2,000-item change."""
    marker = work / f"generated-growth-{scale}-v2"
    if marker.exists():
        print(f"-- reusing generated exports in {work}")
        return
    shutil.rmtree(work, ignore_errors=True)
    generator = Generator(scale=scale)
    generator.write_full(work / "full" / "landing", files=8 * max(1, int(scale)))
    counts = generator.write_incremental(
        work / "incr01" / "landing", 1, distribution="realistic", count=ABSOLUTE_CHANGE
    )
    print(f"-- scale {scale}: incremental of {ABSOLUTE_CHANGE} items: {counts}")
    marker.write_text(f"{len(generator.items)} items\n")


def enable_deletion_vectors(lake: Path) -> None:
    """For the trade-off measurement only: the progress table as it was before deletion vectors went off."""
    code = (
        "import sys\n"
        "from lakekit.core.settings import load_settings\n"
        "from lakekit.core.session import get_spark\n"
        "spark = get_spark(load_settings('local', sys.argv[1]))\n"
        'spark.sql(f"ALTER TABLE delta.`{sys.argv[1]}/' + PROGRESS + "` "
        "SET TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')\")\n"
    )
    subprocess.run([sys.executable, "-c", code, str(lake)], cwd=REPO, check=True, capture_output=True)


def merge_metrics(lake: Path, before: int) -> dict:
    made = commits(lake / PROGRESS)[before:]
    merge = next((c for c in made if c["operation"] == "MERGE"), {"metrics": {}})
    return merge["metrics"]


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, {java}"
    )


def median(values) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _verdict(value: float, met: bool) -> str:
    return f"{value:.4g}: {'met' if met else 'NOT met'}"  # 4 digits: 1.501 is not met, and shows it


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=float(os.environ.get("SCALE") or "1.0"))
    parser.add_argument("--runs", type=int, default=20, help="realistic incremental runs in a row, for file counts")
    parser.add_argument(
        "--growth-scale",
        type=float,
        default=float(os.environ.get("GROWTH_SCALE") or "0"),
        help="also measure the 2,000-item change at this scale, for incr_growth (make bench: 4; 0: skip)",
    )
    ns = parser.parse_args()
    work = BENCH / ".work" / f"scale-{ns.scale}"
    generate(work, ns.scale, ns.runs)
    lake = work / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    lake.mkdir()

    land(work / "full" / "landing", lake)
    full = workflow(lake, "full load (raw + curated), project")
    rows = sum(json.loads(f["stats"])["numRecords"] for f in files_at(lake / PROGRESS).values())
    duck_out = work / "duckdb_out"
    shutil.rmtree(duck_out, ignore_errors=True)
    duck = measure(
        [sys.executable, str(BENCH / "duckdb_full.py"), str(work / "full" / "landing"), str(duck_out)],
        "same transform, DuckDB",
    )
    # The deletion-vector trade-off: the same two changes on a copy of the table with them on.
    dv_lake = work / "lake_dv"
    shutil.rmtree(dv_lake, ignore_errors=True)
    shutil.copytree(lake, dv_lake)
    enable_deletion_vectors(dv_lake)
    # The 2,000-item change as the first change after the full load, as at the growth scale (a table with deletion
    # vectors gains a file per touched partition each run, so its third run would include a compaction).
    dv_first = work / "lake_dv_first"
    shutil.rmtree(dv_first, ignore_errors=True)
    shutil.copytree(dv_lake, dv_first)

    land(work / "incr01" / "landing", lake)
    before = len(commits(lake / PROGRESS))
    incr = workflow(lake, "realistic 1% incremental, project")
    m = merge_metrics(lake, before)
    rebuild = measure(
        [sys.executable, str(BENCH / "rebuild.py"), str(lake)], "same 1% export, full rebuild (recompute + overwrite)"
    )
    land(work / "incr02" / "landing", lake)
    before = len(commits(lake / PROGRESS))
    uniform = workflow(lake, "uniform 1% incremental, project")
    um = merge_metrics(lake, before)
    land(work / "incr03" / "landing", lake)
    absolute = workflow(lake, f"realistic {ABSOLUTE_CHANGE}-item incremental, project")
    noop = workflow(lake, "nothing new, project")

    dv_runs = []
    for number, label in ((1, "realistic"), (2, "uniform")):
        land(work / f"incr{number:02d}" / "landing", dv_lake)
        before = len(commits(dv_lake / PROGRESS))
        run = workflow(dv_lake, f"{label} 1% incremental, deletion vectors on")
        dv_runs.append((label, run, merge_metrics(dv_lake, before)))
    shutil.rmtree(dv_lake, ignore_errors=True)
    land(work / "incr03" / "landing", dv_first)
    label = f"realistic {ABSOLUTE_CHANGE}-item incremental, deletion vectors on, first change after the full load"
    dv_absolute = workflow(dv_first, label)
    shutil.rmtree(dv_first, ignore_errors=True)

    runs = []
    for number in range(4, ns.runs + 4):
        land(work / f"incr{number:02d}" / "landing", lake)
        runs.append(workflow(lake, f"realistic incremental run {number - 3}/{ns.runs}"))
    history = commits(lake / PROGRESS)
    compactions = [c["version"] for c in history if c["operation"] == "OPTIMIZE"]
    worst_before = max((max_files_per_partition(files_at(lake / PROGRESS, v - 1)) for v in compactions), default=0)
    live = files_at(lake / PROGRESS)
    files_after = max_files_per_partition(live)

    growth = None
    if ns.growth_scale:
        big = BENCH / ".work" / f"growth-{ns.growth_scale}"
        generate_growth(big, ns.growth_scale)
        big_lake = big / "lake"
        shutil.rmtree(big_lake, ignore_errors=True)
        big_lake.mkdir()
        land(big / "full" / "landing", big_lake)
        big_full = workflow(big_lake, f"full load at scale {ns.growth_scale}, project")
        big_dv = big / "lake_dv"
        shutil.rmtree(big_dv, ignore_errors=True)
        shutil.copytree(big_lake, big_dv)
        enable_deletion_vectors(big_dv)
        land(big / "incr01" / "landing", big_lake)
        big_abs = workflow(big_lake, f"realistic {ABSOLUTE_CHANGE}-item incremental at scale {ns.growth_scale}")
        shutil.rmtree(big_lake, ignore_errors=True)
        # The same change with deletion vectors on (merge-on-read: the MERGE writes what changed, not the files).
        land(big / "incr01" / "landing", big_dv)
        label = f"realistic {ABSOLUTE_CHANGE}-item incremental at scale {ns.growth_scale}, deletion vectors on"
        big_dv_abs = workflow(big_dv, label)
        shutil.rmtree(big_dv, ignore_errors=True)
        big_duck_out = big / "duckdb_out"
        shutil.rmtree(big_duck_out, ignore_errors=True)
        big_duck = measure(
            [sys.executable, str(BENCH / "duckdb_full.py"), str(big / "full" / "landing"), str(big_duck_out)],
            f"same transform at scale {ns.growth_scale}, DuckDB",
        )
        growth = (big_full, big_abs, big_duck, big_dv_abs)
        shutil.rmtree(big_duck_out, ignore_errors=True)

    full_vs_duckdb = full.wall_s / duck.wall_s
    incr_vs_full = incr.wall_s / full.wall_s
    uniform_vs_full = uniform.wall_s / full.wall_s
    rebuild_vs_incr = rebuild.wall_s / incr.wall_s
    incr_growth = growth[1].wall_s / absolute.wall_s if growth else None

    def merge_row(metrics: dict) -> str:
        return (
            f"{metrics.get('numTargetRowsUpdated')} / {metrics.get('numTargetRowsInserted')} / "
            f"{metrics.get('numTargetRowsDeleted')} rows; {metrics.get('numTargetFilesAdded')} files added, "
            f"{metrics.get('numTargetFilesRemoved')} removed, {int(metrics.get('numTargetBytesAdded', 0)):,} bytes, "
            f"{metrics.get('numTargetDeletionVectorsAdded')} deletion vectors; merge "
            f"{int(metrics.get('executionTimeMs', 0)) / 1000:.1f} s"
        )

    results = [
        ("rows in curated.campaign_task_progress", f"{rows:,}"),
        ("full load, project (raw + curated)", f"{full.wall_s:.1f} s, peak {full.peak_bytes / 2**20:,.0f} MiB"),
        ("  of which work (jobs, less JVM and SparkSession start)", f"{full.work_s:.1f} s"),
        ("same transform, DuckDB", f"{duck.wall_s:.1f} s, peak {duck.peak_bytes / 2**20:,.0f} MiB"),
        ("realistic 1% incremental, project", f"{incr.wall_s:.1f} s, peak {incr.peak_bytes / 2**20:,.0f} MiB"),
        ("  of which work (jobs, less JVM and SparkSession start)", f"{incr.work_s:.1f} s"),
        ("  updated / inserted / deleted; files; MERGE", merge_row(m)),
        ("uniform 1% incremental, project", f"{uniform.wall_s:.1f} s (work {uniform.work_s:.1f} s)"),
        ("  updated / inserted / deleted; files; MERGE", merge_row(um)),
        ("same realistic export, full rebuild (recompute + overwrite)", f"{rebuild.wall_s:.1f} s"),
        ("  of which work (less JVM and SparkSession start)", f"{rebuild.work_s:.1f} s"),
        (f"realistic {ABSOLUTE_CHANGE}-item incremental", f"{absolute.wall_s:.1f} s (work {absolute.work_s:.1f} s)"),
        ("nothing new: the campaign workflow, whole process", f"{noop.wall_s:.1f} s"),
    ]
    for label, run, metrics in dv_runs:
        results += [
            (f"{label} 1% incremental with deletion vectors on", f"{run.wall_s:.1f} s (work {run.work_s:.1f} s)"),
            ("  updated / inserted / deleted; files; MERGE", merge_row(metrics)),
        ]
    results.append(
        (
            f"realistic {ABSOLUTE_CHANGE}-item incremental with deletion vectors on (first change after the full load)",
            f"{dv_absolute.wall_s:.1f} s",
        )
    )
    if growth:
        results += [
            (f"full load at scale {ns.growth_scale}", f"{growth[0].wall_s:.1f} s"),
            (f"same transform at scale {ns.growth_scale}, DuckDB", f"{growth[2].wall_s:.1f} s"),
            (f"full_vs_duckdb at scale {ns.growth_scale} (reported)", f"{growth[0].wall_s / growth[2].wall_s:.2f}"),
            (f"realistic {ABSOLUTE_CHANGE}-item incremental at scale {ns.growth_scale}", f"{growth[1].wall_s:.1f} s"),
            (
                f"realistic {ABSOLUTE_CHANGE}-item incremental at scale {ns.growth_scale}, deletion vectors on",
                f"{growth[3].wall_s:.1f} s (incr_growth with them: {growth[3].wall_s / dv_absolute.wall_s:.3f})",
            ),
        ]
    results += [
        (f"{ns.runs} realistic incremental runs", f"median {median(r.wall_s for r in runs):.1f} s"),
        ("  of which work", f"median {median(r.work_s for r in runs):.1f} s"),
        ("  compactions (OPTIMIZE run by the job)", f"{len(compactions)}"),
        ("  max files per partition, before compaction", f"{worst_before}"),
        ("  max files per partition, at the end", f"{files_after}"),
        ("  table size at the end", f"{total_bytes(live) / 2**20:,.1f} MiB in {len(live)} files"),
        ("target full_vs_duckdb <= 4", _verdict(full_vs_duckdb, full_vs_duckdb <= 4)),
        ("target incr_vs_full <= 0.25", _verdict(incr_vs_full, incr_vs_full <= 0.25)),
        ("target incr_uniform_vs_full <= 0.5", _verdict(uniform_vs_full, uniform_vs_full <= 0.5)),
        ("target rebuild_vs_incr >= 3", _verdict(rebuild_vs_incr, rebuild_vs_incr >= 3)),
        (
            "target incr_growth <= 1.5",
            _verdict(incr_growth, incr_growth <= 1.5) if incr_growth is not None else "not measured (--growth-scale)",
        ),
        ("target noop_s <= 3", _verdict(noop.wall_s, noop.wall_s <= 3)),
        ("target files_per_partition <= 4", _verdict(files_after, files_after <= 4)),
    ]
    summary = (
        f"bench: rows={rows} full_s={full.wall_s:.1f} duckdb_s={duck.wall_s:.1f} full_vs_duckdb={full_vs_duckdb:.2f} "
        f"incr_s={incr.wall_s:.1f} incr_vs_full={incr_vs_full:.3f} incr_uniform_vs_full={uniform_vs_full:.3f} "
        f"rebuild_vs_incr={rebuild_vs_incr:.2f} "
        f"incr_growth={f'{incr_growth:.3f}' if incr_growth is not None else 'n/a'} noop_s={noop.wall_s:.1f} "
        f"files_per_partition={files_after}"
    )
    table = "\n".join(f"| {k} | {v} |" for k, v in results)
    print("\n| measure | result |\n|---|---|\n" + table)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = BENCH / "RESULTS.md"
    previous = report.read_text() if report.exists() else "# Benchmark results\n"
    report.write_text(
        previous.rstrip() + f"\n\n## {stamp}, scale {ns.scale}\n\nMachine: {machine()}\n\n"
        f"| measure | result |\n|---|---|\n{table}\n\n```\n{summary}\n```\n"
    )
    print(summary)


if __name__ == "__main__":
    main()
