"""Where a Spark application spent its time, from its event log: its SQL queries, longest first.

Run a workflow with event logging on (LAKE_EVENT_LOG_DIR=DIR, read by lakekit.core.session), then:
python -m bench.eventlog DIR/<app-id> [--top 25]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

SQL_START = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart"
SQL_END = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd"


@dataclass
class Query:
    execution_id: int
    description: str
    start_ms: int
    end_ms: int = 0
    jobs: list[int] = field(default_factory=list)
    tasks: int = 0
    shuffle_read: int = 0
    shuffle_write: int = 0

    @property
    def seconds(self) -> float:
        return (self.end_ms - self.start_ms) / 1000


def read(path: Path) -> tuple[float, list[Query], int]:
    """Application seconds, the SQL queries in start order (with their jobs, tasks and shuffle), and the job count."""
    queries: dict[int, Query] = {}
    job_query: dict[int, int | None] = {}
    stage_query: dict[int, int] = {}
    app = [0, 0]
    shuffle = defaultdict(lambda: [0, 0, 0])
    for line in path.read_text().splitlines():
        event = json.loads(line)
        kind = event["Event"]
        if kind == "SparkListenerApplicationStart":
            app[0] = event["Timestamp"]
        elif kind == "SparkListenerApplicationEnd":
            app[1] = event["Timestamp"]
        elif kind == SQL_START:
            text = event.get("description") or event.get("details", "").splitlines()[0]
            queries[event["executionId"]] = Query(event["executionId"], " ".join(text.split())[:110], event["time"])
        elif kind == SQL_END and event["executionId"] in queries:
            queries[event["executionId"]].end_ms = event["time"]
        elif kind == "SparkListenerJobStart":
            sql_id = (event.get("Properties") or {}).get("spark.sql.execution.id")
            job_query[event["Job ID"]] = int(sql_id) if sql_id else None
            if sql_id:
                stage_query.update(dict.fromkeys(event.get("Stage IDs", []), int(sql_id)))
            if job_query[event["Job ID"]] in queries:
                queries[int(sql_id)].jobs.append(event["Job ID"])
        elif kind == "SparkListenerTaskEnd":
            metrics = event.get("Task Metrics") or {}
            counts = shuffle[event["Stage ID"]]
            counts[0] += 1
            counts[1] += (metrics.get("Shuffle Read Metrics") or {}).get("Remote Bytes Read", 0) + (
                metrics.get("Shuffle Read Metrics") or {}
            ).get("Local Bytes Read", 0)
            counts[2] += (metrics.get("Shuffle Write Metrics") or {}).get("Shuffle Bytes Written", 0)
    for stage, (tasks, read_bytes, written) in shuffle.items():
        query = queries.get(stage_query.get(stage))
        if query:
            query.tasks += tasks
            query.shuffle_read += read_bytes
            query.shuffle_write += written
    return (app[1] - app[0]) / 1000, sorted(queries.values(), key=lambda q: q.start_ms), len(job_query)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("log", type=Path)
    parser.add_argument("--top", type=int, default=25)
    ns = parser.parse_args()
    app_s, queries, jobs = read(ns.log)
    print(f"application {app_s:.1f}s, {len(queries)} SQL queries, {jobs} jobs")
    print(f"{'s':>6} {'at':>6} {'jobs':>4} {'tasks':>5} {'shuf MiB':>8}  query")
    first = queries[0].start_ms if queries else 0
    for q in sorted(queries, key=lambda q: -q.seconds)[: ns.top]:
        print(
            f"{q.seconds:6.2f} {(q.start_ms - first) / 1000:6.1f} {len(q.jobs):4d} {q.tasks:5d} "
            f"{(q.shuffle_read + q.shuffle_write) / 2**20:8.1f}  {q.description}"
        )


if __name__ == "__main__":
    main()
