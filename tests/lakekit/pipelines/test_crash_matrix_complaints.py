"""Kill -9 at every failpoint of the complaints pipeline, rerun, and check nothing was lost, doubled or changed.

Built as test_crash_matrix_campaign.py is (points from a traced reference run, tests/lakekit/pipelines/crash.py): the
sample complaints served by the local CFPB-shaped API on a moto_server (DynamoDB), in two stages: the first
run (two windows of three days, pages of three hits, two hits quarantined, curated.complaints' first load, the
first items), then a later run resuming after the ledger's last window (two pages: new complaints, and one
complaint served again with a corrected date_received: the MERGE updates it and moves it to its new partition,
its item is rewritten). A rerun of
ingest_complaints fetches again what the killed run had not recorded in its window ledger, so a page may be
landed twice (each landing file names its fetch time): raw cannot equal the uninterrupted run's. What must
hold instead: every page the uninterrupted run landed is landed, and every landing file is in raw.complaints
exactly once with the hits of its page; the ingestion bookmark lists exactly the landing files with their
hits, the curated one exactly the raw files; each landing file's rejected hits are quarantined once, as the
uninterrupted run quarantined its page's; the window ledger, curated.complaints and the DynamoDB items equal
the uninterrupted run's but for fetch times, and each complaint's fetched_at is its latest fetch in raw, in
curated and in its item; the loader's bookmark is the uninterrupted run's; no lock is left. Part of
`make test-crash`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakekit.pipelines.complaints import CURATED_TABLE, INGEST_JOB, RAW_TABLE, SOURCE
from scripts.samples.complaints import CFPB_DEMO_ARGS, cfpb_source
from tests.helpers import read_table
from tests.lakekit.pipelines.crash import (
    case_point,
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
from tests.lakekit.pipelines.test_complaints import FAST, SAMPLE_SOURCES
from tests.servers import start_cfpb_api, stop

pytestmark = [pytest.mark.crash, pytest.mark.slow]

INGEST_KINDS = {
    "ledger.after_start",
    "landing.after_write",
    "ledger.after_page",
    "ledger.after_done",
    "parquet.before_publish",
    "parquet.mid_publish",
    "parquet.after_publish",
    "bookmark.after_write",
    "curated.after_quarantine",
    "dynamodb.before_batch",
    "dynamodb.after_batch",
}
EXPECTED_KINDS = {
    "first": INGEST_KINDS | {"delta.before_first_load", "delta.after_first_load"},
    "later": INGEST_KINDS | {"delta.before_merge", "delta.after_merge"},
}
# The later run's hits (date_received 2024-05-07 to 05-09, after the first run's windows): two new complaints,
# and 8915310 (received 2024-05-02 in the first run) served again with a corrected date and a new response.
LATER_SOURCES = [
    cfpb_source("8941001", "2024-05-07"),
    cfpb_source("8915310", "2024-05-08", company_response="Closed with monetary relief"),
    cfpb_source("8950777", "2024-05-09", company="TRANSUNION INTERMEDIATE HOLDINGS, INC.", state="NY"),
]
LATER_ARGS = {"end": "2024-05-09", "window_days": "3", "page_size": "2"}  # start: after the ledger's last window
# When and from which landing file a row was loaded: they differ when a page is fetched again.
LOAD_COLUMNS = {"_fetched_at", "_source_file", "_ingested_at", "p_date"}


@pytest.fixture(scope="module")
def steps():
    """Each stage's steps. The API serves both stages' hits: each run asks only for its own windows."""
    api = start_cfpb_api()
    api.complaints = [dict(s) for s in SAMPLE_SOURCES + LATER_SOURCES]
    later = {k: v for k, v in CFPB_DEMO_ARGS.items() if k != "start"} | LATER_ARGS
    yield {
        stage: [
            (INGEST_JOB, {"url": api.url, **args, **FAST}),
            ("curated_complaints", {}),
            ("load_complaints_dynamodb", {}),
        ]
        for stage, args in (("first", CFPB_DEMO_ARGS), ("later", later))
    }
    stop(api)


def landed(lake_root: str) -> dict[str, str]:
    """Every landing file (its key in the ingestion bookmark, p_date=…/name.json): the page it holds."""
    folder = Path(lake_root, "landing", SOURCE)
    return {f"{p.parent.name}/{p.name}": p.read_text() for p in sorted(folder.glob("p_date=*/*.json"))}


def pages(spark, lake_root: str) -> dict[str, dict]:
    """By landing file: its page, its raw rows (load columns left out) and its quarantined hits (source left out)."""
    found = {key: {"page": page, "rows": [], "rejects": []} for key, page in landed(lake_root).items()}
    raw_df = read_table(spark, lake_root, RAW_TABLE)
    for row in raw_df.collect():
        key = row["_source_file"].split("/", 2)[2]
        record = {k: v for k, v in row.asDict(recursive=True).items() if k not in LOAD_COLUMNS}
        found.setdefault(key, {"page": None, "rows": [], "rejects": []})["rows"].append(json.dumps(record, default=str))
    for text in quarantine_records(lake_root):
        record = json.loads(text)
        key = record.pop("source").split("/", 2)[2]
        record.pop("file")
        found.setdefault(key, {"page": None, "rows": [], "rejects": []})["rejects"].append(json.dumps(record))
    return {k: {**v, "rows": sorted(v["rows"]), "rejects": sorted(v["rejects"])} for k, v in found.items()}


def fetch_times(spark, lake_root: str, endpoint: str) -> dict[str, tuple]:
    """Each complaint's latest fetch in raw, and its fetched_at in curated and in its DynamoDB item."""
    raw_df = read_table(spark, lake_root, RAW_TABLE).filter(F.col("complaint_id").rlike("^[0-9]+$"))
    latest = raw_df.groupBy("complaint_id").agg(F.max("_fetched_at").alias("at")).collect()
    curated = read_table(spark, lake_root, CURATED_TABLE).select("complaint_id", "fetched_at").collect()
    items = {}
    for table in dynamodb_items(endpoint).values():
        for item in map(json.loads, table):
            items[item["complaint_id"]["N"]] = item["fetched_at"]["S"]
    return {
        "raw": {r["complaint_id"]: r["at"] for r in latest},
        "curated": {str(r["complaint_id"]): r["fetched_at"] for r in curated},
        "items": items,
    }


def assert_each_fetch_time_is_the_latest(times: dict) -> None:
    assert times["curated"] == {k: v for k, v in times["raw"].items() if k in times["curated"]}
    assert times["items"] == {k: v.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for k, v in times["curated"].items()}


def snapshot(spark, lake_root: str, endpoint: str) -> dict:
    """What must equal the uninterrupted run's (pages checked separately)."""
    ledger = state_documents(lake_root, ("ledgers",))[f"ledgers/{INGEST_JOB}"]
    windows = {k: {f: v for f, v in w.items() if f != "fetched_at"} for k, w in ledger["windows"].items()}
    marks = state_documents(lake_root)
    return {
        "windows": windows,
        "curated": table_rows(spark, lake_root, CURATED_TABLE, leave_out={"fetched_at"}),
        "dynamodb": dynamodb_items(endpoint, leave_out=("fetched_at",)),
        "load bookmark": marks["bookmarks/load_complaints_dynamodb"],
        "locks": locks(lake_root),
    }


@pytest.fixture(scope="module")
def references(spark, moto_module, steps, tmp_path_factory):
    """Each stage's workflow run uninterrupted, the later one at its own root from where the first ended: where
    each job starts (lake and DynamoDB), its failpoints, what it leaves."""
    base = tmp_path_factory.mktemp("complaints_crash")
    (base / "first").mkdir()

    def items() -> dict:
        return {"dynamodb": dynamodb_items(moto_module.endpoint)}

    found = {}
    for stage, previous in (("first", None), ("later", "first")):
        root = base / stage / "lake"
        if previous:
            shutil.copytree(base / previous / "lake", root)
        else:
            root.mkdir()
        points, starts = traced_starts(root, steps[stage], base / f"{stage}.trace", stage, items)
        assert_each_fetch_time_is_the_latest(fetch_times(spark, str(root), moto_module.endpoint))
        found[stage] = {
            "root": root,
            "starts": starts,
            "points": points,
            "pages": {p["page"]: p for p in pages(spark, str(root)).values()},
            "snapshot": snapshot(spark, str(root), moto_module.endpoint),
        }
    return found


def test_the_reference_runs_pass_every_kind_of_failpoint_quarantine_two_hits_and_move_one_complaint(spark, references):
    for stage, kinds in EXPECTED_KINDS.items():
        passed = {point_kind(p) for p in references[stage]["points"]}
        assert kinds <= passed, f"{stage}: {sorted(kinds - passed)} not passed"
    first, later = references["first"], references["later"]
    assert (len(first["pages"]), len(later["pages"])) == (3, 5)  # the later run landed two pages
    assert sum(len(p["rejects"]) for p in later["pages"].values()) == 2  # the first run's two, none later
    rows = {stage: [json.loads(r) for r in references[stage]["snapshot"]["curated"]] for stage in references}
    moved = {
        s: [(r["date_received"], r["company_response"]) for r in rows[s] if r["complaint_id"] == 8915310] for s in rows
    }
    assert moved == {
        "first": [("2024-05-02", "Closed with explanation")],
        "later": [("2024-05-08", "Closed with monetary relief")],
    }
    for stage, complaints in (("first", 5), ("later", 7)):
        [items] = references[stage]["snapshot"]["dynamodb"].values()
        assert len(items) == len(references[stage]["snapshot"]["curated"]) == complaints, stage


@pytest.mark.parametrize(("stage", "index"), [(s, i) for s in ("first", "later") for i in range(18)])
def test_a_kill_at_every_complaints_failpoint_then_a_rerun_lose_double_and_change_nothing(
    spark, moto_module, steps, references, stage, index
):
    reference = references[stage]
    point = case_point(reference["points"], index, f"the complaints workflow's {stage} run")
    start = reference["starts"][point_job(point)]
    lake = Path(restore(spark, start["lake"], reference["root"]))
    restore_dynamodb(moto_module.endpoint, start["dynamodb"])
    kill_then_rerun(str(lake), point, steps[stage], run_earlier=False)

    found = pages(spark, str(lake))
    assert {p["page"] for p in found.values()} == set(reference["pages"]), point  # no page lost
    for key, page in found.items():  # every landing file in raw once, with its page's hits and rejects
        assert page == reference["pages"][page["page"]], f"{point}: {key}"
    marks = state_documents(str(lake))
    ingested = marks[f"bookmarks/{INGEST_JOB}"]["position"]["files"]
    # Each landing file with its page's hit count; none quarantined at landing (hits are checked in curated).
    assert ingested == {
        key: {"rows": len(json.loads(p["page"])["hits"]["hits"]), "quarantined": 0} for key, p in found.items()
    }, point
    raw_files = marks["bookmarks/curated_complaints"]["position"]["files"]
    assert sorted(f.split("/")[1].rsplit("-", 1)[0] for f in raw_files) == sorted(
        k.split("/")[1][: -len(".json")] for k in found
    ), point
    assert snapshot(spark, str(lake), moto_module.endpoint) == reference["snapshot"], point
    assert_each_fetch_time_is_the_latest(fetch_times(spark, str(lake), moto_module.endpoint))
