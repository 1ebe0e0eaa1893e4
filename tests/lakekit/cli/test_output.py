"""`lake query` prints values as Athena's console and CSV results do, and JSON numbers as numbers."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from pyspark.sql import Row

from lakekit.cli.output import athena_text, print_rows

COLUMNS = ["tags", "attrs", "item", "ok", "amount", "ratio", "at", "day", "nothing"]
ROW = (
    ["a", None, "b"],
    {"k": Decimal("1.50"), "z": None},
    Row(id=7, flags=[True, False]),
    True,
    Decimal("15.000000"),
    0.5,
    datetime(2026, 11, 19, 21, 0, 0, 123456),
    date(2026, 11, 19),
    None,
)


def test_values_print_as_athena_shows_them():
    assert [athena_text(v) for v in ROW] == [
        "[a, null, b]",
        "{k=1.50, z=null}",
        "{id=7, flags=[true, false]}",
        "true",
        "15.000000",
        "0.5",
        "2026-11-19 21:00:00.123",
        "2026-11-19",
        None,
    ]
    # Doubles as Java (and Athena) write them.
    assert [athena_text(v) for v in (1e7, 1.5e-4, 123.0, float("nan"), -float("inf"))] == [
        "1.0E7",
        "1.5E-4",
        "123.0",
        "NaN",
        "-Infinity",
    ]
    assert athena_text(Decimal("1E+2")) == "100"


def test_table_csv_and_json(capsys):
    print_rows(COLUMNS, [ROW], "csv")
    assert capsys.readouterr().out.splitlines() == [
        "tags,attrs,item,ok,amount,ratio,at,day,nothing",
        '"[a, null, b]","{k=1.50, z=null}","{id=7, flags=[true, false]}",true,15.000000,0.5,'
        "2026-11-19 21:00:00.123,2026-11-19,",
    ]
    print_rows(COLUMNS, [ROW], "json")
    line = capsys.readouterr().out
    assert '"amount": 15.000000' in line and '"k": 1.50' in line  # every digit kept, never through a float
    assert json.loads(line) == {
        "tags": ["a", None, "b"],
        "attrs": {"k": 1.5, "z": None},
        "item": {"id": 7, "flags": [True, False]},
        "ok": True,
        "amount": 15.0,
        "ratio": 0.5,
        "at": "2026-11-19 21:00:00.123",
        "day": "2026-11-19",
        "nothing": None,
    }
    print_rows(["ok", "nothing"], [(False, None)], "table")
    assert capsys.readouterr().out == "ok    | nothing\n------+--------\nfalse | NULL\n(1 row)\n"
