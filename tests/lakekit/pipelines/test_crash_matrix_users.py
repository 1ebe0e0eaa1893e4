"""Kill -9 at every failpoint of the users pipeline, rerun, and check nothing was lost or doubled.

As in test_crash_matrix.py, the points are those an uninterrupted run passes (LAKE_FAILPOINTS_TRACE).
A rerun of ingest_users fetches again (the API gives a new draw each time; here the recorded pages
stand for it), so the raw table cannot equal the uninterrupted run's. What must hold instead: every
response landed, by the killed run or the rerun, is in raw.users exactly once with the records it
holds, the ingestion bookmark lists exactly the landed files, and the curated tables (latest fetch of
each user of the day) equal the uninterrupted run's. Part of `make test-crash`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lakekit.catalog.model import load_table
from lakekit.core.settings import load_settings
from lakekit.core.state import Bookmarks
from lakekit.pipelines.users import fingerprint, raw_days
from tests.helpers import read_table
from tests.lakekit.pipelines.crash import case_point, kill_then_rerun, locks, quarantine_records, run_steps, traced
from tests.lakekit.pipelines.test_campaign_exactly_once import table_rows
from tests.lakekit.pipelines.test_users import SAMPLES

pytestmark = [pytest.mark.crash, pytest.mark.slow]

P_DATE = "2026-11-20"
INGEST = {"url": SAMPLES.as_uri(), "requests": "2", "p_date": P_DATE}
DAILY = {"date": P_DATE}
STEPS = [("ingest_users", INGEST), ("users_daily", DAILY)]
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
def reference(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("users_reference") / "lake"
    root.mkdir()
    points = traced(root.parent / "trace", lambda: run_steps(str(root), STEPS))
    by_file = raw_by_file(spark, str(root))
    return {
        "points": points,
        "pages": {request_number(file): rows for file, rows in by_file.items()},
        "curated": {name: table_rows(spark, str(root), name) for name in CURATED},
    }


def test_the_reference_run_passes_landing_publish_replace_and_bookmark_points(reference):
    kinds = {p.split("/", 1)[1] for p in reference["points"]}
    assert {
        "landing.after_write:randomuser",
        "users.after_ingested_date",
        "parquet.before_publish",
        "parquet.mid_publish",
        "parquet.after_publish",
        "bookmark.after_write",
        "delta.before_replace:curated.users",
        "delta.after_replace:curated.users",
        "delta.after_replace:curated.user_locations",
    } <= kinds
    assert sorted(reference["pages"]) == [1, 2]
    assert all(reference["curated"].values())


@pytest.mark.parametrize("index", range(12))
def test_a_kill_at_every_users_failpoint_then_a_rerun_lose_and_double_nothing(spark, reference, tmp_path, index):
    point = case_point(reference["points"], index, "the users workflow")
    lake = tmp_path / "lake"
    lake.mkdir()
    kill_then_rerun(str(lake), point, STEPS)

    landed = landed_files(str(lake))
    by_file = raw_by_file(spark, str(lake))
    assert sorted(by_file) == landed, point  # every landed response loaded, none twice
    for file, rows in by_file.items():
        assert rows == reference["pages"][request_number(file)], f"{point}: {file}"
    settings = load_settings("local", str(lake))
    marks = Bookmarks(settings)
    assert sorted(marks.position("ingest_users")["files"]) == sorted(f.split("/", 2)[2] for f in landed), point
    day_files = raw_days(type("Run", (), {"settings": settings})(), load_table("raw.users"))[P_DATE]
    assert marks.position("users_daily")["days"] == {P_DATE: fingerprint(day_files)}, point
    for name in CURATED:
        assert table_rows(spark, str(lake), name) == reference["curated"][name], f"{point}: {name}"
    assert quarantine_records(str(lake)) == [], point
    assert locks(str(lake)) == [], point
