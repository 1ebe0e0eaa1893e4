"""Kill -9 at every failpoint of the users pipeline, rerun, and check nothing was lost or doubled.

As in test_crash_matrix_campaign.py, the points are those an uninterrupted run passes (LAKE_FAILPOINTS_TRACE).
A rerun of ingest_users fetches again (the API gives a new draw each time; here the recorded pages
stand for it), so the raw table cannot equal the uninterrupted run's. What must hold instead: every
response landed, by the killed run or the rerun, is in raw.users exactly once with the records it
holds, the ingestion bookmark lists exactly the landed files, and the curated tables (latest fetch of
each user of the day) equal the uninterrupted run's. The recording's second response is randomuser's error
document, so the quarantine of a response is killed too: each fetch of it is quarantined once, by the run that
fetched it. Part of `make test-crash`.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from lakekit.core.settings import load_settings
from lakekit.core.state import Bookmarks
from lakekit.pipelines.users import fingerprint, raw_days
from lakekit.tables import TableHandle
from tests.helpers import read_table
from tests.lakekit.pipelines.crash import case_point, kill_then_rerun, locks, run_steps, traced
from tests.lakekit.pipelines.test_campaign_exactly_once import table_rows
from tests.lakekit.pipelines.test_users import SAMPLES

pytestmark = [pytest.mark.crash, pytest.mark.slow]

P_DATE = "2026-11-20"
DAILY = {"date": P_DATE}
# randomuser.me's error document (HTTP 200), the second of three recorded responses: quarantined, the run goes on.
ERROR_PAGE = '{"error": "Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. Thank you."}'
GOOD = {1: "page-1.json", 3: "page-2.json"}  # request number: the sample page it returns
CURATED = ["curated.users", "curated.user_locations"]
# Columns that say when and from which file a record was loaded: they differ from run to run.
LOAD_COLUMNS = {"_fetched_at", "_source_file", "_ingested_at"}


def request_number(source_file: str) -> int:
    """Which recorded page a landed response holds: its request number, the landing file's -NNN suffix."""
    return int(re.search(r"-(\d{3})\.json$", source_file).group(1))


def raw_by_file(spark, lake_root: str) -> dict[str, list[str]]:
    """raw.users rows (load columns left out) as canonical JSON, by landing file."""
    raw_df = read_table(spark, lake_root, "raw.users")
    found: dict[str, list[str]] = {}
    for row in raw_df.collect():
        record = {k: v for k, v in row.asDict(recursive=True).items() if k not in LOAD_COLUMNS}
        found.setdefault(row["_source_file"], []).append(json.dumps(record, sort_keys=True, default=str))
    return {file: sorted(rows) for file, rows in found.items()}


def landed_files(lake_root: str) -> list[str]:
    return sorted(str(p.relative_to(lake_root)) for p in (Path(lake_root) / "landing" / "randomuser").rglob("*.json"))


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    """The workflow's steps on a recording of three responses: a sample page, the error document, the other page."""
    recording = tmp_path_factory.mktemp("users_recording")
    for number, sample in GOOD.items():
        shutil.copy(SAMPLES / sample, recording / f"response-{number}.json")
    (recording / "response-2.json").write_text(ERROR_PAGE)
    return [("ingest_users", {"url": recording.as_uri(), "requests": "3", "p_date": P_DATE}), ("curated_users", DAILY)]


def quarantined_fetches(lake_root: str) -> dict[str, dict]:
    """Each quarantined response by its file name (<fetch time>-<run id>-<request number>.json), its fetch time
    left out."""
    folder = Path(lake_root, "quarantine", "ingest_users", f"p_date={P_DATE}")
    found = {}
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        record = json.loads(path.read_text())
        record.pop("fetched_at")
        record["url"] = record["url"].rsplit("/", 1)[1]
        found[path.name] = record
    return found


def run_id(name: str) -> str:
    return name[: -len(".json")].split("-")[-2]


@pytest.fixture(scope="module")
def reference(spark, steps, tmp_path_factory):
    root = tmp_path_factory.mktemp("users_reference") / "lake"
    root.mkdir()
    points = traced(root.parent / "trace", lambda: run_steps(str(root), steps))
    by_file = raw_by_file(spark, str(root))
    [rejected] = quarantined_fetches(str(root)).values()
    return {
        "points": points,
        "pages": {request_number(file): rows for file, rows in by_file.items()},
        "curated": {name: table_rows(spark, str(root), name) for name in CURATED},
        "rejected": rejected,
    }


def test_the_reference_run_passes_landing_quarantine_publish_replace_and_bookmark_points(reference):
    kinds = {p.split("/", 1)[1] for p in reference["points"]}
    assert {
        "landing.after_write:randomuser",
        "landing.after_quarantine:randomuser",
        "users.after_ingested_date",
        "parquet.before_publish",
        "parquet.mid_publish",
        "parquet.after_publish",
        "bookmark.after_write",
        "delta.before_replace:curated.users",
        "delta.after_replace:curated.users",
        "delta.after_replace:curated.user_locations",
    } <= kinds
    assert sorted(reference["pages"]) == [1, 3]
    assert all(reference["curated"].values())
    assert reference["rejected"] == {
        "text": ERROR_PAGE,
        "url": "response-2.json",
        "status": 200,
        "reason": "no results (error: Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. "
        "Thank you.)",
    }


@pytest.mark.parametrize("index", range(13))
def test_a_kill_at_every_users_failpoint_then_a_rerun_lose_and_double_nothing(spark, steps, reference, tmp_path, index):
    point = case_point(reference["points"], index, "the users workflow")
    lake = tmp_path / "lake"
    lake.mkdir()
    kill_then_rerun(str(lake), point, steps)

    landed = landed_files(str(lake))
    by_file = raw_by_file(spark, str(lake))
    assert sorted(by_file) == landed, point  # every landed response loaded, none twice
    for file, rows in by_file.items():
        assert rows == reference["pages"][request_number(file)], f"{point}: {file}"
    settings = load_settings("local", str(lake))
    marks = Bookmarks(settings)
    assert sorted(marks.position("ingest_users")["files"]) == sorted(f.split("/", 2)[2] for f in landed), point
    day_files = raw_days(TableHandle(type("Run", (), {"settings": settings})(), "raw.users"))[P_DATE]
    assert marks.position("users_daily")["days"] == {P_DATE: fingerprint(day_files)}, point
    for name in CURATED:
        assert table_rows(spark, str(lake), name) == reference["curated"][name], f"{point}: {name}"
    # Each fetch of the error document quarantined once, by the run that fetched it: every run that went past
    # request 2 (it landed request 3) quarantined it, and a run quarantined only after landing request 1.
    rejected = quarantined_fetches(str(lake))
    assert all(request_number(name) == 2 and r == reference["rejected"] for name, r in rejected.items()), point
    runs = {n: {request_number(f) for f in landed if run_id(f) == n} for n in {run_id(f) for f in landed}}
    assert {run_id(name) for name in rejected} >= {n for n, numbers in runs.items() if 3 in numbers}, point
    assert all(1 in runs.get(run_id(name), set()) for name in rejected), point
    assert len({run_id(name) for name in rejected}) == len(rejected), point
    assert locks(str(lake)) == [], point
