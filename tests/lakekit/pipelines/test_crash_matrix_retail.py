"""Kill -9 at every failpoint of the retail pipeline's curated and DynamoDB jobs, rerun, compare with an
uninterrupted run.

Built as test_crash_matrix_campaign.py is (points from a traced reference run, tests/lakekit/pipelines/crash.py), on
the events of test_retail.py and a moto_server. Two stages: the sample's events into an empty lake (the
quarantine, the first load of the three curated tables, the first items of Customers and Invoices), then the
second batch of test_retail.py (the MERGE of each table, items updated, moved and deleted). raw_events' points
(stream=retail) are the job and code the orders matrix kills, so they are not killed again here. After the
kill and a rerun of the workflow the lake holds exactly what the uninterrupted run left (tables, bookmarks,
the stream's state and checkpoint commits, quarantine, no lock) and so do both DynamoDB tables. One thing may
differ: a customer's updated_at is when the curated_retail run that changed it started, and a rerun starts
later; what must hold is that the same customers carry a time of the stage (and the rest an older one), in
curated.retail_customers and in their items, which carry their row's updated_at. Part of `make test-crash`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from lakekit.pipelines.retail import CUSTOMERS_TABLE, INVOICES_TABLE, LINES_TABLE, RAW_TABLE
from scripts.samples.retail import RETAIL_FILE, retail_rows
from tests.helpers import read_table
from tests.lakekit.pipelines.crash import (
    assert_same_lake,
    case_point,
    checkpoint_commits,
    dynamodb_items,
    kill_then_rerun,
    locks,
    point_job,
    point_kind,
    quarantine_records,
    restore,
    restore_dynamodb,
    state_documents,
    traced_starts,
)
from tests.lakekit.pipelines.test_campaign_exactly_once import table_rows
from tests.lakekit.pipelines.test_retail import BATCH_1, BATCH_2, events_from_rows, land, scan, second_batch

pytestmark = [pytest.mark.crash, pytest.mark.slow]

TABLES = (LINES_TABLE, INVOICES_TABLE)  # and CUSTOMERS_TABLE, its update time reduced (see snapshot)
STEPS = [("raw_events", {"stream": "retail"}), ("curated_retail", {}), ("load_retail_dynamodb", {})]
EXPECTED_KINDS = {
    "first": {
        "curated.after_quarantine",
        "delta.before_first_load",
        "delta.after_first_load",
        "bookmark.after_write",
        "dynamodb.before_batch",
        "dynamodb.after_batch",
    },
    "later": {
        "curated.after_quarantine",
        "delta.before_merge",
        "delta.after_merge",
        "bookmark.after_write",
        "dynamodb.before_batch",
        "dynamodb.after_batch",
    },
}


def snapshot(spark, lake_root: str, endpoint: str, started: datetime) -> dict:
    """The lake and DynamoDB, a customer's update time reduced to whether it falls in the stage (after `started`)."""
    in_stage = {"updated_at": F.col("updated_at") >= F.lit(started.replace(tzinfo=None))}
    tables = {n: table_rows(spark, lake_root, n, leave_out={"_ingested_at"}) for n in (RAW_TABLE, *TABLES)}
    tables[CUSTOMERS_TABLE] = table_rows(spark, lake_root, CUSTOMERS_TABLE, leave_out=(), replace=in_stage)
    return {
        "tables": tables,
        "state": state_documents(lake_root, ("bookmarks", "streams"), leave_out=("updated_at", "at")),
        "checkpoints": checkpoint_commits(lake_root),
        "quarantine": quarantine_records(lake_root),
        "locks": locks(lake_root),
        "dynamodb": dynamodb_items(endpoint, leave_out=("updated_at",)),
    }


def assert_items_carry_their_rows_update_time(spark, lake_root: str, endpoint: str) -> None:
    rows = read_table(spark, lake_root, CUSTOMERS_TABLE).select("customer_id", "updated_at").collect()
    expected = {r["customer_id"]: r["updated_at"].strftime("%Y-%m-%dT%H:%M:%SZ") for r in rows}
    assert {i["customer_id"]: i["updated_at"] for i in scan(endpoint, "Customers")} == expected


@pytest.fixture(scope="module")
def stages(spark, moto_module, tmp_path_factory):
    """Both stages run uninterrupted in one lake: when each starts, where each of its jobs starts (lake and
    DynamoDB), their failpoints and what the stage leaves."""
    base = tmp_path_factory.mktemp("retail_crash")
    root = base / "lake"
    first = land(str(root), events_from_rows(retail_rows(), RETAIL_FILE), BATCH_1)
    later, late = second_batch(first)
    endpoint = moto_module.endpoint
    found = {"root": root, "endpoint": endpoint}
    for stage in ("first", "later"):
        if stage == "later":
            land(str(root), later, BATCH_2)
            land(str(root), late, BATCH_1 - timedelta(hours=1))
        at = datetime.now(UTC)
        trace = base / f"{stage}.trace"
        points, starts = traced_starts(root, STEPS, trace, stage, lambda: {"dynamodb": dynamodb_items(endpoint)})
        assert_items_carry_their_rows_update_time(spark, str(root), endpoint)
        found[stage] = {
            "at": at,
            "starts": starts,
            "points": points,
            "snapshot": snapshot(spark, str(root), endpoint, at),
        }
    return found


def test_the_reference_runs_pass_every_kind_of_failpoint_and_load_both_dynamodb_tables(stages):
    for stage, kinds in EXPECTED_KINDS.items():
        passed = {point_kind(p) for p in stages[stage]["points"]}
        assert kinds <= passed, f"{stage}: {sorted(kinds - passed)} not passed"
        loaded = {p.split(":", 1)[1] for p in stages[stage]["points"] if point_kind(p) == "dynamodb.after_batch"}
        assert loaded == {"Customers", "Invoices"}, stage
    first, later = (stages[s]["snapshot"] for s in ("first", "later"))
    assert len(later["quarantine"]) > len(first["quarantine"]) > 0
    assert later["dynamodb"] != first["dynamodb"] and all(first["dynamodb"].values())


def kill_points(stages: dict, stage: str) -> list[str]:
    return [p for p in stages[stage]["points"] if point_job(p) != "raw_events"]


# Cases per stage: an upper bound on its failpoints, known only once the reference ran (extra ones skip).
_CASES = [("first", 14), ("later", 14)]


@pytest.mark.parametrize(("stage", "index"), [(s, i) for s, n in _CASES for i in range(n)])
def test_a_kill_at_every_retail_failpoint_then_a_rerun_match_an_uninterrupted_run(spark, stages, stage, index):
    point = case_point(kill_points(stages, stage), index, stage)
    start = stages[stage]["starts"][point_job(point)]
    lake = restore(spark, start["lake"], stages["root"])
    restore_dynamodb(stages["endpoint"], start["dynamodb"])
    kill_then_rerun(lake, point, STEPS, run_earlier=False)
    actual = snapshot(spark, lake, stages["endpoint"], stages[stage]["at"])
    assert_same_lake(actual, stages[stage]["snapshot"], point)
    assert_items_carry_their_rows_update_time(spark, lake, stages["endpoint"])
