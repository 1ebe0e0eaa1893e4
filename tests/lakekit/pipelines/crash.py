"""What the crash matrices share: traced reference runs, a `lake job run` killed at a failpoint, and the lake's state.

A matrix learns the failpoints of a pipeline from an uninterrupted run (LAKE_FAILPOINTS_TRACE), kills
a `lake job run` subprocess of each point's job there (SIGKILL), reruns in this process and compares what
the rerun leaves with the uninterrupted run: tables, state documents, quarantine, locks, DynamoDB items.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from lakekit.catalog.metastore import registered_location, same_location
from lakekit.catalog.model import all_tables
from lakekit.catalog.serving import load_serving_table
from lakekit.core.settings import load_settings
from lakekit.core.state import StateStore
from lakekit.sinks.dynamodb import ensure_table
from tests.helpers import run_job
from tests.lakekit.pipelines.test_campaign_exactly_once import LAKE_CLI, MAIN

# A pipeline's steps: (job, its arguments), in workflow order.
Steps = list[tuple[str, dict[str, str]]]


def traced(trace: Path, run: Callable[[], None]) -> list[str]:
    """Run `run` in this process; the failpoints it passed, first pass of each, in order."""
    os.environ["LAKE_FAILPOINTS_TRACE"] = str(trace)
    try:
        run()
    finally:
        del os.environ["LAKE_FAILPOINTS_TRACE"]
    return list(dict.fromkeys(trace.read_text().split()))


def run_steps(lake_root: str, steps: Steps, before: str | None = None) -> None:
    """Run the steps in this process, in order; with `before`, only those ahead of that job's first step."""
    for job, args in steps:
        if job == before:
            return
        run_job(lake_root, job, **args)


def point_job(point: str) -> str:
    return point.split("/", 1)[0]


def point_kind(point: str) -> str:
    """A point's name without its job and detail (`job/delta.after_merge:curated.orders`: `delta.after_merge`)."""
    return point.split("/", 1)[1].split(":", 1)[0]


def case_point(points: list[str], index: int, what: str) -> str:
    """The point of a parametrized case: one case per point, the slots beyond the number of points skipped
    (a matrix learns its points only once its reference ran)."""
    if index >= len(points):
        pytest.skip(f"{what} has {len(points)} failpoints")
    return points[index]


def kill_at(lake_root: str, point: str, args: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`lake job run JOB` of the point's job, in a subprocess killed (SIGKILL) at the point."""
    env = {k: v for k, v in os.environ.items() if k not in ("LAKE_FAILPOINTS", "LAKE_FAILPOINTS_TRACE")}
    env.update({"LAKE_FAILPOINTS": point, "LAKE_SPARK_LOG_LEVEL": "ERROR"})
    argv = [str(LAKE_CLI), "job", "run", point_job(point), "--lake-root", lake_root]
    argv += [a for key, value in (args or {}).items() for a in ("--arg", f"{key}={value}")]
    return subprocess.run(argv, env=env, cwd=MAIN, capture_output=True, text=True, timeout=900, check=False)


def assert_killed_at(killed: subprocess.CompletedProcess, point: str) -> None:
    output = f"stdout:\n{killed.stdout[-3000:]}\nstderr:\n{killed.stderr[-3000:]}"
    assert killed.returncode == -signal.SIGKILL, f"{point}: exit {killed.returncode}\n{output}"
    assert f"failpoint {point}: killing this process" in killed.stdout, output


def kill_then_rerun(lake_root: str, point: str, steps: Steps, run_earlier: bool = True) -> None:
    """The jobs ahead of the point's job (unless the lake is already where they leave it), then that job
    killed at the point, then every step again."""
    job = point_job(point)
    if run_earlier:
        run_steps(lake_root, steps, before=job)
    assert_killed_at(kill_at(lake_root, point, dict(steps)[job]), point)
    run_steps(lake_root, steps)


def traced_starts(root: Path, steps: Steps, trace: Path, stage: str, extra=dict) -> tuple[list[str], dict]:
    """Run the steps in this process, traced: their failpoints, and where each job started (the lake saved
    before it, and whatever `extra()` adds, e.g. DynamoDB's items) for its cases to start from."""
    starts = {}

    def run() -> None:
        for job, args in steps:
            starts[job] = {"lake": save(root, f"{stage}-{job}"), **extra()}
            run_job(str(root), job, **args)

    return traced(trace, run), starts


def save(root: Path, name: str) -> Path:
    """A copy of the lake at `root` to start cases from (see restore)."""
    saved = root.parent / f"saved-{name}"
    shutil.copytree(root, saved)
    return saved


def restore(spark, saved: Path, root: Path) -> str:
    """The lake at `root` put back as `saved` holds it. At the same path: a streaming checkpoint records the
    absolute paths of the files it read. What this session knows of the lake there is forgotten: Delta's
    cached table logs (a table may now be older) and the tables registered there (they may not exist)."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(saved, root)
    spark._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()
    metastore = spark._jsparkSession.sharedState().externalCatalog()
    for table in all_tables():  # registered at this lake root, they may not exist in the lake put back
        if same_location(registered_location(spark, table.layer, table.name), table.location_under(str(root))):
            metastore.dropTable(table.layer, table.name, True, False)
    spark._jsparkSession.sessionState().catalog().invalidateAllCachedTables()
    return str(root)


def assert_same_lake(actual: dict, expected: dict, point: str) -> None:
    """Two snapshots ({part: value}, a part of "tables" being {table: rows}) equal, naming the first difference."""
    assert sorted(actual) == sorted(expected), point
    for part, value in expected.items():
        if part == "tables":
            for name, rows in value.items():
                assert actual[part][name] == rows, f"{point}: {name}"
        else:
            assert actual[part] == value, f"{point}: {part}"


def state_documents(lake_root: str, kinds=("bookmarks", "exports"), leave_out=("updated_at",)) -> dict[str, dict]:
    """Every state document of these kinds (_state/<kind>/<name>.json), the `leave_out` fields left out."""
    settings = load_settings("local", lake_root)
    found = {}
    for kind in kinds:
        store = StateStore(settings, kind)
        for job in store.jobs():
            document = store.load(job)
            found[f"{kind}/{job}"] = {k: v for k, v in document.items() if k not in leave_out}
    return found


def quarantine_records(lake_root: str) -> list[str]:
    """Every quarantined line (its quarantine time left out) with the file holding it, as canonical JSON, sorted.

    A file Spark named (part-…) is known by its folder: its name changes from run to run."""
    root = Path(lake_root) / "quarantine"
    records = []
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".json", ".jsonl")):
        where = path.parent if path.name.startswith("part-") else path
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                record.pop("quarantined_at", None)
                records.append(json.dumps({"file": str(where.relative_to(root)), **record}, sort_keys=True))
    return sorted(records)


def locks(lake_root: str) -> list[str]:
    return sorted(p.name for p in (Path(lake_root) / "_state" / "locks").glob("*.lock"))


def checkpoint_commits(lake_root: str) -> dict[str, list[str]]:
    """The micro-batches each streaming query's checkpoint records as committed: {job/stream: batch ids}."""
    found = {}
    for commits in sorted((Path(lake_root) / "_state" / "checkpoints").glob("*/*/commits")):
        key = f"{commits.parent.parent.name}/{commits.parent.name}"
        found[key] = sorted(p.name for p in commits.iterdir() if p.name.isdigit())
    return found


def reset_moto(endpoint: str) -> None:
    """Every table of the moto_server gone, as on a fresh server."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).read()


def dynamodb_items(endpoint: str, leave_out=()) -> dict[str, list[str]]:
    """Every item of every DynamoDB table (the `leave_out` attributes left out), as canonical JSON, sorted."""
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    found = {}
    for table in client.list_tables()["TableNames"]:
        items = []
        for page in client.get_paginator("scan").paginate(TableName=table):
            items += [{k: v for k, v in item.items() if k not in leave_out} for item in page["Items"]]
        found[table] = sorted(json.dumps(item, sort_keys=True) for item in items)
    return found


def restore_dynamodb(endpoint: str, items: dict[str, list[str]]) -> None:
    """The moto_server holding exactly these tables (declared in catalog/serving/) and items (dynamodb_items)."""
    reset_moto(endpoint)
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    for table, rows in items.items():
        ensure_table(client, load_serving_table(table), create=True)
        for row in rows:
            client.put_item(TableName=table, Item=json.loads(row))
