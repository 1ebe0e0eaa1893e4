"""A timestamp that does not parse in a real export: its line is quarantined naming the column, the rest lands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from chispa import assert_df_equality
from pyspark.sql import types as T

from scripts.export_writer import ExportFolder, write_full_export
from tests.helpers import read_table, run_job
from transforms.campaign import build_campaign_task_progress, build_campaign_tasks

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def entry(task_id: str, validated_at: str, reward: str) -> dict:
    return {
        "taskID": task_id,
        "userCampaignTaskProgressState": "COMPLETED" if validated_at else "PENDING",
        "validatedAt": validated_at,  # "" until the task is validated
        "validationFailureReason": "",
        "rewardEarned": Decimal(reward),
    }


def user(name: str, created_at: str, *entries: dict) -> dict:
    return {
        "userID": f"USER#{name}",
        "campaignID": "CAMP#spring",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": created_at,
        "updatedAt": "2026-11-20T05:00:00Z",
        "totalTaskRewardsEarned": Decimal("10"),
        "progressDetails": list(entries),
    }


def campaign(campaign_id: str, deadline: str) -> dict:
    return {
        "campaignID": campaign_id,
        "title": campaign_id.lower(),
        "rewardClaimDeadline": "2026-12-31T23:59:59Z",
        "endsAtTimestamp": "2026-12-15T00:00:00+01:00",
        "createdAt": "2026-10-01T09:00:00Z",
        "updatedAt": "2026-11-01T09:00:00Z",
        "campaignTasks": [{"taskID": "TASK#signup", "rewardAmount": Decimal("10"), "taskDeadline": deadline}],
    }


def quarantined(lake_root: str, job: str, export: ExportFolder) -> list[dict]:
    folder = Path(lake_root) / "quarantine" / job / f"export_id={export.export_id}"
    records = [
        json.loads(line) for part in sorted(folder.glob("part-*.json")) for line in part.read_text().splitlines()
    ]
    return sorted(({k: r[k] for k in ("text", "source_file", "line_number", "reason")} for r in records), key=str)


def source_file(export: ExportFolder) -> str:
    (data_file,) = (export.path / "data").iterdir()
    return str(data_file.relative_to(export.path.parents[4]))


def test_a_timestamp_that_does_not_parse_sends_its_line_to_quarantine_and_the_rest_lands(spark, lake_root):
    landing = Path(lake_root) / "landing"
    users = write_full_export(
        landing,
        "user_Campaign",
        T0,
        [
            user("alice", "2026-11-18T23:30:00-02:00", entry("TASK#signup", "2026-11-19T08:00:00+01:00", "10")),
            user("bob", "2026-13-45T00:00:00Z", entry("TASK#signup", "2026-11-19T08:00:00Z", "10")),
            user("carol", "2026-11-19T10:00:00Z", entry("TASK#signup", "", "0")),  # not validated yet: fine
            user("dave", "2026-11-19T10:00:00Z", entry("TASK#signup", "yesterday", "10")),
        ],
    )
    campaigns = write_full_export(
        landing,
        "campaignInfo",
        T0,
        [campaign("CAMP#spring", "2026-11-27T10:00:00Z"), campaign("CAMP#broken", "next week")],
    )

    run_job(lake_root, "raw_user_campaign")
    run_job(lake_root, "raw_campaign_info")

    bob, dave = users.lines[1], users.lines[3]
    assert quarantined(lake_root, "raw_user_campaign", users) == sorted(
        [
            {
                "text": bob,
                "source_file": source_file(users),
                "line_number": 2,
                "reason": "column created_at (attribute createdAt): not an ISO 8601 timestamp",
            },
            {
                "text": dave,
                "source_file": source_file(users),
                "line_number": 4,
                "reason": "column progress_details.validated_at (attribute progressDetails[].validatedAt): "
                "not an ISO 8601 timestamp",
            },
        ],
        key=str,
    )
    assert quarantined(lake_root, "raw_campaign_info", campaigns) == [
        {
            "text": campaigns.lines[1],
            "source_file": source_file(campaigns),
            "line_number": 2,
            "reason": "column campaign_tasks.task_deadline (attribute campaignTasks[].taskDeadline): "
            "not an ISO 8601 timestamp",
        }
    ]

    # The good lines land, and every timestamp raw kept is one in curated ("" alone, not validated yet, is null).
    # The curated builders run on the raw tables here, without the curated jobs' Delta writes.
    tasks_df = build_campaign_tasks(read_table(spark, lake_root, "raw.campaign_info"))
    progress_df = build_campaign_task_progress(read_table(spark, lake_root, "raw.user_campaign"), tasks_df)
    ts = T.TimestampType()
    progress_schema = T.StructType(
        [T.StructField("user_id", T.StringType()), T.StructField("task_id", T.StringType())]
        + [T.StructField(name, ts) for name in ("validated_at", "created_at", "task_deadline")]
    )
    deadline = datetime(2026, 11, 27, 10, tzinfo=UTC)
    expected_progress = [
        ("USER#alice", "TASK#signup", datetime(2026, 11, 19, 7, tzinfo=UTC), datetime(2026, 11, 19, 1, 30, tzinfo=UTC))
        + (deadline,),
        ("USER#carol", "TASK#signup", None, datetime(2026, 11, 19, 10, tzinfo=UTC), deadline),
    ]
    assert_df_equality(
        progress_df.select(*progress_schema.fieldNames()),
        spark.createDataFrame(expected_progress, progress_schema),
        ignore_row_order=True,
        ignore_nullable=True,
        ignore_metadata=True,  # the catalog's comments
    )
    tasks_schema = T.StructType(
        [T.StructField("campaign_id", T.StringType()), T.StructField("task_id", T.StringType())]
        + [T.StructField("ends_at", ts)]
    )
    expected_tasks = [("CAMP#spring", "TASK#signup", datetime(2026, 12, 14, 23, tzinfo=UTC))]
    assert_df_equality(
        tasks_df.select(*tasks_schema.fieldNames()),
        spark.createDataFrame(expected_tasks, tasks_schema),
        ignore_row_order=True,
        ignore_nullable=True,
        ignore_metadata=True,  # the catalog's comments
    )
