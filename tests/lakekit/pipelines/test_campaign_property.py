"""Property: however a history of DynamoDB writes is exported and landed, the curated tables match the oracle.

Random histories of inserts, updates and deletes on user_Campaign and campaignInfo are cut into
full and incremental exports and landed into fresh lakes: one at a time with a workflow run after
each (in time order, or with an export landing after a newer one of its table), and all at once in
a shuffled order with one run. Whole rows are compared with tests/oracle.py after every run.
Spark runs are slow: the default profile tries a few small histories; HYPOTHESIS_PROFILE=deep tries more.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from scripts.export_writer import Change, export_id_for, write_full_export, write_incremental_export
from tests.helpers import read_table, run_campaign
from tests.oracle import (
    CAMPAIGN_TASK_PROGRESS_COLUMNS,
    CAMPAIGN_TASKS_COLUMNS,
    ExportRecord,
    campaign_task_progress_rows,
    campaign_tasks_rows,
    replay,
    row_sort_key,
)

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
# Every example runs the workflow several times (seconds each), so the default profile tries three random
# scenarios plus the explicit one, and does not shrink (each candidate would cost more runs: hours).
settings.register_profile(
    "campaign-quick",
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=_SLOW_OK,
)
settings.register_profile("campaign-deep", max_examples=30, deadline=None, suppress_health_check=_SLOW_OK)
PROFILE = settings.get_profile("campaign-deep" if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else "campaign-quick")


USERS, CAMPAIGNS = "user_Campaign", "campaignInfo"
USER_KEYS = [("U#1", "C#1"), ("U#1", "C#2"), ("U#2", "C#1"), ("U#2", "C#9")]  # C#9 is never a campaign
CAMPAIGN_KEYS = ["C#1", "C#2"]
T0 = datetime(2026, 11, 20, tzinfo=UTC)  # both tables are empty until then
# Export ids carry the moment an export lands (AWS's carry the request's), so their order is not the data's.
LANDED_FROM = datetime(2026, 12, 1, tzinfo=UTC)


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()  # a drawn value meaning: the item has no such attribute


def present(**attributes: Any) -> dict[str, Any]:
    return {name: value for name, value in attributes.items() if value is not ABSENT}


def iso(minutes: int, offset_minutes: int) -> str:
    """A moment near midnight UTC written in some offset (Z for UTC), so local and UTC dates can differ."""
    moment = T0 - timedelta(hours=2) + timedelta(minutes=minutes)
    text = moment.astimezone(timezone(timedelta(minutes=offset_minutes))).isoformat()
    return text.replace("+00:00", "Z")


# Few distinct moments, so ties happen (also the same instant written in two offsets).
moments = st.builds(iso, st.sampled_from([0, 90, 150, 240]), st.sampled_from([0, 120, -300, 330]))
amounts = st.sampled_from([Decimal("0"), Decimal("5.5"), Decimal("10"), Decimal("0.123456")])


def progress_entry(task_id, state, validated_at=ABSENT, reason=ABSENT, reward=ABSENT) -> dict[str, Any]:
    return present(
        taskID=task_id,
        userCampaignTaskProgressState=state,
        validatedAt=validated_at,
        validationFailureReason=reason,
        rewardEarned=reward,
    )


def user_item(key, state, created, updated, total, details) -> dict[str, Any]:
    return present(
        userID=key[0],
        campaignID=key[1],
        userCampaignProgressState=state,
        createdAt=created,
        updatedAt=updated,
        totalTaskRewardsEarned=total,
        progressDetails=details,
    )


def campaign_task(task_id, reward, deadline) -> dict[str, Any]:
    return present(taskID=task_id, rewardAmount=reward, taskDeadline=deadline)


def campaign_item(campaign_id, title, claim, ends, created, updated, tasks) -> dict[str, Any]:
    return present(
        campaignID=campaign_id,
        title=title,
        rewardClaimDeadline=claim,
        endsAtTimestamp=ends,
        createdAt=created,
        updatedAt=updated,
        campaignTasks=tasks,
    )


def rarely(common: st.SearchStrategy, rare: st.SearchStrategy, percent: int = 15) -> st.SearchStrategy:
    """`rare` about `percent` times in a hundred, else `common`.

    Every example costs Spark runs, so the few tried must be dense; the rare band sits mid-range
    because hypothesis favours the ends of a range.
    """
    return st.integers(0, 99).flatmap(lambda n: rare if 40 <= n < 40 + percent else common)


def mostly(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return rarely(strategy, st.just(ABSENT))  # ABSENT: the attribute is missing from the item


progress_entries = st.builds(
    progress_entry,
    mostly(st.sampled_from(["T#a", "T#b", "T#c", "T#x", "T#a", "T#b"])),  # T#x is in no campaign
    st.sampled_from(["COMPLETED", "FAILED", "PENDING"]),
    mostly(moments),
    st.sampled_from(["", "link expired", None, ABSENT]),
    mostly(amounts),
)
campaign_tasks = st.builds(campaign_task, mostly(st.sampled_from(["T#a", "T#b", "T#c"])), amounts, mostly(moments))
# Lists (a task may repeat), now and then empty or missing.
progress_lists = rarely(st.lists(progress_entries, min_size=1, max_size=3), st.sampled_from([[], ABSENT]), 25)
task_lists = rarely(st.lists(campaign_tasks, min_size=1, max_size=3), st.sampled_from([[], ABSENT]), 20)


def user_items(key: tuple[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        user_item,
        st.just(key),
        st.sampled_from(["JOINED", "IN_PROGRESS", ABSENT]),
        mostly(moments),
        moments,
        amounts,
        progress_lists,
    )


def campaign_items(campaign_id: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        campaign_item,
        st.just(campaign_id),
        st.sampled_from(["Spring quest", "Winter streak"]),
        moments,
        moments,
        moments,
        moments,
        task_lists,
    )


@dataclass(frozen=True)
class Write:
    """A put (item), a delete (neither), or campaign task number `moved[0]` (mod count) getting deadline `moved[1]`."""

    table: str
    key: Any
    item: dict[str, Any] | None = None
    moved: tuple[int, str] | None = None

    def applied_to(self, current: dict[str, Any] | None) -> dict[str, Any] | None:
        if self.moved is None:
            return self.item
        tasks = (current or {}).get("campaignTasks") or []
        if not tasks:
            return current
        index = self.moved[0] % len(tasks)
        moved = {**tasks[index], "taskDeadline": self.moved[1]}
        return {**current, "campaignTasks": [*tasks[:index], moved, *tasks[index + 1 :]]}


@dataclass(frozen=True)
class Step:
    """Writes, then an export of one table: a full snapshot or the incremental since its previous export."""

    writes: tuple[Write, ...]
    table: str
    kind: str  # "full" or "incremental"
    keep_gone: bool = False  # an item inserted and deleted in the window still appears, as a delete
    delete_keeps_old_image: bool = True  # AWS writes a delete as Keys+OldImage or as Keys alone


@dataclass(frozen=True)
class Scenario:
    steps: tuple[Step, ...]
    one_at_a_time: tuple[int, ...]  # landing order of the exports (step numbers), a workflow run after each
    all_at_once: tuple[int, ...]  # order the export folders are created in, then a single run


@dataclass
class PlannedExport:
    record: ExportRecord
    write_times: dict[Any, datetime]
    delete_keeps_old_image: bool


@dataclass
class History:
    exports: list[PlannedExport]
    final: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)  # per table, states at its last export


def build_history(steps: tuple[Step, ...]) -> History:
    """Play the writes; export times strictly increase and each table's incrementals chain from T0."""
    state: dict[str, dict] = {USERS: {}, CAMPAIGNS: {}}
    before: dict[str, dict] = {USERS: {}, CAMPAIGNS: {}}  # key -> image before the table's current window
    write_times: dict[str, dict] = {USERS: {}, CAMPAIGNS: {}}
    previous = {USERS: T0, CAMPAIGNS: T0}
    history = History([], {USERS: {}, CAMPAIGNS: {}})
    clock = T0
    for step in steps:
        for write in step.writes:
            clock += timedelta(minutes=1)
            items = state[write.table]
            before[write.table].setdefault(write.key, items.get(write.key))
            write_times[write.table][write.key] = clock
            new_item = write.applied_to(items.get(write.key))
            if new_item is None:
                items.pop(write.key, None)
            else:
                items[write.key] = new_item
        clock += timedelta(minutes=1)
        table = step.table
        if step.kind == "full":
            record = ExportRecord(table, "full", clock, snapshot=dict(state[table]))
        else:
            changes = {key: (old, state[table].get(key)) for key, old in before[table].items()}
            changes = {key: c for key, c in changes.items() if c != (None, None) or step.keep_gone}
            record = ExportRecord(table, "incremental", clock, from_time=previous[table], changes=changes)
        history.exports.append(PlannedExport(record, dict(write_times[table]), step.delete_keeps_old_image))
        before[table], write_times[table], previous[table] = {}, {}, clock
        history.final[table] = dict(state[table])
    return history


user_keys = st.sampled_from(USER_KEYS)
campaign_keys = st.sampled_from(CAMPAIGN_KEYS)
user_puts = user_keys.flatmap(lambda key: user_items(key).map(lambda item: Write(USERS, key, item)))
campaign_puts = campaign_keys.flatmap(lambda key: campaign_items(key).map(lambda item: Write(CAMPAIGNS, key, item)))
deadline_moves = st.builds(
    lambda key, moved: Write(CAMPAIGNS, key, moved=moved), campaign_keys, st.tuples(st.integers(0, 2), moments)
)
WRITES = {
    USERS: rarely(user_puts, user_keys.map(lambda key: Write(USERS, key)), 20),
    CAMPAIGNS: rarely(
        st.one_of(campaign_puts, campaign_puts, deadline_moves), campaign_keys.map(lambda k: Write(CAMPAIGNS, k)), 20
    ),
}
OTHER = {USERS: CAMPAIGNS, CAMPAIGNS: USERS}


def lands_late(steps: tuple[Step, ...], order: tuple[int, ...]) -> bool:
    """Whether some export lands after a newer export of its table."""
    return any(steps[a].table == steps[b].table and a > b for i, a in enumerate(order) for b in order[i + 1 :])


@st.composite
def scenarios(draw, max_exports: int = 4) -> Scenario:
    """Two to `max_exports` exports of both tables; the one-at-a-time landing is in time order or late."""
    count = draw(st.integers(2, max_exports))
    late = draw(st.booleans())
    tables = draw(st.lists(st.sampled_from([USERS, CAMPAIGNS]), min_size=count, max_size=count))
    if late and count == 2:
        tables[1] = tables[0]  # a late landing needs two exports of one table
    elif len(set(tables)) == 1:
        tables[draw(st.integers(1, count - 1))] = OTHER[tables[0]]
    steps = tuple(
        Step(
            # Mostly writes to the table exported next; those to the other wait for its next export.
            tuple(
                draw(st.lists(WRITES[table], min_size=1, max_size=3)) + draw(st.lists(WRITES[OTHER[table]], max_size=1))
            ),
            table,
            draw(st.sampled_from(["full", "incremental"])),
            keep_gone=draw(st.booleans()),
            delete_keeps_old_image=draw(st.booleans()),
        )
        for table in tables
    )
    order = tuple(range(count))
    if late:
        order = tuple(draw(st.permutations(order)))
        if not lands_late(steps, order):
            order = order[::-1]  # then every export of a table lands after all newer ones
    return Scenario(steps, order, tuple(draw(st.permutations(range(count)))))


def _example_scenario() -> Scenario:
    """Users full at 1, campaigns incremental at 2, users incremental at 3, landed 3, 2, then 1 late.

    Deadlines reach rows already curated (by the change feed), then the old full export resets the users.
    """
    alice = ("U#1", "C#1")
    first = user_item(
        alice,
        "IN_PROGRESS",
        "2026-11-19T23:30:00-02:00",  # 01:30 UTC on the 20th: created_date is the UTC date
        "2026-11-20T00:00:00Z",
        Decimal("10"),
        [
            progress_entry("T#a", "COMPLETED", "2026-11-19T23:00:00Z", "", Decimal("10")),
            progress_entry("T#a", "FAILED", "2026-11-19T22:00:00Z", "link expired", Decimal("0")),  # older
            progress_entry("T#x", "PENDING"),  # unknown task, no validatedAt
        ],
    )
    campaign = campaign_item(
        "C#1",
        "Spring quest",
        "2026-12-31T23:59:59Z",
        "2026-12-15T00:00:00+01:00",
        "2026-10-01T09:00:00Z",
        "2026-11-01T09:00:00Z",
        [
            campaign_task("T#a", Decimal("10"), "2026-11-25T12:00:00+02:00"),
            campaign_task("T#b", Decimal("5.5"), "2026-11-26T00:00:00Z"),
        ],
    )
    later = {**first, "progressDetails": [*first["progressDetails"], progress_entry("T#b", "COMPLETED", iso(5, 0))]}
    steps = (
        Step(
            (
                Write(USERS, alice, first),
                Write(USERS, ("U#2", "C#9"), user_item(("U#2", "C#9"), "JOINED", iso(0, 0), iso(0, 0), 0, ABSENT)),
                Write(CAMPAIGNS, "C#1", campaign),
            ),
            USERS,
            "full",
        ),
        Step((Write(CAMPAIGNS, "C#1", moved=(0, "2026-11-27T12:00:00+02:00")),), CAMPAIGNS, "incremental"),
        Step(
            (
                Write(USERS, alice, later),
                Write(USERS, ("U#1", "C#2"), user_item(("U#1", "C#2"), "JOINED", iso(1, 0), iso(1, 0), 0, [])),
                Write(USERS, ("U#2", "C#9")),
            ),
            USERS,
            "incremental",
            delete_keeps_old_image=False,
        ),
    )
    return Scenario(steps, one_at_a_time=(2, 1, 0), all_at_once=(1, 2, 0))


def fresh_lake(tmp_path_factory) -> str:
    # Hypothesis reuses function-scoped fixtures across examples, so each landing gets its own root here.
    return str(tmp_path_factory.mktemp("lake"))


def land(lake_root: str, planned: PlannedExport, landing_number: int) -> None:
    """Write the export into landing/ with an id from the moment it lands (ids need not follow data time)."""
    export = planned.record
    landing = Path(lake_root) / "landing"
    export_id = export_id_for(LANDED_FROM + timedelta(minutes=landing_number), export.table)
    if export.kind == "full":
        write_full_export(landing, export.table, export.time, export.snapshot.values(), export_id=export_id)
        return
    changes = []
    for key, (old_image, new_image) in export.changes.items():
        keys = {"userID": key[0], "campaignID": key[1]} if export.table == USERS else {"campaignID": key}
        keep_old = new_image is not None or planned.delete_keeps_old_image
        changes.append(Change(keys, new_image, old_image if keep_old else None, planned.write_times.get(key)))
    write_incremental_export(landing, export.table, export.from_time, export.time, changes, export_id=export_id)


def _utc(value: Any) -> Any:
    # collect() gives naive datetimes in the Python process's local time zone.
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def curated_rows(spark, lake_root: str, name: str, columns: list[str]) -> list[tuple]:
    if not Path(lake_root, "curated", name.split(".", 1)[1], "_delta_log").is_dir():
        return []  # the job has had nothing to do yet, so made no table
    rows = read_table(spark, lake_root, name).select(*columns).collect()
    return sorted((tuple(_utc(value) for value in row) for row in rows), key=row_sort_key)


def assert_curated_match(spark, lake_root: str, users: dict, campaigns: dict, context: str) -> None:
    actual_tasks = curated_rows(spark, lake_root, "curated.campaign_tasks", CAMPAIGN_TASKS_COLUMNS)
    assert actual_tasks == campaign_tasks_rows(campaigns), f"curated.campaign_tasks {context}"
    actual_progress = curated_rows(spark, lake_root, "curated.campaign_task_progress", CAMPAIGN_TASK_PROGRESS_COLUMNS)
    assert actual_progress == campaign_task_progress_rows(users, campaigns), f"curated.campaign_task_progress {context}"


def check_scenario(spark, tmp_path_factory, scenario: Scenario) -> None:
    """Land the scenario's exports one at a time (a run and a check after each), then all at once in a fresh lake."""
    history = build_history(scenario.steps)
    exports = history.exports
    final_users, final_campaigns = history.final[USERS], history.final[CAMPAIGNS]
    for table, final in ((USERS, final_users), (CAMPAIGNS, final_campaigns)):  # the model checks itself first
        assert replay(p.record for p in exports if p.record.table == table) == final

    lake_root = fresh_lake(tmp_path_factory)
    landed: list[ExportRecord] = []
    for number, index in enumerate(scenario.one_at_a_time):
        land(lake_root, exports[index], number)
        landed.append(exports[index].record)
        run_campaign(lake_root)
        # What the exports landed so far describe (an export landing late included).
        users = replay(e for e in landed if e.table == USERS)
        campaigns = replay(e for e in landed if e.table == CAMPAIGNS)
        assert_curated_match(
            spark, lake_root, users, campaigns, f"after landing {scenario.one_at_a_time[: number + 1]}"
        )
    assert_curated_match(spark, lake_root, final_users, final_campaigns, "at the end, landed one at a time")

    all_at_once = fresh_lake(tmp_path_factory)
    for number, index in enumerate(scenario.all_at_once):
        land(all_at_once, exports[index], number)
    run_campaign(all_at_once)
    assert_curated_match(spark, all_at_once, final_users, final_campaigns, f"landed at once in {scenario.all_at_once}")


@pytest.mark.long  # about 100 s: make test-long
@PROFILE
@example(scenario=_example_scenario())
@given(scenario=scenarios())
def test_exports_landed_in_any_order_give_the_oracle_rows(spark, tmp_path_factory, scenario):
    check_scenario(spark, tmp_path_factory, scenario)
