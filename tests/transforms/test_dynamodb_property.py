"""Property: whatever the lines, the decode never fails, every line ends good or quarantined (once), values exact.

Lines are generated with hypothesis: export records of raw.user_campaign with extreme and malformed
numbers at the top level and nested in progressDetails, wrong types, cut-short and non-JSON lines. A
plain-Python oracle (decimal.Decimal) says which numbers decimal(38,6) holds exactly.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakekit.catalog.model import load_table
from tests.transforms.test_dynamodb import lines_df
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
tasks = st.fixed_dictionaries(
    {"taskID": st.just({"S": "t"}), "rewardEarned": number_values},
    optional={"validatedAt": texts.map(lambda t: {"S": t})},
).map(lambda m: {"M": m})
items = st.fixed_dictionaries(
    {"userID": texts.map(lambda t: {"S": t}), "campaignID": texts.map(lambda t: {"S": t})},
    optional={
        "totalTaskRewardsEarned": number_values,
        "progressDetails": st.lists(tasks, max_size=3).map(lambda tasks: {"L": tasks}),
        "userCampaignProgressState": st.sampled_from([{"S": "DONE"}, {"N": "1"}, {"NULL": True}]),
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


def oracle_values(text: str) -> tuple[Decimal | None, list[Decimal | None] | None] | None:
    """(total, rewards) as decimal(38,6) holds them, or None when a number in the line cannot be held exactly."""
    record = json.loads(text)
    item = record.get("Item") or record.get("NewImage")

    def value(wire: dict | None) -> tuple[bool, Decimal | None]:
        if wire is None or wire == {"NULL": True}:
            return True, None
        if "N" not in wire:  # a wrong type
            return False, None
        held = exact(wire["N"])
        return held is not None, held

    ok, total = value(item.get("totalTaskRewardsEarned"))
    rewards = None
    if "progressDetails" in item:
        rewards = []
        for task in item["progressDetails"]["L"]:
            task_ok, reward = value(task["M"].get("rewardEarned"))
            ok &= task_ok
            rewards.append(reward)
    return (total, rewards) if ok else None


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(chosen=lines())
def test_every_line_is_decoded_exactly_or_quarantined_never_both_never_lost(spark, chosen):
    decoded = with_decoded_export_records(lines_df(spark, chosen), TABLE.schema, KEYS)
    # One Spark job per example: the split the raw job makes (filter_good_records: _error is null) done here.
    rows = decoded.select("_line_number", "_text", "_error", "total_task_rewards_earned", "progress_details").collect()
    good = [r for r in rows if r["_error"] is None]
    bad = [r for r in rows if r["_error"] is not None]

    numbers_in = list(range(1, len(chosen) + 1))
    assert sorted([r["_line_number"] for r in good] + [r["_line_number"] for r in bad]) == numbers_in
    assert all(r["_text"] == chosen[r["_line_number"] - 1] for r in good + bad)
    for row in good:
        expected = oracle_values(row["_text"])
        assert expected is not None, f"line {row['_line_number']} kept although a number cannot be held exactly"
        total, rewards = expected
        assert row["total_task_rewards_earned"] == total
        got = None if row["progress_details"] is None else [t["reward_earned"] for t in row["progress_details"]]
        assert got == rewards
