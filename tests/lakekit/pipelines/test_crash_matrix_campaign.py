"""Kill -9 at every failpoint of the campaign pipeline, rerun, and compare with an uninterrupted run.

The points are not listed by hand: the reference runs record every failpoint they pass
(LAKE_FAILPOINTS_TRACE), and the matrix kills each of them in turn, in a `lake run` subprocess of
the job that owns it. The jobs before it run in this process; after the kill, the whole workflow
runs again here. It must leave exactly the tables, bookmarks, export logs and quarantine of the
uninterrupted run. Three stages: the samples into an empty lake (raw publishes, first loads), later
exports into that lake (MERGE of both curated tables), and more exports, one run each, until a MERGE
leaves a partition crowded enough to be compacted (the compaction points of that last run).

The matrix is `make test-crash` (marker `crash`, about 2 minutes a point on a busy 2-core machine);
`make test` kills three points in test_campaign_exactly_once.py.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from scripts.export_writer import Change, write_incremental_export
from tests.helpers import CAMPAIGN_JOBS, run_campaign, run_job
from tests.lakekit.pipelines.crash import (
    assert_killed_at,
    kill_at,
    locks,
    point_kind,
    quarantine_records,
    state_documents,
    traced,
)
from tests.lakekit.pipelines.test_campaign_exactly_once import (
    SAMPLES_LANDING,
    T3,
    lake_rows,
    landing,
    task,
    winter_campaign,
    write_later_exports,
)

pytestmark = [pytest.mark.crash, pytest.mark.slow]

# Kinds of point each stage must pass, so a failpoint removed or renamed shows up here.
EXPECTED_KINDS = {
    "first": {
        "raw.after_mark_writing",
        "parquet.mid_publish",
        "parquet.after_publish",
        "raw.after_quarantine",
        "raw.after_mark_written",
        "bookmark.after_write",
        "delta.before_first_load",
        "delta.after_first_load",
    },
    "later": {"delta.before_merge", "delta.after_merge", "bookmark.after_write"},
    "crowd": {"delta.before_merge", "delta.after_merge", "delta.before_compaction", "delta.after_compaction"},
}
# Runs of the crowd stage at most: each MERGE adds about one file to what it touches (compact_min_files: 4).
CROWD_RUNS = 6
BAD_LINE = '{"Item": {"userID": {"S": "USER#mallory"}, "campaignID": {"S": "CAMP#x"}'  # cut short


def add_bad_line(landing: Path) -> None:
    """A truncated line at the end of one sample data file: every run quarantines it. The manifest describes
    the file as DynamoDB would have (its md5Checksum, ETag and itemCount), so the export is whole and its
    bad line a record to quarantine, not a corrupt export (which fails the job: docs/dynamodb_exports.md)."""
    data = sorted((landing / "dynamodb" / "user_Campaign" / "AWSDynamoDB").glob("*/data/*.json.gz"))[0]
    text = gzip.decompress(data.read_bytes()).decode()
    data.write_bytes(gzip.compress((text.rstrip("\n") + "\n" + BAD_LINE + "\n").encode()))
    digest = hashlib.md5(data.read_bytes())
    manifest = data.parent.parent / "manifest-files.json"
    entries = [json.loads(line) for line in manifest.read_text().splitlines()]
    [entry] = [e for e in entries if e["dataFileS3Key"].endswith(f"/data/{data.name}")]
    entry.update(
        itemCount=entry["itemCount"] + 1,
        md5Checksum=base64.b64encode(digest.digest()).decode(),
        etag=digest.hexdigest(),
    )
    manifest.write_text("".join(json.dumps(e) + "\n" for e in entries))
    summary_path = data.parent.parent / "manifest-summary.json"
    summary = json.loads(summary_path.read_text())
    summary["itemCount"] += 1
    summary_path.write_text(json.dumps(summary))


def first_lake(root: Path) -> str:
    root.mkdir(parents=True)
    shutil.copytree(SAMPLES_LANDING, root / "landing")
    add_bad_line(root / "landing")
    return str(root)


def snapshot(spark, lake_root: str) -> dict:
    return {
        "tables": lake_rows(spark, lake_root),
        "state": state_documents(lake_root),
        "quarantine": quarantine_records(lake_root),
        "locks": locks(lake_root),
    }


def traced_campaign(lake_root: str, trace: Path) -> list[str]:
    """Run the campaign workflow in this process; the failpoints it passed, first pass of each, in order."""
    return traced(trace, lambda: run_campaign(lake_root))


@pytest.fixture(scope="module")
def references(spark, tmp_path_factory):
    """The two stages run uninterrupted: their failpoints and what they leave."""
    base = tmp_path_factory.mktemp("crash_reference")
    first = first_lake(base / "first")
    first_points = traced_campaign(first, base / "first.trace")
    first_snapshot = snapshot(spark, first)
    later = base / "later"
    shutil.copytree(first, later)
    write_later_exports(str(later))
    later_points = traced_campaign(str(later), base / "later.trace")
    return {
        "first": {"root": first, "points": first_points, "snapshot": first_snapshot},
        "later": {"root": str(later), "points": later_points, "snapshot": snapshot(spark, str(later))},
    }


def write_crowd_exports(lake_root: str, number: int) -> None:
    """Exports for the hour after T3 + `number` hours: winter gains a task (bonus0..bonusN, the tasks table gets
    one more row) and a new user joins winter on 2026-11-20 (one more row in that progress partition)."""
    frm, to = T3 + timedelta(hours=number), T3 + timedelta(hours=number + 1)

    def winter(count: int) -> dict:
        campaign = winter_campaign("2026-12-06T00:00:00Z")
        bonus = [
            {"taskID": f"TASK#bonus{n}", "rewardAmount": Decimal("5"), "taskDeadline": "2026-12-12T00:00:00Z"}
            for n in range(count)
        ]
        return {**campaign, "updatedAt": frm.isoformat(), "campaignTasks": campaign["campaignTasks"] + bonus}

    old = winter(number) if number else None
    change = Change({"campaignID": "CAMP#winter"}, winter(number + 1), old, frm.replace(minute=10))
    write_incremental_export(landing(lake_root), "campaignInfo", frm, to, [change])
    keys = {"userID": f"USER#crowd{number}", "campaignID": "CAMP#winter"}
    item = {
        **keys,
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": frm.replace(minute=15).isoformat(),
        "updatedAt": frm.replace(minute=20).isoformat(),
        "totalTaskRewardsEarned": Decimal("15"),
        "progressDetails": [task("TASK#streak3", "COMPLETED", frm.replace(minute=20).isoformat(), "15")],
    }
    write_incremental_export(landing(lake_root), "user_Campaign", frm, to, [Change(keys, item, None, frm)])


@pytest.fixture(scope="module")
def crowded(spark, references, tmp_path_factory):
    """From the later stage's lake, one run per new hour of exports until a run compacts: the lake before
    that run (its exports landed), what the run leaves, and its compaction points."""
    base = tmp_path_factory.mktemp("crash_crowd")
    lake = base / "lake"
    shutil.copytree(references["later"]["root"], lake)
    for number in range(CROWD_RUNS):
        write_crowd_exports(str(lake), number)
        start = base / "start"
        if start.exists():
            shutil.rmtree(start)
        shutil.copytree(lake, start)
        points = traced_campaign(str(lake), base / f"crowd{number}.trace")
        if any("compaction" in p for p in points):
            return {"start": start, "points": points, "snapshot": snapshot(spark, str(lake))}
    raise AssertionError(f"no compaction after {CROWD_RUNS} runs of one export each")


def test_the_reference_runs_pass_every_kind_of_failpoint_and_quarantine_the_bad_line(references, crowded):
    stages = {**references, "crowd": crowded}
    for stage, kinds in EXPECTED_KINDS.items():
        passed = {point_kind(p) for p in stages[stage]["points"]}
        assert kinds <= passed, f"{stage}: {sorted(kinds - passed)} not passed"
    quarantined = [json.loads(r) for r in references["first"]["snapshot"]["quarantine"]]
    assert BAD_LINE in [r["text"] for r in quarantined]
    assert references["later"]["snapshot"]["quarantine"] == references["first"]["snapshot"]["quarantine"]


# Cases per stage: an upper bound on its failpoints, known only once the reference ran (extra ones skip).
# The crowd stage kills only its compaction points: its other points are the later stage's again.
_CASES = [("first", 20), ("later", 8), ("crowd", 4)]


def _run_killed_then_rerun(spark, references, stage: str, point: str, root: Path) -> None:
    if stage == "first":
        lake = first_lake(root)
    elif stage == "crowd":
        shutil.copytree(references["crowd"]["start"], root)
        lake = str(root)
    else:
        shutil.copytree(references["first"]["root"], root)
        lake = str(root)
        for leftover in (root / "_state" / "locks").glob("*.lock"):
            leftover.unlink()
        write_later_exports(lake)
    job = point.split("/", 1)[0]
    for earlier in CAMPAIGN_JOBS[: CAMPAIGN_JOBS.index(job)]:
        run_job(lake, earlier)

    assert_killed_at(kill_at(lake, point), point)

    run_campaign(lake)
    expected = references[stage]["snapshot"]
    actual = snapshot(spark, lake)
    for name, rows in expected["tables"].items():
        assert actual["tables"][name] == rows, f"{point}: {name}"
    assert actual["state"] == expected["state"], point
    assert actual["quarantine"] == expected["quarantine"], point
    assert actual["locks"] == [], point


@pytest.mark.parametrize(("stage", "index"), [(s, i) for s, n in _CASES for i in range(n)])
def test_a_kill_at_every_failpoint_then_a_rerun_match_an_uninterrupted_run(request, spark, tmp_path, stage, index):
    references = request.getfixturevalue("references")
    if stage == "crowd":  # built only when its cases run
        references = {**references, "crowd": request.getfixturevalue("crowded")}
    points = references[stage]["points"]
    if stage == "later":  # the raw points of the later stage are the first stage's again
        points = [p for p in points if not p.startswith("raw_")]
    if stage == "crowd":
        points = [p for p in points if "compaction" in p]
    if index >= len(points):
        pytest.skip(f"{stage} has {len(points)} failpoints")
    point = points[index]
    _run_killed_then_rerun(spark, references, stage, point, tmp_path / "lake")
