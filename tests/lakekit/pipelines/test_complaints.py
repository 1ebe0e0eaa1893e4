"""The complaints pipeline end to end: a local CFPB-shaped API and moto_server (DynamoDB), the jobs and the CLI."""

from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakekit import cli
from lakekit.catalog.model import load_table
from lakekit.core.settings import load_settings
from lakekit.core.state import WindowLedger
from scripts.samples.complaints import CFPB_DEMO_ARGS, CFPB_PAGES, write_cfpb_samples
from tests.helpers import read_table
from tests.lakekit.pipelines.crash import assert_killed_at, kill_at
from tests.servers import complaint, scan_items, start_cfpb_api, stop

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "samples" / "cfpb"
FAST = {"backoff_seconds": "0.001", "attempts": "3", "timeout_seconds": "5"}
SAMPLE_SOURCES = [hit["_source"] for page in CFPB_PAGES for hit in page["hits"]["hits"]]
NOON = {f"2024-05-0{d}": 1714496400000 + 86_400_000 * d for d in range(1, 8)}  # the API's sort value of each day


@pytest.fixture
def api():
    server = start_cfpb_api()
    yield server
    stop(server)


def lake(lake_root: str, job: str, **args: str) -> int:
    """`lake job run JOB` in this process (the suite's SparkSession); the exit status."""
    argv = ["job", "run", job, "--lake-root", lake_root]
    # The fast retry settings go to the job that fetches: `lake job run` refuses an argument a job does not read.
    for key, value in {**(FAST if job == "ingest_complaints" else {}), **args}.items():
        argv += ["--arg", f"{key}={value}"]
    return cli.main(argv)


def ledger(lake_root: str) -> dict:
    return WindowLedger(load_settings("local", lake_root), "ingest_complaints").entries


def asked(api) -> list[tuple]:
    return [(r["date_received_min"], r["date_received_max"], r.get("search_after"), r["size"]) for r in api.requests]


def landed(lake_root: str) -> list[Path]:
    return sorted(Path(lake_root, "landing", "cfpb").rglob("*.json"))


def fetch_time(path: Path) -> str:
    return datetime.strptime(path.name[:22], "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC).isoformat()


def test_ingest_pages_each_window_with_search_after_and_keeps_a_ledger(spark, lake_root, api, capsys):
    api.complaints = [complaint(100 + n, f"2024-05-0{1 + n % 5}") for n in range(7)]
    api.scripted = [(429, b'{"detail": "Request was throttled."}', {"Retry-After": "0"})]
    window = {"url": api.url, "start": "2024-05-01", "end": "2024-05-06", "window_days": "3", "page_size": "2"}
    assert lake(lake_root, "ingest_complaints", **window) == 0
    # Days 01-03 hold 100, 105, 101, 106, 102 (by day, then id); 04-06 hold 103, 104.
    assert asked(api) == [
        ("2024-05-01", "2024-05-03", None, "2"),  # the 429, retried
        ("2024-05-01", "2024-05-03", None, "2"),
        ("2024-05-01", "2024-05-03", f"{NOON['2024-05-01']}_105", "2"),
        ("2024-05-01", "2024-05-03", f"{NOON['2024-05-02']}_106", "2"),
        ("2024-05-04", "2024-05-06", None, "2"),
    ]
    assert {r["frm"] for r in api.requests} == {"0"} and {r["sort"] for r in api.requests} == {"created_date_asc"}
    pages = landed(lake_root)
    today = datetime.now(UTC).date()
    assert {p.parent.name for p in pages} == {f"p_date={today}"}
    assert [[h["_source"]["complaint_id"] for h in json.loads(p.read_text())["hits"]["hits"]] for p in pages] == [
        ["100", "105"],
        ["101", "106"],
        ["102"],
        ["103", "104"],
    ]
    assert ledger(lake_root) == {
        "2024-05-01..2024-05-03": {
            "start": "2024-05-01", "end": "2024-05-03", "state": "done", "hits": 5, "fetched_at": fetch_time(pages[0])
        },
        "2024-05-04..2024-05-06": {
            "start": "2024-05-04", "end": "2024-05-06", "state": "done", "hits": 2, "fetched_at": fetch_time(pages[3])
        },
    }  # fmt: skip
    raw_df = read_table(spark, lake_root, "raw.complaints")
    rows = raw_df.select("complaint_id", "date_received", "_hit_index", "_source_file", "p_date").collect()
    files = [f"landing/cfpb/p_date={today}/{p.name}" for p in pages]
    assert sorted(rows) == sorted(
        [
            ("100", "2024-05-01T12:00:00-05:00", 0, files[0], today),
            ("105", "2024-05-01T12:00:00-05:00", 1, files[0], today),
            ("101", "2024-05-02T12:00:00-05:00", 0, files[1], today),
            ("106", "2024-05-02T12:00:00-05:00", 1, files[1], today),
            ("102", "2024-05-03T12:00:00-05:00", 0, files[2], today),
            ("103", "2024-05-04T12:00:00-05:00", 0, files[3], today),
            ("104", "2024-05-05T12:00:00-05:00", 1, files[3], today),
        ]
    )
    assert raw_df.schema.simpleString() == load_table("raw.complaints").schema.simpleString()

    # Done windows are never fetched again; refetch=true fetches them again (the ledger keeps the later fetch).
    api.requests.clear()
    assert lake(lake_root, "ingest_complaints", **window) == 0
    assert api.requests == []
    assert "0 window(s) to fetch" in capsys.readouterr().out
    assert (
        lake(lake_root, "ingest_complaints", **{**window, "window_days": "6", "page_size": "10"}, refetch="true") == 0
    )
    assert asked(api) == [("2024-05-01", "2024-05-06", None, "10")]
    assert ledger(lake_root)["2024-05-01..2024-05-06"]["hits"] == 7

    # Without --start: from the day after the last done window, to yesterday (UTC).
    api.requests.clear()
    assert lake(lake_root, "ingest_complaints", url=api.url, window_days="10000") == 0
    assert asked(api) == [("2024-05-07", str(today - timedelta(days=1)), None, "1000")]


def test_a_window_over_10000_hits_is_split_and_a_single_day_is_paged_past_10000(spark, lake_root, api):
    # The real limit, not a lowered one: 10,150 hits in two days, 10,050 of them on one day.
    api.complaints = [complaint(n, "2024-06-01") for n in range(1, 10_051)]
    api.complaints += [complaint(n, "2024-06-02") for n in range(20_001, 20_101)]
    args = {"url": api.url, "start": "2024-06-01", "end": "2024-06-02", "window_days": "2"}
    # kill -9 once the ledger recorded the split, before either half is fetched: the rerun fetches the halves.
    point = "ingest_complaints/ledger.after_split:cfpb"
    assert_killed_at(kill_at(lake_root, point, {**args, **FAST}), point)
    assert asked(api) == [("2024-06-01", "2024-06-02", None, "1000")]
    assert {k: v["state"] for k, v in ledger(lake_root).items()} == {
        "2024-06-01..2024-06-01": "pending",
        "2024-06-02..2024-06-02": "pending",
    }
    assert landed(lake_root) == []  # the first page of the two-day window is not landed
    assert lake(lake_root, "ingest_complaints", **args) == 0
    windows = [(r[0], r[1]) for r in asked(api)]
    assert windows == [("2024-06-01", "2024-06-02")] + [("2024-06-01", "2024-06-01")] * 11 + [("2024-06-02",) * 2]
    assert {r["frm"] for r in api.requests} == {"0"}
    assert [r[2] is None for r in asked(api)] == [True, True] + [False] * 10 + [True]
    assert {k: (v["state"], v["hits"]) for k, v in ledger(lake_root).items()} == {
        "2024-06-01..2024-06-01": ("done", 10_050),
        "2024-06-02..2024-06-02": ("done", 100),
    }
    # The first page of the two-day window was not landed: every hit is in raw.complaints exactly once.
    ids = read_table(spark, lake_root, "raw.complaints").groupBy("complaint_id").count()
    assert ids.filter("count != 1").isEmpty()
    assert {int(r["complaint_id"]) for r in ids.select("complaint_id").collect()} == set(range(1, 10_051)) | set(
        range(20_001, 20_101)
    )


def test_a_run_killed_once_it_quarantined_a_page_then_reruns_quarantine_each_fetch_once(spark, lake_root, api):
    api.complaints = [complaint(n, "2024-05-01") for n in range(1, 4)]
    window = {"url": api.url, "start": "2024-05-01", "end": "2024-05-01", "window_days": "1"}
    bad = b"<html>502 Bad Gateway</html>"
    # 1. kill -9 once the page is quarantined, before the ledger records why the window stays pending.
    api.bodies = {1: bad}
    point = "ingest_complaints/landing.after_quarantine:cfpb"
    assert_killed_at(kill_at(lake_root, point, {**window, **FAST}), point)
    assert ledger(lake_root)["2024-05-01..2024-05-01"]["state"] == "pending"
    # 2. The rerun fetches the window again: the page is still bad, and this fetch is quarantined too.
    api.requests.clear()
    assert lake(lake_root, "ingest_complaints", **window) == 1
    # 3. Then the API answers: the window is done, its hits in raw.complaints once.
    api.requests.clear()
    api.bodies = {}
    assert lake(lake_root, "ingest_complaints", **window) == 0
    quarantined = sorted(Path(lake_root, "quarantine", "ingest_complaints").rglob("*.json"))
    records = [json.loads(p.read_text()) for p in quarantined]
    assert [(r["text"], r["status"]) for r in records] == [(bad.decode(), 200)] * 2
    assert len({p.name.split("-")[-2] for p in quarantined}) == 2  # one per run that fetched it
    assert (ledger(lake_root)["2024-05-01..2024-05-01"]["state"], landed(lake_root) != []) == ("done", True)
    ids = sorted(int(r["complaint_id"]) for r in read_table(spark, lake_root, "raw.complaints").collect())
    assert ids == [1, 2, 3]


def test_failed_windows_stay_pending_and_are_fetched_first_by_the_next_run(spark, lake_root, api, capsys):
    api.complaints = [complaint(n, f"2024-05-0{1 + n % 4}") for n in range(1, 9)]
    window = {"url": api.url, "start": "2024-05-01", "end": "2024-05-04", "window_days": "2", "page_size": "2"}
    # 1. Page 2 of the first window fails every try: the run stops, keeping the page it landed.
    api.scripted = [(200, json.dumps(api.page({**_search("2024-05-01", "2024-05-02"), "size": "2"})).encode(), {})]
    api.scripted += [(500, b"oops", {})] * 3
    assert lake(lake_root, "ingest_complaints", **window) == 1
    err = capsys.readouterr().err
    assert re.search(
        r"lake: stopped: 1 window\(s\) left pending \(fetched again first by the next run\): 2024-05-01\.\.2024-05-02: "
        r"GET http://127\.0\.0\.1:\d+/\S+ failed after 3 attempt\(s\); last: HTTP 500",
        err,
    ), err
    first = ledger(lake_root)["2024-05-01..2024-05-02"]
    assert (first["state"], first["fetched"], first["cursor"]) == ("pending", 2, f"{NOON['2024-05-01']}_8")
    assert sorted(read_table(spark, lake_root, "raw.complaints").select("complaint_id").collect()) == [("4",), ("8",)]

    # 2. The next run resumes after the last landed page; the second window's page is not JSON: quarantined.
    api.requests.clear()
    api.bodies = {2: b"<html>502 Bad Gateway</html>"}
    assert lake(lake_root, "ingest_complaints", **window) == 1
    assert asked(api) == [
        ("2024-05-01", "2024-05-02", f"{NOON['2024-05-01']}_8", "2"),
        ("2024-05-03", "2024-05-04", None, "2"),
    ]
    [quarantined] = sorted(Path(lake_root, "quarantine", "ingest_complaints").rglob("*.json"))
    record = json.loads(quarantined.read_text())
    assert (record["text"], record["reason"], record["status"]) == (
        "<html>502 Bad Gateway</html>",
        "not JSON: Expecting value: line 1 column 1 (char 0)",
        200,
    )
    assert record["url"].startswith(api.url) and "date_received_min=2024-05-03" in record["url"]
    assert "1 window(s) left pending" in capsys.readouterr().err
    assert ledger(lake_root)["2024-05-01..2024-05-02"]["hits"] == 4

    # 3. hits.total that paging does not reach: the window stays pending, the run names it.
    api.requests.clear()
    short = api.page({**_search("2024-05-03", "2024-05-04"), "size": "2"})
    short["hits"]["total"]["value"] = 9
    short["hits"]["hits"] = short["hits"]["hits"][:1]
    api.bodies = {1: json.dumps(short).encode()}
    assert lake(lake_root, "ingest_complaints", **window) == 1
    assert (
        "lake: 1 window(s) left pending (fetched again first by the next run): "
        "2024-05-03..2024-05-04: hits.total is 9 but paging returned 1 hit(s)" in capsys.readouterr().err
    )
    assert ledger(lake_root)["2024-05-03..2024-05-04"] == {
        "start": "2024-05-03",
        "end": "2024-05-04",
        "state": "pending",
        "error": "hits.total is 9 but paging returned 1 hit(s)",
    }

    # 4. Retried from its first page, it completes.
    api.requests.clear()
    api.bodies = {}
    assert lake(lake_root, "ingest_complaints", **window) == 0
    assert asked(api) == [
        ("2024-05-03", "2024-05-04", None, "2"),
        ("2024-05-03", "2024-05-04", f"{NOON['2024-05-03']}_6", "2"),
    ]
    assert {k: (v["state"], v["hits"]) for k, v in ledger(lake_root).items()} == {
        "2024-05-01..2024-05-02": ("done", 4),
        "2024-05-03..2024-05-04": ("done", 4),
    }
    raw_ids = read_table(spark, lake_root, "raw.complaints").groupBy("complaint_id").count().collect()
    # The first page of the short walk landed too (raw keeps what came); the curated table dedupes.
    assert sorted(raw_ids) == [("1", 1), ("2", 2), ("3", 1), ("4", 1), ("5", 1), ("6", 1), ("7", 1), ("8", 1)]


def _search(low: str, high: str) -> dict:
    return {"sort": "created_date_asc", "date_received_min": low, "date_received_max": high, "frm": "0"}


# ------------------------------------------------------------------------------------------ curated and DynamoDB

CURATED_COLUMNS = [
    "complaint_id",
    "date_received",
    "date_sent_to_company",
    "state",
    "tags",
    "consumer_consent_provided",
]
CURATED_COLUMNS += ["company_response", "timely", "consumer_disputed", "has_narrative"]
SAMPLE_ROWS = [
    (8912001, date(2024, 5, 1), date(2024, 5, 1), "GA", ["Older American", "Servicemember"], "Consent provided",
     "Closed with explanation", True, None, True),
    (8912077, date(2024, 5, 1), date(2024, 5, 1), None, None, None, "In progress", False, None, False),
    (8915310, date(2024, 5, 2), date(2024, 5, 3), "FL", ["Servicemember"], "Other", "Closed with explanation", True,
     False, False),
    (8920444, date(2024, 5, 3), date(2024, 5, 3), "GA", None, None, "Closed with explanation", True, None, False),
    (8933815, date(2024, 5, 6), date(2024, 5, 6), "IL", None, None, "Closed with explanation", True, True, False),
]  # fmt: skip


def curated_rows(spark, lake_root: str) -> list[tuple]:
    return sorted(read_table(spark, lake_root, "curated.complaints").select(*CURATED_COLUMNS).collect())


def demo_args() -> list[str]:
    argv = ["--arg", f"url={SAMPLES.as_uri()}"]
    for key, value in CFPB_DEMO_ARGS.items():
        argv += ["--arg", f"{key}={value}"]
    return argv


def test_samples_are_what_the_script_writes(tmp_path):
    write_cfpb_samples(tmp_path / "cfpb")
    assert {p.name: p.read_bytes() for p in (tmp_path / "cfpb").iterdir()} == {
        p.name: p.read_bytes() for p in SAMPLES.iterdir()
    }


def test_workflow_offline_then_a_changed_complaint_merges_and_loads_only_what_changed(
    spark, lake_root, api, moto, capsys, monkeypatch
):
    # The recorded samples (what `make demo` runs), offline, each job script run as Glue runs it.
    glue = ["--job-bookmark-option", "job-bookmark-enable", "--TempDir", "s3://aws-glue-temp/tmp", "--JOB_ID", "j_1"]
    for job, args in (("ingest_complaints", demo_args()), ("curated_complaints", []), ("load_complaints_dynamodb", [])):
        script_args = [a.replace("=", " ", 1).split(" ", 1) for a in args if a != "--arg"]
        argv = [str(REPO / "jobs" / f"{job}.py"), "--JOB_NAME", job, "--lake_root", lake_root, *glue]
        argv += [item for key, value in script_args for item in (f"--{key}", value)]
        monkeypatch.setattr(sys, "argv", argv)
        runpy.run_path(argv[0], run_name="__main__")
    out = capsys.readouterr().out
    assert "[load_complaints_dynamodb] DynamoDB table consumer_complaints created (on-demand)" in out
    assert "5 complaint(s) written to DynamoDB table consumer_complaints in 1 request(s)" in out
    assert curated_rows(spark, lake_root) == SAMPLE_ROWS
    curated_df = read_table(spark, lake_root, "curated.complaints")
    assert curated_df.schema.simpleString() == load_table("curated.complaints").schema.simpleString()
    # Hits that cannot be keyed or dated are quarantined with a reason; the rest of their page loaded.
    [rejects_file] = Path(lake_root, "quarantine", "curated_complaints").rglob("*.json")
    rejects = [json.loads(line) for line in rejects_file.read_text().splitlines()]
    page_3 = sorted(p.name for p in landed(lake_root))[2]
    assert [(r["source"].rsplit("/", 1)[1], r["hit"], r["reason"]) for r in rejects] == [
        (page_3, 0, "no complaint_id"),
        (page_3, 1, "date_sent_to_company does not parse: '2024-05-32T12:00:00-05:00'"),
    ]
    assert json.loads(rejects[0]["text"])["zip_code"] == "10001"

    items = scan_items(moto.endpoint, "consumer_complaints")
    assert [int(i["complaint_id"]["N"]) for i in items] == [r[0] for r in SAMPLE_ROWS]
    fetched_at = items[0]["fetched_at"]["S"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", fetched_at)
    assert items[1] == {
        "complaint_id": {"N": "8912077"},
        "date_received": {"S": "2024-05-01"},
        "date_sent_to_company": {"S": "2024-05-01"},
        "product": {"S": "Credit reporting or other personal consumer reports"},
        "sub_product": {"S": "Credit reporting"},
        "issue": {"S": "Incorrect information on your report"},
        "sub_issue": {"S": "Information belongs to someone else"},
        "company": {"S": "EQUIFAX, INC."},
        "zip_code": {"S": "30301"},
        "submitted_via": {"S": "Web"},
        "company_response": {"S": "In progress"},
        "timely": {"BOOL": False},
        "has_narrative": {"BOOL": False},
        "fetched_at": {"S": fetched_at},
    }
    assert items[0]["tags"] == {"L": [{"S": "Older American"}, {"S": "Servicemember"}]}

    # A date-range query prunes partitions.
    ranged = curated_df.filter(F.col("date_received").between(date(2024, 5, 2), date(2024, 5, 3)))
    spark.conf.set("spark.sql.maxMetadataStringLength", "1000")  # the plan's filter list in full
    try:
        plan = ranged._jdf.queryExecution().executedPlan().toString()
    finally:
        spark.conf.unset("spark.sql.maxMetadataStringLength")
    [partition_filters] = re.findall(r"PartitionFilters: \[([^\]]*)\]", plan)
    assert re.sub(r"#\d+", "", partition_filters) == (
        "isnotnull(date_received), (date_received >= 2024-05-02), (date_received <= 2024-05-03)"
    ), plan
    assert sorted(r[0] for r in ranged.select("complaint_id").collect()) == [8915310, 8920444]

    # The API now says 8912077 was closed: refetch its window from the local API; only that row changes.
    path = load_table("curated.complaints").location_under(lake_root)
    version = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").agg(F.max("version")).first()[0]
    api.complaints = [dict(s) for s in SAMPLE_SOURCES]
    api.complaints[1]["company_response"] = "Closed with monetary relief"
    args = ["--arg", f"url={api.url}", "--arg", "start=2024-05-01", "--arg", "end=2024-05-03", "--arg", "refetch=true"]
    assert cli.main(["workflow", "run", "complaints", "--lake-root", lake_root, *args]) == 0
    out = capsys.readouterr().out
    line = f"[curated_complaints] curated.complaints: version {version + 1}, 1 row(s) inserted or updated, 0 deleted"
    assert line in out.splitlines()
    changes = spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", version + 1)
    changes = changes.load(path).select("complaint_id", "company_response", "_change_type").collect()
    assert sorted(changes) == [
        (8912077, "Closed with monetary relief", "update_postimage"),
        (8912077, "In progress", "update_preimage"),
    ]
    assert "1 complaint(s) written to DynamoDB table consumer_complaints in 1 request(s)" in out
    item = {i["complaint_id"]["N"]: i for i in scan_items(moto.endpoint, "consumer_complaints")}["8912077"]
    assert item["company_response"] == {"S": "Closed with monetary relief"}

    # Nothing new: nothing written.
    assert lake(lake_root, "load_complaints_dynamodb") == 0
    assert "nothing new in curated.complaints since version" in capsys.readouterr().out

    # kill -9 once the first of two batches is written and its position recorded: the rerun writes only the second.
    api.complaints = [complaint(n, "2024-05-07") for n in range(1, 31)]
    assert lake(lake_root, "ingest_complaints", url=api.url, start="2024-05-07", end="2024-05-07") == 0
    assert lake(lake_root, "curated_complaints") == 0
    point = "load_complaints_dynamodb/bookmark.after_write"
    assert_killed_at(kill_at(lake_root, point), point)
    first_batch = [int(i["complaint_id"]["N"]) for i in scan_items(moto.endpoint, "consumer_complaints")]
    assert first_batch == list(range(1, 26)) + [r[0] for r in SAMPLE_ROWS]  # in complaint_id order, 25 a request
    capsys.readouterr()
    assert lake(lake_root, "load_complaints_dynamodb") == 0
    assert "5 complaint(s) written to DynamoDB table consumer_complaints in 1 request(s)" in capsys.readouterr().out
    assert len(scan_items(moto.endpoint, "consumer_complaints")) == 35

    # On AWS (any environment but local) a missing table is a clear error, not created.
    argv = ["job", "run", "load_complaints_dynamodb", "--lake-root", lake_root, "--env", "aws"]
    assert cli.main([*argv, "--arg", "dynamodb_table=not_there", "--arg", "rebuild=true"]) == 1
    assert "lake: DynamoDB table not_there does not exist in us-east-1 (the deployment creates it" in (
        capsys.readouterr().err
    )


@pytest.mark.slow
def test_cli_workflow_against_the_local_api_and_moto_server_every_arg_reaches_its_step(tmp_path, api, moto):
    """The real `lake` command in its own process: ingest, curated and load args given once to the workflow."""
    api.complaints = [dict(s) for s in SAMPLE_SOURCES]
    args = {"url": api.url, "start": "2024-05-01", "end": "2024-05-06", "window_days": "6", "page_size": "4"}
    args |= {"dynamodb_table": "cli_complaints", **FAST}
    argv = [str(Path(sys.executable).with_name("lake")), "workflow", "run", "complaints", "--lake-root", str(tmp_path)]
    for key, value in args.items():
        argv += ["--arg", f"{key}={value}"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, env={**os.environ})
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert asked(api) == [
        ("2024-05-01", "2024-05-06", None, "4"),
        ("2024-05-01", "2024-05-06", f"{NOON['2024-05-03']}_8920444", "4"),
    ]
    assert "== workflow complaints: 3 job(s) succeeded" in result.stdout
    items = scan_items(moto.endpoint, "cli_complaints")
    assert [(int(i["complaint_id"]["N"]), i["date_received"]["S"], i["state"]["S"]) for i in items if "state" in i] == [
        (8912001, "2024-05-01", "GA"),
        (8915310, "2024-05-02", "FL"),
        (8920444, "2024-05-03", "GA"),
        (8933815, "2024-05-06", "IL"),
    ]
    assert [i["complaint_id"]["N"] for i in items if "state" not in i] == ["8912077"]
