"""End to end: the real `lake` CLI on the committed samples, in a temporary lake root, checked row by row."""

from __future__ import annotations

import json
import os
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


def lake(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([LAKE, *args], capture_output=True, text=True, timeout=600, env={**os.environ})
    assert result.returncode == 0, f"lake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-3000:]}"
    return result


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


@pytest.mark.slow
def test_cli_runs_the_campaign_workflow_on_the_samples(spark, tmp_path):
    lake_root = tmp_path / "lake"
    for table, export_id in FULL.items():
        land(lake_root, table, export_id)

    first = lake("workflow", "run", "campaign", "--lake-root", str(lake_root))
    assert "2 quarantined" in first.stdout
    assert_progress(spark, lake_root, AFTER_FULL)

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
