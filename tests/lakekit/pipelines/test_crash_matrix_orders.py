"""Kill -9 at every failpoint of the orders pipeline, rerun, and compare with an uninterrupted run.

Built as test_crash_matrix_campaign.py is (points from a traced reference run, tests/lakekit/pipelines/crash.py).
Two stages, the landed events of test_orders.py: the first run into an empty lake (raw_events' micro-batch:
publish, quarantine, its state and Spark's commit; the first load of the four curated tables), then a second
file of events (the MERGE of each table, with an order moving day and a line removed; raw_events' points are
the first stage's again). After the kill and a rerun of the workflow the lake holds exactly what the
uninterrupted run left: the five tables (load times aside), the bookmark, the stream's state and checkpoint
commits, the quarantine and no lock. Part of `make test-crash`.
"""

from __future__ import annotations

import json

import pytest

from lakekit.pipelines.orders import CURATED_TABLES, RAW_TABLE
from tests.lakekit.pipelines.crash import (
    assert_same_lake,
    case_point,
    checkpoint_commits,
    kill_then_rerun,
    locks,
    point_job,
    point_kind,
    quarantine_records,
    restore,
    state_documents,
    traced_starts,
)
from tests.lakekit.pipelines.test_campaign_exactly_once import table_rows
from tests.lakekit.pipelines.test_orders import land_run_1, land_run_2

pytestmark = [pytest.mark.crash, pytest.mark.slow]

STEPS = [("raw_events", {"stream": "orders"}), ("curated_orders", {})]
TABLES = [RAW_TABLE, *CURATED_TABLES]
# Kinds of point each stage must pass, so a failpoint removed or renamed shows up here.
EXPECTED_KINDS = {
    "first": {
        "stream.before_publish",
        "parquet.mid_publish",
        "parquet.after_publish",
        "stream.after_publish.batch=0",
        "stream.before_commit",
        "stream.after_commit",
        "delta.before_first_load",
        "delta.after_first_load",
        "bookmark.after_write",
    },
    "later": {"delta.before_merge", "delta.after_merge", "bookmark.after_write"},
}


def snapshot(spark, lake_root: str) -> dict:
    return {
        "tables": {name: table_rows(spark, lake_root, name, leave_out={"_ingested_at"}) for name in TABLES},
        "state": state_documents(lake_root, ("bookmarks", "streams"), leave_out=("updated_at", "at")),
        "checkpoints": checkpoint_commits(lake_root),
        "quarantine": quarantine_records(lake_root),
        "locks": locks(lake_root),
    }


@pytest.fixture(scope="module")
def stages(spark, tmp_path_factory):
    """Both stages run uninterrupted in one lake: where each job of each starts, their failpoints and what
    the stage leaves."""
    base = tmp_path_factory.mktemp("orders_crash")
    root = base / "lake"
    found = {"root": root}
    for stage, land in (("first", land_run_1), ("later", land_run_2)):
        land(str(root))
        points, starts = traced_starts(root, STEPS, base / f"{stage}.trace", stage)
        found[stage] = {"starts": starts, "points": points, "snapshot": snapshot(spark, str(root))}
    return found


def test_the_reference_runs_pass_every_kind_of_failpoint_and_merge_all_four_tables(stages):
    for stage, kinds in EXPECTED_KINDS.items():
        passed = {point_kind(p) for p in stages[stage]["points"]}
        assert kinds <= passed, f"{stage}: {sorted(kinds - passed)} not passed"
    merged = {p.split(":", 1)[1] for p in stages["later"]["points"] if point_kind(p) == "delta.after_merge"}
    assert merged == set(CURATED_TABLES)
    [bad] = [json.loads(r) for r in stages["first"]["snapshot"]["quarantine"]]
    assert (bad["file"], bad["text"]) == ("raw_events/stream=orders/batch=0", "not json at all")


def kill_points(stages: dict, stage: str) -> list[str]:
    points = stages[stage]["points"]
    return [p for p in points if point_job(p) != "raw_events"] if stage == "later" else points


# Cases per stage: an upper bound on its failpoints, known only once the reference ran (extra ones skip).
_CASES = [("first", 16), ("later", 10)]


@pytest.mark.parametrize(("stage", "index"), [(s, i) for s, n in _CASES for i in range(n)])
def test_a_kill_at_every_orders_failpoint_then_a_rerun_match_an_uninterrupted_run(spark, stages, stage, index):
    point = case_point(kill_points(stages, stage), index, stage)
    lake = restore(spark, stages[stage]["starts"][point_job(point)]["lake"], stages["root"])
    kill_then_rerun(lake, point, STEPS, run_earlier=False)
    assert_same_lake(snapshot(spark, lake), stages[stage]["snapshot"], point)
