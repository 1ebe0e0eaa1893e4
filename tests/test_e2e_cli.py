"""End to end: the real `lake` CLI on the committed samples, in a temporary lake root, checked row by row."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from chispa import assert_df_equality

from lakekit.catalog.model import load_table
from tests.helpers import read_table

REPO = Path(__file__).resolve().parent.parent
LAKE = str(Path(sys.executable).parent / "lake")
SAMPLE_EXPORTS = REPO / "samples" / "landing" / "dynamodb"
FULL = {"user_Campaign": "01795154400000-b4c3d7f5", "campaignInfo": "01795154400000-2d63ae9c"}


def lake(*args: str, code: int = 0) -> subprocess.CompletedProcess:
    """The installed `lake` entry point in a subprocess; its exit status must be `code`."""
    result = subprocess.run([LAKE, *args], capture_output=True, text=True, timeout=600, env={**os.environ})
    assert result.returncode == code, (
        f"lake {' '.join(args)}: exit {result.returncode}:\n{result.stdout}\n{result.stderr[-3000:]}"
    )
    return result


def delta_version(table_dir: Path) -> int:
    """The newest commit of a Delta table, read off its log's file names (_delta_log/NNN.json)."""
    return max(int(f.name.removesuffix(".json")) for f in (table_dir / "_delta_log").glob("*.json"))


# --- exit status, one test per class: 0 done, 1 a handled failure, 2 a usage error --------------------------


def test_exit_0_version_and_an_old_spelling_that_runs_a_job(tmp_path):
    from importlib.metadata import packages_distributions, version

    (distribution,) = set(packages_distributions()["lakekit"])
    assert lake("--version").stdout == f"lake {version(distribution)} (distribution {distribution})\n"
    root = tmp_path / "lake"
    lake("init", "--lake-root", str(root))
    old = lake("run", "raw_user_campaign", "--lake-root", str(root))
    assert old.stderr.splitlines()[0] == ("lake run is now `lake job run`; the old spelling goes in the next release")
    assert "nothing new since the bookmark (from the lake's state; Spark not started)" in old.stdout
    summary = json.loads(lake("job", "run", "raw_user_campaign", "--lake-root", str(root), "--format", "json").stdout)
    assert summary.pop("duration_seconds") >= 0
    messages = summary.pop("messages")
    assert summary == {"job": "raw_user_campaign", "status": "succeeded", "versions_written": {}}
    assert [m.split(";")[0] for m in messages[:3]] == [  # the job's own lines, its [job] prefix off
        f"lake root {root}",
        "nothing new for user_Campaign (0 export(s) already processed)",
        "nothing new since the bookmark (from the lake's state",
    ]
    assert len(messages) == 4 and re.fullmatch(r"done in \d+\.\ds", messages[3]), messages


def test_exit_1_a_job_that_fails_says_why_in_its_summary(tmp_path):
    from lakekit.core.job import lock_path
    from lakekit.core.settings import load_settings
    from lakekit.core.storage import LocalStorage, lock_owner

    root = tmp_path / "lake"
    lake("init", "--lake-root", str(root))
    with LocalStorage().lock(lock_path(load_settings("local", str(root)), "raw_user_campaign"), lock_owner("other")):
        failed = lake("job", "run", "raw_user_campaign", "--lake-root", str(root), code=1)
        assert failed.stdout == ""
        assert failed.stderr.startswith("lake: job raw_user_campaign is already running")
        as_json = lake("job", "run", "raw_user_campaign", "--lake-root", str(root), "--format", "json", code=1)
    summary = json.loads(as_json.stdout)
    assert (summary["job"], summary["status"], summary["messages"]) == ("raw_user_campaign", "failed", [])
    assert summary["error"].startswith("job raw_user_campaign is already running")
    assert lake("table", "list", "--lake-root", str(tmp_path / "missing"), code=1).stderr.startswith(
        f"lake: lake root {tmp_path / 'missing'} does not exist"
    )


def test_exit_2_a_command_line_that_asks_for_what_is_not_there(tmp_path):
    assert lake("job", "run", "no_such_job", code=2).stderr.startswith("lake: unknown job 'no_such_job'; jobs: ")
    assert lake("frobnicate", code=2).stderr.startswith("lake: argument COMMAND: invalid choice: 'frobnicate'")
    unknown_arg = lake("workflow", "run", "campaign", "--lake-root", str(tmp_path), "--arg", "colour=red", code=2)
    assert unknown_arg.stderr.startswith("lake: workflow campaign has no argument 'colour'")
    assert lake("tables", "--format", "xml", code=2).stderr.splitlines() == [
        "lake tables is now `lake table list`; the old spelling goes in the next release",
        "lake table list: argument --format: invalid choice: 'xml' (choose from 'table', 'csv', 'json') "
        "(see lake table list --help)",
    ]


def land(lake_root: Path, table: str, export_id: str) -> None:
    source = SAMPLE_EXPORTS / table / "AWSDynamoDB" / export_id
    shutil.copytree(source, lake_root / "landing" / "dynamodb" / table / "AWSDynamoDB" / export_id)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def progress_row(
    user, campaign, task, state, validated, reason, reward, campaign_state, total, created, updated, deadline
):
    created_at = ts(created)
    return (
        user,
        campaign,
        task,
        state,
        ts(validated),
        reason,
        Decimal(reward),
        campaign_state,
        Decimal(total),
        created_at,
        ts(updated),
        ts(deadline) if deadline else None,
        created_at.date(),
    )


ALICE = ("USER#alice", "CAMP#spring")
ALICE_ITEM = ("IN_PROGRESS", "15.5", "2026-11-19 01:30:00", "2026-11-19 10:00:00")
DAVE_ITEM = ("IN_PROGRESS", "15", "2026-11-17 10:00:00", "2026-11-19 20:00:00")

KIM_ITEM = ("IN_PROGRESS", "0", "2026-11-18 08:00:00", "2026-11-19 12:00:00")
# kim: streak3 failed, streak7 in progress; lena: signup pending (its deadline follows campaignInfo's).
KIM_ROWS = [
    progress_row(
        "USER#kim",
        "CAMP#winter",
        "TASK#streak3",
        "FAILED",
        "2026-11-18 12:00:00",
        "streak broken",
        "0",
        *KIM_ITEM,
        "2026-12-05 00:00:00",
    ),
    progress_row(
        "USER#kim",
        "CAMP#winter",
        "TASK#streak7",
        "IN_PROGRESS",
        "2026-11-19 12:00:00",
        None,
        "0",
        *KIM_ITEM,
        "2026-12-09 18:30:00",
    ),
]
LENA_ITEM = ("IN_PROGRESS", "0", "2026-11-19 14:00:00", "2026-11-19 15:00:00")


def lena_row(deadline: str) -> tuple:
    return progress_row(
        "USER#lena", "CAMP#spring", "TASK#signup", "PENDING", "2026-11-19 15:00:00", None, "0", *LENA_ITEM, deadline
    )


AFTER_FULL = [
    progress_row(
        *ALICE, "TASK#share", "COMPLETED", "2026-11-19 09:30:00", None, "5.5", *ALICE_ITEM, "2026-11-26 00:00:00"
    ),
    progress_row(
        *ALICE, "TASK#signup", "COMPLETED", "2026-11-19 07:00:00", None, "10", *ALICE_ITEM, "2026-11-25 10:00:00"
    ),
    progress_row(
        "USER#dave", "CAMP#winter", "TASK#bonus", "COMPLETED", "2026-11-19 21:00:00", None, "3", *DAVE_ITEM, None
    ),
    progress_row(
        "USER#dave",
        "CAMP#winter",
        "TASK#streak3",
        "COMPLETED",
        "2026-11-19 20:00:00",
        None,
        "15",
        *DAVE_ITEM,
        "2026-12-05 00:00:00",
    ),
    progress_row(
        "USER#erin",
        "CAMP#ghost",
        "TASK#signup",
        "PENDING",
        "2026-11-16 08:05:00",
        None,
        "1",
        "IN_PROGRESS",
        "1",
        "2026-11-16 08:00:00",
        "2026-11-16 08:00:00",
        None,
    ),
    *KIM_ROWS,
    lena_row("2026-11-25 10:00:00"),
]

AFTER_INCREMENTAL = [
    progress_row(
        *ALICE, "TASK#share", "COMPLETED", "2026-11-19 09:30:00", None, "5.5", *ALICE_ITEM, "2026-11-26 00:00:00"
    ),
    # campaignInfo moved the signup deadline by two days: the row of a user who did not change follows.
    progress_row(
        *ALICE, "TASK#signup", "COMPLETED", "2026-11-19 07:00:00", None, "10", *ALICE_ITEM, "2026-11-27 10:00:00"
    ),
    progress_row(
        "USER#bob",
        "CAMP#spring",
        "TASK#signup",
        "COMPLETED",
        "2026-11-20 06:40:00",
        None,
        "10",
        "IN_PROGRESS",
        "0",
        "2026-11-19 05:00:00",
        "2026-11-20 06:40:00",
        "2026-11-27 10:00:00",
    ),
    AFTER_FULL[2],
    AFTER_FULL[3],
    progress_row(
        "USER#heidi",
        "CAMP#winter",
        "TASK#streak3",
        "COMPLETED",
        "2026-11-20 06:50:00",
        None,
        "15",
        "IN_PROGRESS",
        "15",
        "2026-11-20 06:10:00",
        "2026-11-20 06:50:00",
        "2026-12-05 00:00:00",
    ),
    *KIM_ROWS,
    lena_row("2026-11-27 10:00:00"),  # the signup deadline moved by two days
]


def assert_progress(spark, lake_root: Path, rows: list[tuple]) -> None:
    table = load_table("curated.campaign_task_progress")
    expected = spark.createDataFrame(rows, table.schema)
    actual = read_table(spark, str(lake_root), table.qualified_name).select(*table.column_names)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


@pytest.mark.long  # 139 s idle: make test-long
def test_cli_runs_the_campaign_workflow_on_the_samples(spark, tmp_path):
    lake_root = tmp_path / "lake"
    for table, export_id in FULL.items():
        land(lake_root, table, export_id)

    first = lake("workflow", "run", "campaign", "--lake-root", str(lake_root), "--format", "json")
    assert "2 quarantined" in first.stderr  # the jobs' own lines: stdout holds the summary alone
    assert_progress(spark, lake_root, AFTER_FULL)
    summary = json.loads(first.stdout)
    assert (summary["workflow"], summary["status"], summary["not_run"]) == ("campaign", "succeeded", [])
    jobs = ["raw_user_campaign", "raw_campaign_info", "curated_campaign_tasks", "curated_campaign_task_progress"]
    assert [(job["job"], job["status"]) for job in summary["jobs"]] == [(job, "succeeded") for job in jobs]
    assert [job["versions_written"] for job in summary["jobs"]] == [
        {},  # raw tables are Parquet: no versions
        {},
        {"curated.campaign_tasks": delta_version(lake_root / "curated" / "campaign_tasks")},
        {"curated.campaign_task_progress": delta_version(lake_root / "curated" / "campaign_task_progress")},
    ]
    assert any("2 quarantined" in line for line in summary["jobs"][0]["messages"])

    quarantined = [
        json.loads(line)
        for f in sorted((lake_root / "quarantine" / "raw_user_campaign").rglob("*.json"))
        for line in f.read_text().splitlines()
    ]
    assert sorted((q["reason"], q["line_number"], q["text"][:40]) for q in quarantined) == [
        # 9 lines dealt to 2 files in turn: frank (8th line) is the 4th of the second, gina the 5th of the first.
        ("missing key attribute campaignID", 5, '{"Item":{"userID":{"S":"USER#gina"},"use'),
        ("not valid JSON", 4, '{"Item":{"userID":{"S":"USER#frank"},"ca'),
    ]
    assert all(
        q["source_file"].startswith(f"landing/dynamodb/user_Campaign/AWSDynamoDB/{FULL['user_Campaign']}/data/")
        for q in quarantined
    )

    # Every incremental export, and one still being written (no manifest-summary.json): skipped.
    for table in FULL:
        for folder in sorted((SAMPLE_EXPORTS / table / "AWSDynamoDB").iterdir()):
            if folder.name != FULL[table]:
                land(lake_root, table, folder.name)
    second = lake("workflow", "run", "campaign", "--lake-root", str(lake_root))
    assert "still being written" in second.stdout
    assert_progress(spark, lake_root, AFTER_INCREMENTAL)

    # Nothing new (the export still being written included): every job knows it from the lake's state, no JVM.
    third = lake("workflow", "run", "campaign", "--lake-root", str(lake_root))
    assert "SparkSession started" not in third.stdout
    assert third.stdout.count("(from the lake's state; Spark not started)") == 4
    assert "still being written" in third.stdout
    assert_progress(spark, lake_root, AFTER_INCREMENTAL)

    # The table is in the metastore under the lake root: plain SQL in a new session of the project.
    query = lake(
        "query",
        "--lake-root",
        str(lake_root),
        "--format",
        "json",
        "-e",
        "SELECT user_id, task_id, task_deadline FROM curated.campaign_task_progress "
        "WHERE campaign_id = 'CAMP#spring' ORDER BY user_id, task_id",
    )
    assert [json.loads(line) for line in query.stdout.splitlines() if line.startswith("{")] == [
        {"user_id": "USER#alice", "task_id": "TASK#share", "task_deadline": "2026-11-26 00:00:00.000"},
        {"user_id": "USER#alice", "task_id": "TASK#signup", "task_deadline": "2026-11-27 10:00:00.000"},
        {"user_id": "USER#bob", "task_id": "TASK#signup", "task_deadline": "2026-11-27 10:00:00.000"},
        {"user_id": "USER#lena", "task_id": "TASK#signup", "task_deadline": "2026-11-27 10:00:00.000"},
    ]
