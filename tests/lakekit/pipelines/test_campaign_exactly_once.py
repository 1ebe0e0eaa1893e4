"""Exactly once: no-op reruns, kill -9 recovery, the job lock, bookmark options and unfinished exports."""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakekit import cli
from lakekit.catalog.model import load_table
from lakekit.core import registry
from lakekit.core.job import JobError, lock_path
from lakekit.core.settings import load_settings
from lakekit.core.state import DISABLE, PAUSE, Bookmarks
from lakekit.core.storage import LocalStorage, lock_owner
from scripts.export_writer import Change, write_incremental_export
from tests.helpers import CAMPAIGN_JOBS, delta_version, read_table, run_campaign, run_job

MAIN = Path(__file__).resolve().parents[3]
SAMPLES_LANDING = MAIN / "samples" / "landing"
LAKE_CLI = MAIN / ".venv" / "bin" / "lake"

RAW_TABLES = ["raw.user_campaign", "raw.campaign_info"]
CURATED_TABLES = ["curated.campaign_tasks", "curated.campaign_task_progress"]
TABLES = RAW_TABLES + CURATED_TABLES
RAW_JOBS = ["raw_user_campaign", "raw_campaign_info"]
# When the raw job read the export, and its ingestion date: they differ between the reference run and
# a later one (p_date only across midnight UTC; the crash test's own reruns keep the first attempt's).
VOLATILE = {"_ingested_at", "p_date"}

# The samples' last complete exports end at T1; the one for [T1, T2) is still being written.
T2 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
T3 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------- helpers


def table_rows(spark, lake_root: str, name: str, condition=None, leave_out=VOLATILE, replace=None) -> list[str]:
    """Every row of a lake table (the `leave_out` columns left out, the `replace` ones {name: Column} computed)
    as canonical JSON, sorted; duplicates kept."""
    table_df = read_table(spark, lake_root, name)
    if condition is not None:
        table_df = table_df.filter(condition)
    if replace:
        table_df = table_df.withColumns(replace)
    table_df = table_df.drop(*[c for c in table_df.columns if c in leave_out])
    rows = [json.dumps(r.asDict(recursive=True), sort_keys=True, default=str) for r in table_df.collect()]
    return sorted(rows)


def assert_same_rows(actual_df, expected_df) -> None:
    """Whole frames compared, in any row order; catalog comments (field metadata) do not count."""
    assert_df_equality(actual_df, expected_df, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def lake_rows(spark, lake_root: str) -> dict[str, list[str]]:
    return {name: table_rows(spark, lake_root, name) for name in TABLES}


def duplicated_keys(spark, lake_root: str, name: str) -> list[tuple]:
    """Primary keys that occur more than once (a raw export appended twice shows up here)."""
    keys = list(load_table(name).primary_key)
    rows = read_table(spark, lake_root, name).select(*keys).collect()
    return [key for key, count in collections.Counter(tuple(r) for r in rows).items() if count > 1]


def lake_files(lake_root: str, exclude: tuple[str, ...] = ("_state", "_metastore")) -> list[tuple[str, int]]:
    """(relative path, size) of every file under the lake root, top-level folders in `exclude` left out."""
    root = Path(lake_root)
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] not in exclude:
            found.append((str(relative), path.stat().st_size))
    return sorted(found)


def bookmark_files(lake_root: str) -> dict[str, bytes | None]:
    """The bytes of each campaign job's bookmark file (None: no file)."""
    marks = Bookmarks(load_settings("local", lake_root))
    paths = {job: Path(marks.path(job)) for job in CAMPAIGN_JOBS}
    return {job: path.read_bytes() if path.exists() else None for job, path in paths.items()}


def raw_positions(lake_root: str) -> dict[str, dict]:
    marks = Bookmarks(load_settings("local", lake_root))
    return {job: marks.position(job) for job in RAW_JOBS}


def delta_versions(spark, lake_root: str) -> dict[str, int | None]:
    return {name: delta_version(spark, lake_root, name) for name in CURATED_TABLES}


def copy_lake(source: str, target: Path) -> str:
    """A copy of a lake root (tables, state, landing) at a new place; jobs re-point the metastore to it."""
    shutil.copytree(source, target)
    return str(target)


def landing(lake_root: str) -> Path:
    return Path(lake_root) / "landing"


def task(task_id: str, state: str, validated_at: str, reward: str) -> dict:
    return {
        "taskID": task_id,
        "userCampaignTaskProgressState": state,
        "validatedAt": validated_at,
        "validationFailureReason": "",
        "rewardEarned": Decimal(reward),
    }


def winter_campaign(streak3_deadline: str) -> dict:
    return {
        "campaignID": "CAMP#winter",
        "title": "Winter streak",
        "rewardClaimDeadline": "2026-12-31T23:59:59Z",
        "endsAtTimestamp": "2026-12-15T00:00:00+01:00",
        "createdAt": "2026-10-01T09:00:00Z",
        "updatedAt": "2026-11-20T08:10:00Z",
        "campaignTasks": [
            {"taskID": "TASK#streak3", "rewardAmount": Decimal("15"), "taskDeadline": streak3_deadline},
            {"taskID": "TASK#streak7", "rewardAmount": Decimal("40.25"), "taskDeadline": "2026-12-10T00:00:00+05:30"},
        ],
    }


JUDY = {
    "userID": "USER#judy",
    "campaignID": "CAMP#winter",
    "userCampaignProgressState": "IN_PROGRESS",
    "createdAt": "2026-11-20T08:05:00Z",
    "updatedAt": "2026-11-20T08:20:00Z",
    "totalTaskRewardsEarned": Decimal("40.25"),
    "progressDetails": [task("TASK#streak7", "COMPLETED", "2026-11-20T08:20:00Z", "40.25")],
}
JUDY_KEYS = {"userID": "USER#judy", "campaignID": "CAMP#winter"}


def write_later_exports(lake_root: str) -> list[str]:
    """Incremental exports for [T2, T3): winter's streak3 deadline moves, judy joins, alice drops a task,
    dave is deleted. Returns their export ids."""
    alice = {
        "userID": "USER#alice",
        "campaignID": "CAMP#spring",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-18T23:30:00-02:00",
        "updatedAt": "2026-11-20T08:30:00Z",
        "totalTaskRewardsEarned": Decimal("10"),
        "progressDetails": [task("TASK#signup", "COMPLETED", "2026-11-19T08:00:00+01:00", "10")],
    }
    info = write_incremental_export(
        landing(lake_root),
        "campaignInfo",
        T2,
        T3,
        [
            Change(
                {"campaignID": "CAMP#winter"},
                winter_campaign("2026-12-06T00:00:00Z"),
                winter_campaign("2026-12-05T00:00:00Z"),
                T2.replace(minute=10),
            )
        ],
    )
    users = write_incremental_export(
        landing(lake_root),
        "user_Campaign",
        T2,
        T3,
        [
            Change(JUDY_KEYS, JUDY, None, T2.replace(minute=20)),
            Change({"userID": "USER#alice", "campaignID": "CAMP#spring"}, alice, alice, T2.replace(minute=30)),
            Change({"userID": "USER#dave", "campaignID": "CAMP#winter"}, None, None, T2.replace(minute=40)),
        ],
        files=2,
    )
    return [info.export_id, users.export_id]


def progress_summary(spark, lake_root: str):
    """The keys, state and deadline (as UTC text) of every curated.campaign_task_progress row."""
    return read_table(spark, lake_root, "curated.campaign_task_progress").select(
        "user_id",
        "campaign_id",
        "task_id",
        "task_progress_state",
        # the session time zone is UTC (conf/local.yaml)
        F.date_format("task_deadline", "yyyy-MM-dd'T'HH:mm:ss'Z'").alias("task_deadline"),
    )


PROGRESS_SUMMARY_SCHEMA = T.StructType(
    [
        T.StructField("user_id", T.StringType(), True),
        T.StructField("campaign_id", T.StringType(), True),
        T.StructField("task_id", T.StringType(), True),
        T.StructField("task_progress_state", T.StringType(), True),
        T.StructField("task_deadline", T.StringType(), True),
    ]
)


# ---------------------------------------------------------------- the reference lake


@pytest.fixture(scope="module")
def reference(spark, tmp_path_factory):
    """The committed samples run once through the campaign workflow, uninterrupted, in this process."""
    root = tmp_path_factory.mktemp("reference") / "lake"
    root.mkdir()
    shutil.copytree(SAMPLES_LANDING, root / "landing")
    run_campaign(str(root))
    return {
        "root": str(root),
        "rows": lake_rows(spark, str(root)),
        "raw_positions": raw_positions(str(root)),
        "versions": delta_versions(spark, str(root)),
    }


def test_reference_run_is_sane(spark, reference):
    """Guards the comparisons below: the reference holds the samples' outcome and no duplicated raw record."""
    expected_df = spark.createDataFrame(
        [
            ("USER#alice", "CAMP#spring", "TASK#share", "COMPLETED", "2026-11-26T00:00:00Z"),
            ("USER#alice", "CAMP#spring", "TASK#signup", "COMPLETED", "2026-11-27T10:00:00Z"),
            ("USER#bob", "CAMP#spring", "TASK#signup", "COMPLETED", "2026-11-27T10:00:00Z"),
            ("USER#dave", "CAMP#winter", "TASK#bonus", "COMPLETED", None),
            ("USER#dave", "CAMP#winter", "TASK#streak3", "COMPLETED", "2026-12-05T00:00:00Z"),
            ("USER#heidi", "CAMP#winter", "TASK#streak3", "COMPLETED", "2026-12-05T00:00:00Z"),
            ("USER#kim", "CAMP#winter", "TASK#streak3", "FAILED", "2026-12-05T00:00:00Z"),
            ("USER#kim", "CAMP#winter", "TASK#streak7", "IN_PROGRESS", "2026-12-09T18:30:00Z"),
            ("USER#lena", "CAMP#spring", "TASK#signup", "PENDING", "2026-11-27T10:00:00Z"),
        ],
        PROGRESS_SUMMARY_SCHEMA,
    )
    assert_same_rows(progress_summary(spark, reference["root"]), expected_df)
    for name in TABLES:
        assert reference["rows"][name], f"{name} is empty in the reference run"
    for name in RAW_TABLES:
        assert duplicated_keys(spark, reference["root"], name) == []
    assert all(v is not None for v in reference["versions"].values())


# ---------------------------------------------------------------- (1) a rerun with nothing new


def test_rerun_with_nothing_new_changes_nothing(spark, reference):
    root = reference["root"]
    files_before = lake_files(root)
    versions_before = delta_versions(spark, root)

    run_campaign(root)
    # As a command: every job knows from the lake's state alone that nothing is new, so no JVM starts.
    result = run_cli_workflow(root, None)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "SparkSession started" not in result.stdout, result.stdout
    assert "nothing new for user_Campaign (2 export(s) already processed)" in result.stdout, result.stdout
    assert delta_versions(spark, root) == versions_before
    assert lake_files(root) == files_before
    assert lake_rows(spark, root) == reference["rows"]


# ---------------------------------------------------------------- (2) kill -9 at each failpoint, then rerun


def run_cli_workflow(lake_root: str, failpoint: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LAKE_FAILPOINTS"}
    env["LAKE_SPARK_LOG_LEVEL"] = "ERROR"
    if failpoint:
        env["LAKE_FAILPOINTS"] = failpoint
    return subprocess.run(
        [str(LAKE_CLI), "workflow", "run", "campaign", "--lake-root", lake_root],
        env=env,
        cwd=MAIN,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.crash  # make test-crash: three kills in a row on one lake, 2 min (the longest test of make test)
def test_killed_runs_then_a_clean_rerun_match_an_uninterrupted_run(spark, reference, tmp_path):
    root = tmp_path / "lake"
    root.mkdir()
    shutil.copytree(SAMPLES_LANDING, root / "landing")

    # One lake, one crash after another: each rerun starts from what the killed run left behind.
    # (test_crash_matrix_campaign.py kills every failpoint on its own lake.)
    for point in ["parquet.mid_publish", "raw.after_mark_written", "delta.after_first_load"]:
        result = run_cli_workflow(str(root), point)
        output = f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
        assert result.returncode == -signal.SIGKILL, f"{point}: exit {result.returncode}\n{output}"
        # The line names the point in full (job/name:table); `point` is the plain name that fired.
        killed = [line for line in result.stdout.splitlines() if line.endswith(": killing this process")]
        assert len(killed) == 1 and f"/{point}" in killed[0], output

    result = run_cli_workflow(str(root), None)
    assert result.returncode == 0, f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"

    rows = lake_rows(spark, str(root))
    for name in TABLES:
        assert rows[name] == reference["rows"][name], name
    for name in RAW_TABLES:
        assert duplicated_keys(spark, str(root), name) == []
    assert raw_positions(str(root)) == reference["raw_positions"]


# ---------------------------------------------------------------- (3) the lock


def test_a_job_whose_lock_is_held_does_nothing_then_runs_after_release(spark, reference, lake_root, capsys):
    shutil.copytree(SAMPLES_LANDING, Path(lake_root) / "landing")
    job = "raw_user_campaign"
    settings = load_settings("local", lake_root)
    holder = lock_owner("someone-else")

    with LocalStorage().lock(lock_path(settings, job), holder):
        files_before = lake_files(lake_root, exclude=())
        with pytest.raises(JobError, match="already running") as raised:
            run_job(lake_root, job)
        assert str(holder["pid"]) in str(raised.value)
        assert cli.main(["job", "run", job, "--lake-root", lake_root]) == 1
        assert "already running" in capsys.readouterr().err
        assert lake_files(lake_root, exclude=()) == files_before

    run_job(lake_root, job)
    assert table_rows(spark, lake_root, "raw.user_campaign") == reference["rows"]["raw.user_campaign"]


# ---------------------------------------------------------------- (4) bookmark options


EXPECTED_PROGRESS_AFTER_LATER_EXPORTS = [
    ("USER#alice", "CAMP#spring", "TASK#signup", "COMPLETED", "2026-11-27T10:00:00Z"),
    ("USER#bob", "CAMP#spring", "TASK#signup", "COMPLETED", "2026-11-27T10:00:00Z"),
    ("USER#heidi", "CAMP#winter", "TASK#streak3", "COMPLETED", "2026-12-06T00:00:00Z"),
    ("USER#judy", "CAMP#winter", "TASK#streak7", "COMPLETED", "2026-12-09T18:30:00Z"),
    ("USER#kim", "CAMP#winter", "TASK#streak3", "FAILED", "2026-12-06T00:00:00Z"),  # winter's streak3 deadline moved
    ("USER#kim", "CAMP#winter", "TASK#streak7", "IN_PROGRESS", "2026-12-09T18:30:00Z"),
    ("USER#lena", "CAMP#spring", "TASK#signup", "PENDING", "2026-11-27T10:00:00Z"),
]


def run_jobs(lake_root: str, jobs: list[str], **args: str) -> None:
    for job in jobs:
        run_job(lake_root, job, **args)


def raw_export_ids(spark, lake_root: str) -> set[str]:
    return {
        r["_export_id"]
        for name in RAW_TABLES
        for r in read_table(spark, lake_root, name).select("_export_id").distinct().collect()
    }


def test_pause_then_enable_then_disable_then_rebuild_give_the_same_tables(spark, reference, tmp_path):
    root = copy_lake(reference["root"], tmp_path / "lake")
    new_ids = write_later_exports(root)
    marks_before = bookmark_files(root)
    curated_jobs = [job for job in CAMPAIGN_JOBS if job not in RAW_JOBS]

    # raw, paused: the new exports land in the raw tables, no bookmark moves
    run_jobs(root, RAW_JOBS, job_bookmark_option=PAUSE)
    assert bookmark_files(root) == marks_before
    assert set(new_ids) <= raw_export_ids(spark, root)
    raw_paused = {name: table_rows(spark, root, name) for name in RAW_TABLES}

    # raw, enabled after the pause: the same exports written again, replacing (not adding to) the first copy
    run_jobs(root, RAW_JOBS)
    assert {name: table_rows(spark, root, name) for name in RAW_TABLES} == raw_paused
    assert set(new_ids) <= {e for job in RAW_JOBS for e in raw_positions(root)[job]["exports"]}
    marks_raw_enabled = bookmark_files(root)

    # curated, paused: the changes reach the curated tables, no bookmark moves
    run_jobs(root, curated_jobs, job_bookmark_option=PAUSE)
    assert bookmark_files(root) == marks_raw_enabled
    expected_df = spark.createDataFrame(EXPECTED_PROGRESS_AFTER_LATER_EXPORTS, PROGRESS_SUMMARY_SCHEMA)
    assert_same_rows(progress_summary(spark, root), expected_df)
    paused = lake_rows(spark, root)
    versions_paused = delta_versions(spark, root)

    # curated, enabled after the pause: the same changes applied again find nothing to change
    run_jobs(root, curated_jobs)
    marks_enabled = bookmark_files(root)
    assert all(marks_enabled[job] != marks_raw_enabled[job] for job in curated_jobs)
    assert lake_rows(spark, root) == paused
    assert delta_versions(spark, root) == versions_paused

    # disable: everything again, nothing duplicated or changed, bookmarks untouched
    run_campaign(root, job_bookmark_option=DISABLE)
    assert bookmark_files(root) == marks_enabled
    assert lake_rows(spark, root) == paused

    # rebuild: every curated row recomputed from the raw layer gives the same tables
    run_jobs(root, curated_jobs, rebuild="true")
    assert lake_rows(spark, root) == paused
    for name in RAW_TABLES:
        assert duplicated_keys(spark, root, name) == []


def test_a_paused_workflow_reaches_the_curated_tables(spark, reference, tmp_path):
    root = copy_lake(reference["root"], tmp_path / "lake")
    write_later_exports(root)
    marks_before = bookmark_files(root)

    run_campaign(root, job_bookmark_option=PAUSE)

    assert bookmark_files(root) == marks_before
    expected_df = spark.createDataFrame(EXPECTED_PROGRESS_AFTER_LATER_EXPORTS, PROGRESS_SUMMARY_SCHEMA)
    assert_same_rows(progress_summary(spark, root), expected_df)


def test_bookmarks_show_and_reset(spark, reference, tmp_path, capsys):
    root = copy_lake(reference["root"], tmp_path / "lake")
    marks = Bookmarks(load_settings("local", root))

    assert cli.main(["bookmark", "show", "--lake-root", root, "--format", "json"]) == 0
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # Every job the registry knows, those that never ran without a position.
    assert [d["job"] for d in shown] == registry.job_names()
    assert {d["job"]: d["position"] for d in shown} == {
        job: marks.position(job) if job in CAMPAIGN_JOBS else None for job in registry.job_names()
    }

    # The default is a table: one line per job, its position summed up.
    assert cli.main(["bookmark", "show", "raw_user_campaign", "--lake-root", root]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split(" | ") == ["job              ", "updated_at_utc      ", "position"]
    assert table[2].startswith("raw_user_campaign | ") and table[2].endswith(" | exports: 2")
    assert table[3] == "(1 row)"

    reset_jobs = ["raw_user_campaign", "curated_campaign_task_progress"]
    for job in reset_jobs:
        assert cli.main(["bookmark", "reset", job, "--lake-root", root]) == 0
        assert f"bookmark of {job} reset" in capsys.readouterr().out
        assert not Path(marks.path(job)).exists()
        assert cli.main(["bookmark", "show", job, "--lake-root", root, "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out) == {"job": job, "updated_at": None, "position": None}

    assert cli.main(["bookmark", "show", "no_such_job", "--lake-root", root]) == 2
    assert capsys.readouterr().err.startswith("lake: unknown job 'no_such_job'; jobs: curated_campaign_task_progress")

    for job in reset_jobs:
        run_job(root, job)
    assert lake_rows(spark, root) == reference["rows"]
    assert duplicated_keys(spark, root, "raw.user_campaign") == []
    assert raw_positions(root) == reference["raw_positions"]
    assert marks.position("curated_campaign_task_progress")["applied"]


# ---------------------------------------------------------------- (5) an export still being written


def test_an_unfinished_export_is_skipped_then_processed_once_complete(spark, reference, tmp_path, capsys):
    root = copy_lake(reference["root"], tmp_path / "lake")
    change = Change(JUDY_KEYS, JUDY, None, T2.replace(minute=20))
    unfinished = write_incremental_export(landing(root), "user_Campaign", T2, T3, [change], complete=False)

    run_campaign(root)
    assert f"export {unfinished.export_id}: no manifest-summary.json yet" in capsys.readouterr().out
    assert lake_rows(spark, root) == reference["rows"]
    assert delta_versions(spark, root) == reference["versions"]
    assert raw_positions(root) == reference["raw_positions"]

    finished = write_incremental_export(landing(root), "user_Campaign", T2, T3, [change], complete=True)
    assert finished.export_id == unfinished.export_id
    run_campaign(root)

    assert unfinished.export_id in raw_positions(root)["raw_user_campaign"]["exports"]
    raw_df = read_table(spark, root, "raw.user_campaign")
    new_raw_df = raw_df.filter(F.col("_export_id") == unfinished.export_id).select("user_id", "campaign_id", "_op")
    expected_raw_df = spark.createDataFrame(
        [("USER#judy", "CAMP#winter", "INSERT")],
        T.StructType(
            [
                T.StructField("user_id", T.StringType(), True),
                T.StructField("campaign_id", T.StringType(), True),
                T.StructField("_op", T.StringType(), True),
            ]
        ),
    )
    assert_same_rows(new_raw_df, expected_raw_df)
    older_raw = table_rows(spark, root, "raw.user_campaign", F.col("_export_id") != unfinished.export_id)
    assert older_raw == reference["rows"]["raw.user_campaign"]

    summary_df = progress_summary(spark, root)
    judy_df = summary_df.filter(F.col("user_id") == "USER#judy")
    expected_judy_df = spark.createDataFrame(
        [("USER#judy", "CAMP#winter", "TASK#streak7", "COMPLETED", "2026-12-09T18:30:00Z")], PROGRESS_SUMMARY_SCHEMA
    )
    assert_same_rows(judy_df, expected_judy_df)
    others = table_rows(spark, root, "curated.campaign_task_progress", F.col("user_id") != "USER#judy")
    assert others == reference["rows"]["curated.campaign_task_progress"]
    assert table_rows(spark, root, "curated.campaign_tasks") == reference["rows"]["curated.campaign_tasks"]
