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


# ------------------------------------------------------------------------------------------------ retail
# A plain-Python model of curated_retail: events (the retail stream's fields plus record_id and received_at)
# in, the rows of curated.retail_invoice_lines, retail_invoices and retail_customers out (updated_at left out).

_CENTS = Decimal("0.01")


@dataclass(frozen=True)
class RetailConf:
    codes: tuple[str, ...]
    prefixes: tuple[str, ...]
    countries: tuple[str, ...]


def retail_problem(event: dict[str, Any]) -> str | None:
    """Why an event cannot be stored exactly, naming the column (the first problem), else None."""
    for column in ("invoice_no", "line_no", "stock_code", "quantity", "invoiced_at", "unit_price"):
        if event.get(column) is None:
            return f"{column}: missing"
    text = str(event["unit_price"])
    price = Decimal(text)
    if price != price.quantize(_CENTS) or abs(price) >= Decimal(10) ** 8:
        return f"unit_price: '{text}' cannot be stored exactly as decimal(10,2)"
    if abs(event["quantity"] * price) >= Decimal(10) ** 10:
        return f"amount: {event['quantity']} x '{text}' cannot be stored exactly as decimal(12,2)"
    return None


def retail_line(event: dict[str, Any], conf: RetailConf) -> tuple:
    """The line's row without received_at, in the catalog's column order."""
    price = Decimal(str(event["unit_price"])).quantize(_CENTS)
    code = event["stock_code"].strip().upper()
    non_product = code in {c.upper() for c in conf.codes} or any(code.startswith(p.upper()) for p in conf.prefixes)
    cancellation = event["invoice_no"].startswith("C")
    invoiced_at = datetime.fromisoformat(event["invoiced_at"])
    country = event.get("country")
    return (
        event["invoice_no"],
        event["line_no"],
        event["stock_code"],
        event.get("description"),
        event["quantity"],
        price,
        (event["quantity"] * price).quantize(_CENTS),
        event.get("customer_id"),
        country,
        invoiced_at,
        invoiced_at.date(),
        cancellation,
        not non_product,
        event["quantity"] < 0 and not cancellation,
        price == 0,
        price < 0,
        country is None or country.strip() not in conf.countries,
    )


def retail_lines(events: Iterable[dict[str, Any]], conf: RetailConf) -> dict[tuple[str, int], tuple]:
    """{(invoice_no, line_no): row with received_at last}: events applied in receive order, each one that
    changes a line's content replacing it (a retry or duplicate leaves the row and its received_at alone)."""
    state: dict[tuple[str, int], tuple] = {}
    for event in sorted(events, key=lambda e: (e["received_at"], e["record_id"])):
        if retail_problem(event) is not None:
            continue
        row = retail_line(event, conf)
        key = (event["invoice_no"], event["line_no"])
        if key not in state or state[key][:-1] != row:
            state[key] = (*row, event["received_at"])
    return state


def retail_invoices(lines: dict[tuple[str, int], tuple]) -> dict[str, tuple]:
    """{invoice_no: curated.retail_invoices row}: the first line's customer, country and time; count and sum."""
    by_invoice: dict[str, list[tuple]] = {}
    for (invoice_no, _), row in sorted(lines.items()):
        by_invoice.setdefault(invoice_no, []).append(row)
    invoices = {}
    for invoice_no, rows in by_invoice.items():
        first = rows[0]
        invoices[invoice_no] = (
            invoice_no,
            first[7],
            first[8],
            first[9],
            first[9].date(),
            invoice_no.startswith("C"),
            invoice_no.startswith("A"),
            len(rows),
            sum((r[6] for r in rows), Decimal("0.00")),
        )
    return invoices


def retail_customers(invoices: dict[str, tuple]) -> dict[str, tuple]:
    """{customer_id: curated.retail_customers row without updated_at}: guests left out."""
    by_customer: dict[str, list[tuple]] = {}
    for invoice in invoices.values():
        if invoice[1] is not None:
            by_customer.setdefault(invoice[1], []).append(invoice)
    customers = {}
    for customer_id, rows in by_customer.items():
        latest = max(rows, key=lambda r: (r[3], r[0]))
        customers[customer_id] = (
            customer_id,
            latest[2],
            min(r[3] for r in rows),
            max(r[3] for r in rows),
            sum(1 for r in rows if not r[5]),
            sum(1 for r in rows if r[5]),
            sum((r[8] for r in rows), Decimal("0.00")),
        )
    return customers
