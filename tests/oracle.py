"""A plain-Python model of the campaign pipeline: the curated rows that DynamoDB item states must give.

Items are dicts exactly as written to DynamoDB (scripts.export_writer encodes them); an attribute
missing from a dict is absent from the item. Rows are tuples in the catalog's column order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

CAMPAIGN_TASKS_COLUMNS = [
    "campaign_id",
    "task_id",
    "title",
    "reward_amount",
    "task_deadline",
    "reward_claim_deadline",
    "ends_at",
    "created_at",
    "updated_at",
]
CAMPAIGN_TASK_PROGRESS_COLUMNS = [
    "user_id",
    "campaign_id",
    "task_id",
    "task_progress_state",
    "validated_at",
    "validation_failure_reason",
    "reward_earned",
    "campaign_progress_state",
    "total_task_rewards_earned",
    "created_at",
    "updated_at",
    "task_deadline",
    "created_date",
]

_SIX_PLACES = Decimal("0.000001")
_NEVER = datetime.min.replace(tzinfo=UTC)

UserKey = tuple[str, str]  # (userID, campaignID)


def utc(text: str | None) -> datetime | None:
    """An ISO 8601 string with any offset as an aware UTC datetime."""
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def decimal_38_6(value: Decimal | int | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(_SIX_PLACES)


def row_sort_key(row: tuple) -> tuple:
    """Rows sort with None first in any column (tuples holding None do not compare otherwise)."""
    return tuple((value is not None, value) if value is not None else (False, 0) for value in row)


def campaign_tasks_rows(campaigns: dict[str, dict[str, Any]]) -> list[tuple]:
    """curated.campaign_tasks: one row per campaign and task id; a task listed twice: the later entry wins."""
    rows: dict[tuple[str, str], tuple] = {}
    for campaign_id, item in campaigns.items():
        for task in item.get("campaignTasks") or []:
            task_id = task.get("taskID")
            if task_id is None:
                continue
            rows[(campaign_id, task_id)] = (
                campaign_id,
                task_id,
                item.get("title"),
                decimal_38_6(task.get("rewardAmount")),
                utc(task.get("taskDeadline")),
                utc(item.get("rewardClaimDeadline")),
                utc(item.get("endsAtTimestamp")),
                utc(item.get("createdAt")),
                utc(item.get("updatedAt")),
            )
    return sorted(rows.values(), key=row_sort_key)


def _latest_entries(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per task id, the entry with the latest validatedAt (missing counts as oldest), then the later one."""
    best: dict[str, tuple[tuple, dict[str, Any]]] = {}
    for position, entry in enumerate(entries):
        task_id = entry.get("taskID")
        if task_id is None:
            continue
        validated_at = utc(entry.get("validatedAt"))
        rank = (validated_at is not None, validated_at or _NEVER, position)
        if task_id not in best or rank > best[task_id][0]:
            best[task_id] = (rank, entry)
    return {task_id: entry for task_id, (_, entry) in best.items()}


def campaign_task_progress_rows(
    users: dict[UserKey, dict[str, Any]], campaigns: dict[str, dict[str, Any]]
) -> list[tuple]:
    """curated.campaign_task_progress: one row per user, campaign and task of the users' progressDetails."""
    deadlines = {(row[0], row[1]): row[4] for row in campaign_tasks_rows(campaigns)}
    rows = []
    for (user_id, campaign_id), item in users.items():
        created_at = utc(item.get("createdAt"))
        created_date: date | None = created_at.date() if created_at is not None else None
        for task_id, entry in _latest_entries(item.get("progressDetails") or []).items():
            rows.append(
                (
                    user_id,
                    campaign_id,
                    task_id,
                    entry.get("userCampaignTaskProgressState"),
                    utc(entry.get("validatedAt")),
                    entry.get("validationFailureReason") or None,
                    decimal_38_6(entry.get("rewardEarned")),
                    item.get("userCampaignProgressState"),
                    decimal_38_6(item.get("totalTaskRewardsEarned")),
                    created_at,
                    utc(item.get("updatedAt")),
                    deadlines.get((campaign_id, task_id)),
                    created_date,
                )
            )
    return sorted(rows, key=row_sort_key)


@dataclass
class ExportRecord:
    """One export as the model sees it: a snapshot (full) or each touched item's new image, None if deleted."""

    table: str
    kind: str  # "full" or "incremental"
    time: datetime  # exportTime (full) or exportToTime (incremental)
    from_time: datetime | None = None
    snapshot: dict[Any, dict[str, Any]] = field(default_factory=dict)
    changes: dict[Any, tuple[dict[str, Any] | None, dict[str, Any] | None]] = field(default_factory=dict)


def replay(exports: Iterable[ExportRecord]) -> dict[Any, dict[str, Any]]:
    """Item states the exports describe: the latest full snapshot, then every later incremental in time order."""
    ordered = sorted(exports, key=lambda e: (e.time, e.kind == "full"))
    fulls = [i for i, e in enumerate(ordered) if e.kind == "full"]
    start = fulls[-1] if fulls else -1
    state = dict(ordered[start].snapshot) if fulls else {}
    for export in ordered[start + 1 :]:
        for key, (_, new_image) in export.changes.items():
            if new_image is None:
                state.pop(key, None)
            else:
                state[key] = new_image
    return state
