"""Property: whatever the API sends, ingest_users never crashes and every record ends in raw.users or in quarantine.

Hypothesis draws a few responses: good ones whose records carry malformed and extreme values (wrong
types, missing fields, huge numbers, bad dates, unicode, nulls), and bad ones (cut short, not JSON,
the API's error body, results that are not records). They are served as recorded responses to the
real job (landing, then raw). Each record carries a marker (its `phone`); it must be found exactly
once: as a raw row, or in the records quarantine; a response that cannot be landed is found once in
the responses quarantine. A record lands if and only if none of its values is one its column cannot
hold (the label each drawn change carries, written down here by hand, not computed by the job's code).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from lakekit.pipelines.users import CREDENTIAL_FIELDS
from scripts.samples.users import RANDOMUSER_PAGES
from tests.helpers import read_table, run_job

BASE = RANDOMUSER_PAGES[0]["results"]
INFO = RANDOMUSER_PAGES[0]["info"]
SECRETS = sorted({str(r["login"][k]) for r in BASE for k in CREDENTIAL_FIELDS})

# (path, value): a value at a path. A record holding one of GOOD_CHANGES must land, one of BAD_CHANGES not.
GOOD_CHANGES = [
    ("location.postcode", 90210),  # the API's int-or-string postcode
    ("location.postcode", 10**30),
    ("location.postcode", "H9P 1K4 ünïcödé ☃"),
    ("id.value", None),
    ("name.first", "Zoë 山田 😀"),
    ("dob", None),
    ("location.coordinates.latitude", "1e308"),
    ("location.coordinates.longitude", "-0.0"),
    ("dob.age", 38.0),
    ("registered.date", "2014-06-30T17:02:11.004+05:30"),
    ("login.uuid", None),  # kept in raw; the daily job counts and skips it
    ("nat", 7),  # a string column keeps any JSON value as text
]
BAD_CHANGES = [
    ("dob.date", "yesterday"),
    ("dob.date", "2026-13-45T00:00:00Z"),
    ("dob.date", ""),
    ("registered.date", "2014-06-30T17:02:11.0041234Z"),  # a 7th fractional digit
    ("dob.age", 1.5),
    ("dob.age", 10**40),
    ("dob.age", "old"),
    ("dob.age", True),
    ("location.street.number", 2**31),
    ("location.street.number", float("inf")),  # landed by Python's json as Infinity
    ("location.coordinates.latitude", "north"),
    ("location.coordinates.latitude", "1e400"),
    ("location.coordinates.latitude", "NaN"),
    ("name", "Anna Tremblay"),
    ("location", ["Dorval"]),
    ("dob", 1988),
]
DELETABLE = ["picture", "id", "cell", "nat", "registered", "location.coordinates", "login.uuid", "name.title"]


def apply(record: dict, path: str, value) -> None:
    *parents, leaf = path.split(".")
    for parent in parents:
        record = record[parent]
    record[leaf] = value


def delete(record: dict, path: str) -> None:
    *parents, leaf = path.split(".")
    for parent in parents:
        record = record[parent]
    record.pop(leaf, None)


@st.composite
def records(draw, marker: str) -> tuple[dict, bool]:
    """A record marked with `marker` (its phone) and whether it must land."""
    record = copy.deepcopy(draw(st.sampled_from(BASE)))
    record["phone"] = marker
    for path in draw(st.lists(st.sampled_from(DELETABLE), max_size=2, unique=True)):
        delete(record, path)
    for path, value in draw(st.lists(st.sampled_from(GOOD_CHANGES + BAD_CHANGES), max_size=2)):
        try:
            apply(record, path, value)
        except (KeyError, TypeError):  # its parent was deleted or replaced: the change does not apply
            continue
    return record, not holds_a_bad_value(record)


def holds_a_bad_value(record: dict) -> bool:
    """Whether one of BAD_CHANGES is in the record as it ends (a later change may have replaced its parent)."""
    for path, value in BAD_CHANGES:
        node = record
        *parents, leaf = path.split(".")
        for parent in parents:
            node = node.get(parent) if isinstance(node, dict) else None
        if isinstance(node, dict) and leaf in node and type(node[leaf]) is type(value) and node[leaf] == value:
            return True
    return False


@st.composite
def responses(draw) -> tuple[list[bytes], list[tuple[str, bool]], int]:
    """Response bodies, the (marker, lands) of every record in the good ones, and how many cannot be landed."""
    bodies, expected, unlandable = [], [], 0
    for number in range(draw(st.integers(1, 3))):
        drawn = [draw(records(f"#{number}-{index}")) for index in range(draw(st.integers(0, 4)))]
        body = json.dumps({"results": [r for r, _ in drawn], "info": INFO}, ensure_ascii=False).encode()
        kind = draw(st.sampled_from(["good", "good", "good", "cut", "not json", "error", "not records"]))
        if kind == "good":
            bodies.append(body)
            expected += [(r["phone"], lands) for r, lands in drawn]
            continue
        unlandable += 1
        if kind == "cut":
            body = body[: draw(st.integers(0, len(body) - 1))]
        elif kind == "not json":
            body = draw(
                st.sampled_from(
                    [
                        b"",
                        b"<html>Bad Gateway</html>",
                        b"\xff\xfe\x00",
                        b"{'results': []}",
                        b'{"results": [{"a": "\\udc00"}]}',
                    ]
                )
            )
        elif kind == "error":
            body = b'{"error": "Uh oh, something has gone wrong."}'
        else:
            body = json.dumps({"results": ["a", 1, None]}).encode()
        bodies.append(body)
    return bodies, expected, unlandable


def marked(marker: str, *changes: tuple[str, object]) -> dict:
    record = copy.deepcopy(BASE[0])
    record["phone"] = marker
    for path, value in changes:
        apply(record, path, value)
    return record


def every_kind() -> tuple[list[bytes], list[tuple[str, bool]], int]:
    """One response of each kind, and records with each bad and each good change: tried first on every run."""
    bad = [marked(f"bad-{i}", change) for i, change in enumerate(BAD_CHANGES)]
    good = [marked(f"good-{i}", change) for i, change in enumerate(GOOD_CHANGES)]
    landed = json.dumps({"results": bad + good, "info": INFO}, ensure_ascii=False).encode()
    bodies = [
        landed,
        landed[: len(landed) // 2],
        b"<html>Bad Gateway</html>",
        b'{"error": "Uh oh, something has gone wrong."}',
        json.dumps({"results": ["a", 1, None]}).encode(),
        json.dumps({"results": [], "info": INFO}).encode(),
        b'{"results": [{"phone": "half", "name": {"first": "\\ud800"}}]}',  # not Unicode: cannot be landed
    ]
    return bodies, [(r["phone"], False) for r in bad] + [(r["phone"], True) for r in good], 5


@settings(
    max_examples=2,
    derandomize=True,  # the same examples on every run: CI stays stable
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each candidate is a job run
    suppress_health_check=list(HealthCheck),
)
@given(drawn=responses())
@example(drawn=every_kind())
def test_every_record_ends_in_raw_or_in_quarantine_once(spark, tmp_path_factory, drawn):
    bodies, expected, unlandable = drawn
    root = tmp_path_factory.mktemp("users_property")
    lake_root, recorded = root / "lake", root / "recorded"
    lake_root.mkdir()
    recorded.mkdir()
    for number, body in enumerate(bodies, 1):
        (recorded / f"page-{number:02d}.json").write_bytes(body)

    run_job(str(lake_root), "ingest_users", url=recorded.as_uri(), requests=str(len(bodies)), p_date="2026-11-20")

    quarantine = lake_root / "quarantine" / "ingest_users" / "p_date=2026-11-20"
    quarantined = [
        json.loads(json.loads(line)["text"])["phone"]
        for path in sorted(quarantine.glob("*.records.jsonl"))
        for line in path.read_text().splitlines()
    ]
    responses_quarantined = list(quarantine.glob("*.json"))
    landed_raw = []
    if Path(lake_root, "raw", "users").exists():
        landed_raw = [r["phone"] for r in read_table(spark, str(lake_root), "raw.users").select("phone").collect()]

    # Count in = count out, each record in exactly one place, in the place its values call for.
    assert len(responses_quarantined) == unlandable
    assert sorted(landed_raw + quarantined) == sorted(marker for marker, _ in expected)
    assert sorted(landed_raw) == sorted(marker for marker, lands in expected if lands)
    assert sorted(quarantined) == sorted(marker for marker, lands in expected if not lands)
    for path in Path(lake_root).rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl"):
            assert not [secret for secret in SECRETS if secret in path.read_text(errors="replace")], path
