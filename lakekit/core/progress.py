"""Progress inside a long step: Spark's tasks done of total and the time spent, live on a terminal
(rich), as timestamped plain lines otherwise (logs, CI, Glue's CloudWatch)."""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO


@dataclass(frozen=True)
class Snapshot:
    """Where the step's Spark work stands: tasks of its stages done and in all, the stage running."""

    done: int
    total: int
    jobs: int
    stage: str


def snapshot(spark, group: str) -> Snapshot | None:
    """The tasks of the Spark jobs of `group` so far (None before the first job starts)."""
    tracker = spark.sparkContext.statusTracker()
    done = total = 0
    stage_name = ""
    job_ids = tracker.getJobIdsForGroup(group)
    for job_id in job_ids:
        job = tracker.getJobInfo(job_id)
        for stage_id in job.stageIds if job else []:
            stage = tracker.getStageInfo(stage_id)
            if stage is None:
                continue
            done += stage.numCompletedTasks
            total += stage.numTasks
            if stage.numActiveTasks:
                stage_name = stage.name
    return Snapshot(done, total, len(job_ids), stage_name) if job_ids else None


def _interval() -> float:
    return float(os.environ.get("LAKE_PROGRESS_SECONDS") or 15)


@contextmanager
def spark_progress(spark, label: str, out: TextIO | None = None, interval: float | None = None) -> Iterator[None]:
    """Show the progress of the Spark work done inside the block, labelled `label`.

    On a terminal, a live line (rich) with the tasks done of total and the time elapsed, gone when the
    block ends; otherwise, every `interval` seconds (LAKE_PROGRESS_SECONDS, default 15) while Spark
    works, a line `2026-11-20T06:00:15Z [label] 12/40 Spark tasks (3 jobs), 15s`.
    """
    out = out or sys.stdout
    group = f"lake-{label}-{uuid.uuid4().hex[:8]}"
    context = spark.sparkContext
    context.setJobGroup(group, label, interruptOnCancel=False)
    stop = threading.Event()
    started = time.monotonic()
    live = out.isatty() and not os.environ.get("LAKE_NO_LIVE")
    worker = threading.Thread(
        target=_live if live else _lines,
        args=(spark, group, label, out, stop, started, interval or _interval()),
        daemon=True,
    )
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=5)
        context.setLocalProperty("spark.jobGroup.id", None)
        context.setLocalProperty("spark.job.description", None)


def _lines(spark, group, label, out, stop, started, interval) -> None:
    while not stop.wait(interval):
        try:
            state = snapshot(spark, group)
        except Exception:  # the session is stopping: nothing more to report
            return
        if state is None or not state.total:
            continue  # no stage submitted yet
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(
            f"{stamp} [{label}] {state.done}/{state.total} Spark tasks ({state.jobs} job{'s' * (state.jobs != 1)}), "
            f"{time.monotonic() - started:.0f}s",
            file=out,
            flush=True,
        )


def _live(spark, group, label, out, stop, started, interval) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(file=out)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("Spark tasks {task.fields[stage]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None, stage="")
        while not stop.wait(0.5):
            try:
                state = snapshot(spark, group)
            except Exception:
                return
            if state is not None:
                bar.update(task, completed=state.done, total=state.total, stage=state.stage[:40])
