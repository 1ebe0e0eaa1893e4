"""`make bench-actions`: the Spark actions each job of an incremental campaign run makes, and what each is for.

Runs the campaign workflow on generated exports (a full load, then incremental runs: the first a realistic
1% change with 10 campaigns' deadlines moved, the next ones realistic 1% changes alone) and profiles each
incremental run in a child process that
- writes Spark's event log (SQL executions, Spark jobs, stages, tasks, with their times), and
- records every call the Python driver makes into the JVM (py4j), with the line of lakekit/ that made it,
so each SQL execution and Spark job is put down to the line of code that caused it, and the driver's
time in the JVM outside any Spark job (Delta log reads, metastore calls, planning) is seen too.

Prints, per job: its wall time, SQL executions, Spark jobs, stages and tasks; then, per line of code,
what it asked of the JVM. Counts do not depend on the machine's load; times do.

Run: python -m bench.actions [--scale 0.1] [--runs 2]  (make bench-actions SCALE=0.1 RUNS=2)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SQL_START = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart"
SQL_END = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd"
# Frames of these packages are the library, not the code that asked: a call is put down to the line below them.
LIBRARY = ("pyspark", "py4j", "delta")
PROJECT = ("lakekit", "transforms")


def generate(work: Path, scale: float, runs: int) -> None:
    """The full export and `runs` realistic 1% incrementals; the first also moves 10 campaigns' deadlines."""
    from bench.generate import Generator

    marker = work / f"generated-{scale}-{runs}"
    if marker.exists():
        return
    shutil.rmtree(work, ignore_errors=True)
    generator = Generator(scale=scale)
    generator.write_full(work / "full" / "landing")
    for number in range(1, runs + 1):
        landing = work / f"incr{number:02d}" / "landing"
        generator.write_incremental(landing, number, distribution="realistic")
        if number == 1:
            generator.move_deadlines(landing, number)
    marker.write_text(f"{len(generator.items)} items\n")


# -- the child: one workflow run, in this process, with every JVM call recorded ------------------------------


def _caller(stack: list[traceback.FrameSummary]) -> tuple[str, str]:
    """The line of the project that made a JVM call, and the library function it called."""
    api = ""
    for frame in reversed(stack):
        path = Path(frame.filename)
        if any(part in LIBRARY for part in path.parts) or "site-packages" in path.parts:
            api = frame.name
            continue
        # The project's files, wherever its tree is (this checkout, or an older one given to --compare).
        parts = path.parts
        top = next((i for i in range(len(parts) - 1, -1, -1) if parts[i] in PROJECT), None)
        if top is None:
            continue
        return f"{'/'.join(parts[top:])}:{frame.lineno} {frame.name}", api
    return "?", api


def child(lake: str, calls_out: Path) -> None:
    """Run `lake workflow run campaign` here, recording each JVM call (start, end, caller, JVM method) and each
    job's start and end; write them as JSON to `calls_out`."""
    from py4j import java_gateway

    from lakekit import cli
    from lakekit.core import registry

    calls: list[list] = []
    jobs: list[list] = []
    depth = [0]
    original_call = java_gateway.JavaMember.__call__

    def recorded_call(self, *args):
        if depth[0]:  # a call made while answering another (a callback): counted in the outer one
            return original_call(self, *args)
        depth[0] += 1
        started = time.time()
        try:
            return original_call(self, *args)
        finally:
            depth[0] -= 1
            ended = time.time()
            if ended - started >= 0.001:  # building columns and reading conf: thousands of calls of microseconds
                site, api = _caller(traceback.extract_stack()[:-1])
                calls.append([started, ended, site, api or self.name])

    original_run_job = registry.run_job

    def recorded_run_job(name, argv):
        started = time.time()
        try:
            return original_run_job(name, argv)
        finally:
            jobs.append([name, started, time.time()])

    java_gateway.JavaMember.__call__ = recorded_call
    registry.run_job = recorded_run_job
    code = cli.main(["workflow", "run", "campaign", "--lake-root", lake])
    calls_out.write_text(json.dumps({"calls": calls, "jobs": jobs}))
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()  # closes the event log
    sys.exit(code)


# -- the parent: generate, load, profile, report -----------------------------------------------------------


@dataclass
class Site:
    """What one line of code asked of the JVM in one job."""

    calls: int = 0
    seconds: float = 0.0
    sql: int = 0
    spark_jobs: int = 0
    stages: int = 0
    tasks: int = 0
    apis: set[str] = field(default_factory=set)


@dataclass
class JobProfile:
    name: str
    wall_s: float
    jvm_s: float = 0.0
    sql: int = 0
    spark_jobs: int = 0
    stages: int = 0
    tasks: int = 0
    sql_s: float = 0.0
    sites: dict[str, Site] = field(default_factory=lambda: defaultdict(Site))


def read_event_log(path: Path) -> tuple[list[dict], list[dict]]:
    """Root SQL executions (with their nested ones' jobs) and Spark jobs (with stages and tasks run), by time."""
    executions: dict[int, dict] = {}
    root_of: dict[int, int] = {}
    spark_jobs: dict[int, dict] = {}
    stage_job: dict[int, int] = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        kind = event["Event"]
        if kind == SQL_START:
            # A query's nested ones (Delta's file listings, a MERGE's phases) count under it: its own start
            # event can come after theirs (it is posted once planning, which ran them, is done).
            execution_id = event["executionId"]
            root = root_of[execution_id] = event.get("rootExecutionId", execution_id)
            moment = event["time"] / 1000
            found = executions.setdefault(root, {"id": root, "start": moment, "end": moment})
            found["start"] = min(found["start"], moment)
        elif kind == SQL_END and root_of.get(event["executionId"]) in executions:
            found = executions[root_of[event["executionId"]]]
            found["end"] = max(found["end"], event["time"] / 1000)
        elif kind == "SparkListenerJobStart":
            sql_id = (event.get("Properties") or {}).get("spark.sql.execution.id")
            spark_jobs[event["Job ID"]] = {
                "start": event["Submission Time"] / 1000,
                "sql": root_of.get(int(sql_id)) if sql_id else None,
                "stages": 0,
                "tasks": 0,
            }
            stage_job.update(dict.fromkeys(event.get("Stage IDs", []), event["Job ID"]))
        elif kind == "SparkListenerStageCompleted":
            info = event["Stage Info"]
            job = spark_jobs.get(stage_job.get(info["Stage ID"]))
            if job is not None and info.get("Submission Time"):  # skipped stages are never submitted
                job["stages"] += 1
                job["tasks"] += info["Number of Tasks"]
    return sorted(executions.values(), key=lambda e: e["start"]), sorted(spark_jobs.values(), key=lambda j: j["start"])


def profile(calls_path: Path, log_path: Path) -> list[JobProfile]:
    recorded = json.loads(calls_path.read_text())
    executions, spark_jobs = read_event_log(log_path)
    calls = sorted(recorded["calls"])
    profiles = [JobProfile(name, end - start) for name, start, end in recorded["jobs"]]
    windows = [(start, end, p) for (_, start, end), p in zip(recorded["jobs"], profiles, strict=True)]

    def job_at(moment: float) -> JobProfile | None:
        return next((p for start, end, p in windows if start <= moment <= end), None)

    def site_at(moment: float) -> str:
        # Event times are whole milliseconds: a call that ended within 2 ms before still counts as the caller.
        found = [c for c in calls if c[0] - 0.002 <= moment <= c[1] + 0.002]
        return found[-1][2] if found else "? (outside any recorded call)"

    for started, ended, site, api in calls:
        job = job_at(started)
        if job is None:
            continue
        job.jvm_s += ended - started
        entry = job.sites[site]
        entry.calls += 1
        entry.seconds += ended - started
        entry.apis.add(api)
    by_execution = {e["id"]: e for e in executions}
    for execution in executions:
        job = job_at(execution["start"])
        if job is None:
            continue
        job.sql += 1
        job.sql_s += execution["end"] - execution["start"]
        job.sites[site_at(execution["start"])].sql += 1
    for spark_job in spark_jobs:
        execution = by_execution.get(spark_job["sql"])
        moment = execution["start"] if execution else spark_job["start"]
        job = job_at(moment)
        if job is None:
            continue
        job.spark_jobs += 1
        job.stages += spark_job["stages"]
        job.tasks += spark_job["tasks"]
        site = job.sites[site_at(moment)]
        site.spark_jobs += 1
        site.stages += spark_job["stages"]
        site.tasks += spark_job["tasks"]
    return profiles


def render(profiles: list[JobProfile], detail: bool = True) -> str:
    lines = [
        "| job | wall s | in JVM s | in SQL s | SQL executions | Spark jobs | stages | tasks |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in profiles:
        lines.append(
            f"| {p.name} | {p.wall_s:.1f} | {p.jvm_s:.1f} | {p.sql_s:.1f} | {p.sql} | {p.spark_jobs} | {p.stages} "
            f"| {p.tasks} |"
        )
    seconds = [sum(getattr(p, k) for p in profiles) for k in ("wall_s", "jvm_s", "sql_s")]
    counts = [sum(getattr(p, k) for p in profiles) for k in ("sql", "spark_jobs", "stages", "tasks")]
    lines.append("| all | " + " | ".join([f"{x:.1f}" for x in seconds] + [str(x) for x in counts]) + " |")
    if detail:
        for p in profiles:
            if not p.sites:
                continue
            lines += ["", f"{p.name}: per line of code (JVM calls of 1 ms or more)", ""]
            lines += [
                "| line | calls | s | SQL | jobs | stages | tasks | called |",
                "|---|---:|---:|---:|---:|---:|---:|---|",
            ]
            for site, s in sorted(p.sites.items(), key=lambda kv: -kv[1].seconds):
                if s.seconds < 0.05 and not s.sql and not s.spark_jobs:
                    continue
                lines.append(
                    f"| {site} | {s.calls} | {s.seconds:.2f} | {s.sql} | {s.spark_jobs} | {s.stages} | {s.tasks} "
                    f"| {', '.join(sorted(s.apis))[:80]} |"
                )
    return "\n".join(lines)


def run_workflow(
    lake: Path, label: str, events: Path | None = None, calls: Path | None = None, code: Path | None = None
) -> float:
    """One workflow run in a child process; its wall time. With `events`, profiled (see `child`); with `code`,
    the lakekit/ and transforms/ of that tree instead of this one's."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    if events is not None:
        env["LAKE_EVENT_LOG_DIR"] = str(events)
        argv = [sys.executable, str(Path(__file__).resolve()), "--child", str(lake), str(calls)]
    else:
        argv = [str(Path(sys.executable).parent / "lake"), "workflow", "run", "campaign", "--lake-root", str(lake)]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:])
        raise SystemExit(f"{label} failed with exit code {done.returncode}")
    for line in done.stdout.splitlines():
        if line.startswith("[") and ("done in" in line or "version" in line or "rows to" in line):
            print(f"   {line}")
    print(f"-- {label}: {elapsed:.1f}s whole process", flush=True)
    return elapsed


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def compare(work: Path, lake: Path, old: Path, pairs: int) -> None:
    """Incremental 1 on the same lake, from the same state, with the code in `old` (A) and this checkout's (B):
    each profiled once, then `pairs` A/B pairs of plain runs, interleaved, with the load average around each."""
    base = work / "lake-after-full-load"
    shutil.rmtree(base, ignore_errors=True)
    shutil.copytree(lake, base, symlinks=True)

    def fresh() -> None:
        shutil.rmtree(lake)
        shutil.copytree(base, lake, symlinks=True)  # the same path: the metastore's locations stay right
        shutil.copytree(work / "incr01" / "landing", lake / "landing", dirs_exist_ok=True)

    sides = {"A (before)": old, "B (this checkout)": None}
    for side, code in sides.items():
        fresh()
        events = work / f"events-compare-{side[0]}"
        shutil.rmtree(events, ignore_errors=True)
        calls = work / f"calls-compare-{side[0]}.json"
        wall = run_workflow(lake, f"{side}, profiled", events, calls, code)
        (log,) = events.iterdir()
        print(f"\n{side}: incremental 1, {wall:.1f}s whole process (profiled)\n")
        print(render(profile(calls, log), detail=False) + "\n", flush=True)
    walls: dict[str, list[float]] = {side: [] for side in sides}
    for number in range(1, pairs + 1):
        for side, code in sides.items():
            fresh()
            before = load_average()
            walls[side].append(run_workflow(lake, f"pair {number} {side}", code=code))
            print(f"   load average before {before}, after {load_average()}", flush=True)
    for side, values in walls.items():
        ordered = sorted(values)
        print(f"{side}: {', '.join(f'{v:.1f}' for v in values)} s; median {ordered[len(ordered) // 2]:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("SCALE") or "0.1"))
    parser.add_argument("--runs", type=int, default=2, help="incremental runs profiled, one after another")
    parser.add_argument("--brief", action="store_true", help="per job only, not per line of code")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="TREE",
        help="A/B: incremental 1 with the lakekit/ of TREE (an older checkout) against this one's, interleaved",
    )
    parser.add_argument("--pairs", type=int, default=3, help="with --compare: A/B pairs of timed runs")
    parser.add_argument("--child", nargs=2, metavar=("LAKE", "CALLS"), help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.child:
        child(ns.child[0], Path(ns.child[1]))
        return
    work = BENCH / ".work" / f"actions-{ns.scale}"
    generate(work, ns.scale, ns.runs)
    lake = work / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    lake.mkdir()
    shutil.copytree(work / "full" / "landing", lake / "landing", dirs_exist_ok=True)
    run_workflow(lake, "full load")
    if ns.compare:
        compare(work, lake, ns.compare.resolve(), ns.pairs)
        return
    for number in range(1, ns.runs + 1):
        shutil.copytree(work / f"incr{number:02d}" / "landing", lake / "landing", dirs_exist_ok=True)
        events = work / f"events-{number:02d}"
        shutil.rmtree(events, ignore_errors=True)
        calls = work / f"calls-{number:02d}.json"
        what = "realistic 1% + 10 campaigns' deadlines" if number == 1 else "realistic 1%"
        wall = run_workflow(lake, f"incremental {number} ({what})", events, calls)
        (log,) = events.iterdir()
        print(f"\nincremental {number} ({what}), scale {ns.scale}: {wall:.1f}s whole process\n")
        print(render(profile(calls, log), detail=not ns.brief))
        print(flush=True)


if __name__ == "__main__":
    main()
