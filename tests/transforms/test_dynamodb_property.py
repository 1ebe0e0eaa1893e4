"""Property: whatever the lines, the decode never fails, every line ends good or quarantined (once), values exact.

Lines are generated with hypothesis: export records of raw.user_campaign with extreme and malformed
numbers and timestamps at the top level and nested in progressDetails, wrong types, cut-short and
non-JSON lines. A plain-Python oracle (decimal.Decimal, datetime) says which numbers decimal(38,6)
holds exactly and which texts are ISO 8601 timestamps, and what instant each one is.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from lakekit.catalog.model import load_table
from tests.transforms.test_dynamodb import lines_df
from transforms.campaign import to_utc_timestamp
from transforms.dynamodb import with_decoded_export_records

TABLE = load_table("raw.user_campaign")
KEYS = list(TABLE.source["keys"])
SCALE = Decimal("0.000001")  # decimal(38,6)
LIMIT = Decimal(10) ** 32

EXTREME_NUMBERS = ["1e999999999", "1e-999999999", "-1e999999999", "1E+400", "1e-7", "0.0000001", "1" * 40]
EXTREME_NUMBERS += ["99999999999999999999999999999999.999999", "-0", "0e5", "15e-7", "1.5E2", "123.4560000"]
NOT_NUMBERS = ["NaN", "Infinity", "", "abc", "1,5", "0x10", "--1", "1e", "1.2.3"]


def exact(text: str) -> Decimal | None:
    """The value decimal(38,6) holds exactly for `text`, or None when it holds none (the line must be quarantined)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= LIMIT:
        return None
    try:
        return value if value == value.quantize(SCALE) else None
    except InvalidOperation:
        return None


numbers = st.one_of(
    st.integers(0, 8).flatmap(lambda p: st.decimals(allow_nan=False, allow_infinity=False, places=p)).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: f"{d:e}"),
    st.integers(-(10**40), 10**40).map(str),
    st.sampled_from(EXTREME_NUMBERS),
)
number_values = st.one_of(
    numbers.map(lambda t: {"N": t}),
    st.sampled_from(NOT_NUMBERS).map(lambda t: {"N": t}),
    st.sampled_from([{"NULL": True}, {"S": "12"}, {"BOOL": True}, {"L": []}]),
)
texts = st.text(max_size=8)


def timestamp_text(year, month, day, hour, minute, second, fraction, zone) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"


timestamps = st.one_of(
    st.builds(  # valid ones, so that lines with timestamps are kept too
        timestamp_text,
        st.integers(1900, 2100),
        st.integers(1, 12),
        st.integers(1, 28),
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
        st.sampled_from(["", ".5", ".123456", ".1234560", ".000000000"]),
        st.sampled_from(["", "Z", "+05:30", "-02:00", "+18:00", "-18:00"]),
    ),
    st.builds(
        timestamp_text,
        st.integers(1900, 2100),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 24),
        st.integers(0, 60),
        st.integers(0, 60),
        st.sampled_from(["", ".5", ".123456", ".1234560", ".1234567", ".000000000", "."]),
        st.sampled_from(["", "Z", "+05:30", "-02:00", "+18:00", "+19:00", "+05:60", "z", " UTC", "+0530"]),
    ),
    st.sampled_from(
        ["", "yesterday", "12:00:00", "2024", "2024-03-02", " 2024-03-02T12:00:00Z", "2024-03-02 12:00:00"]
    ),
    texts,
)
tasks = st.fixed_dictionaries(
    {"taskID": st.just({"S": "t"}), "rewardEarned": number_values},
    optional={"validatedAt": timestamps.map(lambda t: {"S": t})},
).map(lambda m: {"M": m})
items = st.fixed_dictionaries(
    {"userID": texts.map(lambda t: {"S": t}), "campaignID": texts.map(lambda t: {"S": t})},
    optional={
        "totalTaskRewardsEarned": number_values,
        "progressDetails": st.lists(tasks, max_size=3).map(lambda tasks: {"L": tasks}),
        "userCampaignProgressState": st.sampled_from([{"S": "DONE"}, {"N": "1"}, {"NULL": True}]),
        "createdAt": timestamps.map(lambda t: {"S": t}),
    },
)
records = st.one_of(
    items.map(lambda item: {"Item": item}),
    items.map(lambda item: {"Keys": {k: item[k] for k in KEYS}, "NewImage": item}),
)


@st.composite
def lines(draw) -> list[str | None]:
    chosen = []
    for _ in range(draw(st.integers(1, 12))):
        text = json.dumps(draw(records))
        kind = draw(st.sampled_from(["record", "record", "record", "cut", "garbage", "duplicate"]))
        if kind == "cut":
            text = text[: draw(st.integers(0, len(text) - 1))]
        elif kind == "garbage":
            text = draw(st.one_of(st.text(max_size=20), st.sampled_from(["[]", "{}", "null", "1", None])))
        elif kind == "duplicate" and chosen:
            text = chosen[-1]
        chosen.append(text)
    return chosen


ISO_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|([+-])([0-9]{2}):([0-9]{2}))?"
)


def instant(text: str) -> tuple[bool, datetime | None]:
    """(whether `text` is an ISO 8601 timestamp or "", the UTC instant it names). No offset means UTC."""
    if text == "":
        return True, None
    match = ISO_TIMESTAMP.fullmatch(text)
    if not match or len((match[7] or "").rstrip("0")) > 6:
        return False, None
    sign, hours, minutes = match[9], int(match[10] or 0), int(match[11] or 0)
    if minutes > 59 or hours * 60 + minutes > 18 * 60:  # offsets reach +-18:00
        return False, None
    try:
        fields = [int(match[i]) for i in range(1, 7)]
        local = datetime(*fields, int(((match[7] or "") + "000000")[:6]))
    except ValueError:
        return False, None
    offset = timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1)
    return True, local.replace(tzinfo=timezone(offset)).astimezone(UTC)


def oracle_values(text: str) -> tuple[Decimal | None, list[Decimal | None] | None, list] | None:
    """(total, rewards, validated instants) as the columns hold them, or None when a value cannot be held exactly."""
    record = json.loads(text)
    item = record.get("Item") or record.get("NewImage")

    def value(wire: dict | None) -> tuple[bool, Decimal | None]:
        if wire is None or wire == {"NULL": True}:
            return True, None
        if "N" not in wire:  # a wrong type
            return False, None
        held = exact(wire["N"])
        return held is not None, held

    def moment(wire: dict | None) -> tuple[bool, datetime | None]:
        return (True, None) if wire is None else instant(wire["S"])

    ok, total = value(item.get("totalTaskRewardsEarned"))
    ok &= moment(item.get("createdAt"))[0]
    rewards = instants = None
    if "progressDetails" in item:
        rewards, instants = [], []
        for task in item["progressDetails"]["L"]:
            task_ok, reward = value(task["M"].get("rewardEarned"))
            time_ok, validated = moment(task["M"].get("validatedAt"))
            ok &= task_ok and time_ok
            rewards.append(reward)
            instants.append(validated)
    return (total, rewards, instants) if ok else None


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(chosen=lines())
def test_every_line_is_decoded_exactly_or_quarantined_never_both_never_lost(spark, chosen):
    decoded = with_decoded_export_records(lines_df(spark, chosen), TABLE.schema, KEYS)
    # One Spark job per example: the split the raw job makes (filter_good_records: _error is null) done here.
    # Curated's parse of every validatedAt kept: a text raw keeps must be the instant the oracle reads in it.
    validated = F.transform("progress_details", lambda e: to_utc_timestamp(e["validated_at"])).alias("validated")
    columns = ["_line_number", "_text", "_error", "total_task_rewards_earned", "progress_details"]
    rows = decoded.select(*columns, validated).collect()
    good = [r for r in rows if r["_error"] is None]
    bad = [r for r in rows if r["_error"] is not None]

    numbers_in = list(range(1, len(chosen) + 1))
    assert sorted([r["_line_number"] for r in good] + [r["_line_number"] for r in bad]) == numbers_in
    assert all(r["_text"] == chosen[r["_line_number"] - 1] for r in good + bad)
    for row in good:
        expected = oracle_values(row["_text"])
        assert expected is not None, f"line {row['_line_number']} kept although a value cannot be held exactly"
        total, rewards, instants = expected
        assert row["total_task_rewards_earned"] == total
        got = None if row["progress_details"] is None else [t["reward_earned"] for t in row["progress_details"]]
        assert got == rewards
        got = (
            None
            if row["validated"] is None
            else [None if t is None else t.replace(tzinfo=UTC) for t in row["validated"]]
        )
        assert got == instants
