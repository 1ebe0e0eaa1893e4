"""The campaign pipeline's samples: small DynamoDB exports of user_Campaign and campaignInfo in AWS's layout.

They cover what the pipeline must handle and the states users look for (completed, failed, pending
and in-progress tasks): missing and empty lists, an unknown task and campaign,
timestamps with offsets, a task listed twice, an empty failure reason, a malformed line, an item
without its sort key, an incremental export with an insert, an update and a delete, a campaign
whose deadline moved, and an export still being written. campaignInfo's exports keep their data
files in their own <ExportId>/data/; user_Campaign's incremental exports in the prefix's shared
AWSDynamoDB/data/ folder, and its full export has an empty file for an empty partition.
"""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from scripts.export_writer import SHARED, Change, write_full_export, write_incremental_export

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def task(task_id: str, state: str, validated_at: str, reward: str, reason: str = "") -> dict:
    return {
        "taskID": task_id,
        "userCampaignTaskProgressState": state,
        "validatedAt": validated_at,
        "validationFailureReason": reason,
        "rewardEarned": Decimal(reward),
    }


def campaign(campaign_id: str, title: str, tasks: list[tuple[str, str, str]] | None) -> dict:
    item = {
        "campaignID": campaign_id,
        "title": title,
        "rewardClaimDeadline": "2026-12-31T23:59:59Z",
        "endsAtTimestamp": "2026-12-15T00:00:00+01:00",
        "createdAt": "2026-10-01T09:00:00Z",
        "updatedAt": "2026-11-01T09:00:00Z",
    }
    if tasks is not None:
        item["campaignTasks"] = [{"taskID": t, "rewardAmount": Decimal(r), "taskDeadline": d} for t, r, d in tasks]
    return item


CAMPAIGNS = [
    campaign(
        "CAMP#spring",
        "Spring quest",
        [
            ("TASK#signup", "10", "2026-11-25T12:00:00+02:00"),
            ("TASK#share", "5.5", "2026-11-26T00:00:00Z"),
            ("TASK#review", "20", "2026-11-30T18:30:00-05:00"),
        ],
    ),
    campaign(
        "CAMP#winter",
        "Winter streak",
        [
            ("TASK#streak3", "15", "2026-12-05T00:00:00Z"),
            ("TASK#streak7", "40.25", "2026-12-10T00:00:00+05:30"),
        ],
    ),
    campaign("CAMP#draft", "Draft without tasks", None),
]

USERS = [
    {
        "userID": "USER#alice",
        "campaignID": "CAMP#spring",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-18T23:30:00-02:00",
        "updatedAt": "2026-11-19T10:00:00Z",
        "totalTaskRewardsEarned": Decimal("15.5"),
        "progressDetails": [
            task("TASK#signup", "COMPLETED", "2026-11-19T08:00:00+01:00", "10"),
            task("TASK#share", "FAILED", "2026-11-19T09:00:00Z", "0", "link expired"),
            task("TASK#share", "COMPLETED", "2026-11-19T09:30:00Z", "5.5"),  # listed twice: the later one wins
        ],
    },
    {
        "userID": "USER#bob",
        "campaignID": "CAMP#spring",
        "userCampaignProgressState": "JOINED",
        "createdAt": "2026-11-19T05:00:00Z",
        "updatedAt": "2026-11-19T05:00:00Z",
        "totalTaskRewardsEarned": Decimal("0"),
        "progressDetails": [],
    },  # empty list: no rows
    {
        "userID": "USER#carol",
        "campaignID": "CAMP#winter",
        "userCampaignProgressState": "JOINED",
        "createdAt": "2026-11-19T12:00:00+09:00",
        "updatedAt": "2026-11-19T12:00:00+09:00",
        "totalTaskRewardsEarned": Decimal("0"),
    },  # no progressDetails attribute: no rows
    {
        "userID": "USER#dave",
        "campaignID": "CAMP#winter",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-17T10:00:00Z",
        "updatedAt": "2026-11-19T20:00:00Z",
        "totalTaskRewardsEarned": Decimal("15"),
        "progressDetails": [
            task("TASK#streak3", "COMPLETED", "2026-11-19T20:00:00Z", "15"),
            task("TASK#bonus", "COMPLETED", "2026-11-19T21:00:00Z", "3"),  # not a task of the campaign
        ],
    },
    {
        "userID": "USER#erin",
        "campaignID": "CAMP#ghost",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-16T08:00:00Z",
        "updatedAt": "2026-11-16T08:00:00Z",
        "totalTaskRewardsEarned": Decimal("1"),
        "progressDetails": [task("TASK#signup", "PENDING", "2026-11-16T08:05:00Z", "1")],
    },  # unknown campaign
    {
        "userID": "USER#kim",
        "campaignID": "CAMP#winter",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-18T08:00:00Z",
        "updatedAt": "2026-11-19T12:00:00Z",
        "totalTaskRewardsEarned": Decimal("0"),
        "progressDetails": [
            task("TASK#streak3", "FAILED", "2026-11-18T12:00:00Z", "0", "streak broken"),
            task("TASK#streak7", "IN_PROGRESS", "2026-11-19T12:00:00Z", "0"),
        ],
    },  # a failed task and one in progress
    {
        "userID": "USER#lena",
        "campaignID": "CAMP#spring",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-19T14:00:00Z",
        "updatedAt": "2026-11-19T15:00:00Z",
        "totalTaskRewardsEarned": Decimal("0"),
        "progressDetails": [task("TASK#signup", "PENDING", "2026-11-19T15:00:00Z", "0")],
    },  # a task waiting for validation
]

BAD_LINES = [
    '{"Item":{"userID":{"S":"USER#frank"},"campaignID":{"S":"CAMP#spring"},"createdAt":{"S":"2026-11-19',
    '{"Item":{"userID":{"S":"USER#gina"},"userCampaignProgressState":{"S":"JOINED"}}}',
]


def write(samples: Path) -> None:
    """samples/landing/dynamodb: the exports of user_Campaign and campaignInfo."""
    landing = samples / "landing"
    shutil.rmtree(landing, ignore_errors=True)
    write_full_export(landing, "campaignInfo", T0, CAMPAIGNS)
    write_full_export(landing, "user_Campaign", T0, USERS, extra_lines=BAD_LINES, files=2, empty_files=1)

    moved = campaign(
        "CAMP#spring",
        "Spring quest",
        [
            ("TASK#signup", "10", "2026-11-27T12:00:00+02:00"),  # deadline moved by two days
            ("TASK#share", "5.5", "2026-11-26T00:00:00Z"),
            ("TASK#review", "20", "2026-11-30T18:30:00-05:00"),
        ],
    )
    write_incremental_export(
        landing,
        "campaignInfo",
        T0,
        T1,
        [
            Change({"campaignID": "CAMP#spring"}, moved, CAMPAIGNS[0], T0.replace(minute=30)),
        ],
    )
    bob_started = {
        **USERS[1],
        "userCampaignProgressState": "IN_PROGRESS",
        "updatedAt": "2026-11-20T06:40:00Z",
        "progressDetails": [task("TASK#signup", "COMPLETED", "2026-11-20T06:40:00Z", "10")],
    }
    heidi = {
        "userID": "USER#heidi",
        "campaignID": "CAMP#winter",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-20T06:10:00+00:00",
        "updatedAt": "2026-11-20T06:50:00Z",
        "totalTaskRewardsEarned": Decimal("15"),
        "progressDetails": [task("TASK#streak3", "COMPLETED", "2026-11-20T06:50:00Z", "15")],
    }
    write_incremental_export(
        landing,
        "user_Campaign",
        T0,
        T1,
        [
            Change({"userID": "USER#bob", "campaignID": "CAMP#spring"}, bob_started, USERS[1], T0.replace(minute=40)),
            Change({"userID": "USER#heidi", "campaignID": "CAMP#winter"}, heidi, None, T0.replace(minute=50)),
            Change({"userID": "USER#erin", "campaignID": "CAMP#ghost"}, None, USERS[4], T0.replace(minute=55)),
        ],
        layout=SHARED,
    )
    # The next window is still being written: no manifest-summary.json yet, so runs skip it.
    write_incremental_export(
        landing,
        "user_Campaign",
        T1,
        T2,
        [
            Change({"userID": "USER#ivan", "campaignID": "CAMP#spring"}, {**heidi, "userID": "USER#ivan"}, None, T1),
        ],
        complete=False,
        layout=SHARED,
    )
    print(f"samples written under {landing}", file=sys.stderr)
