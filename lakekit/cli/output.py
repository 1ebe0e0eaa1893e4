"""How `lake` prints rows: as Athena's console and its CSV results show them, or as JSON lines."""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import date, datetime
from decimal import Decimal


def _java_double(value: float) -> str:
    """A double as Java's Double.toString writes it (what Athena shows): 0.5, 1.0E7, 1.0E-4, NaN, Infinity."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "e" not in text else format(Decimal(text), "f")
    # Python's repr has the same shortest digits as Java; only the layout differs.
    sign, numerals, power = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, numerals))
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{power + len(numerals) - 1}"


def athena_text(value, nested: bool = False) -> str | None:
    """One value as Athena prints it: true, 15.500000, 2026-11-19 21:00:00.000, [a, b], {k=v}; None for NULL."""
    from pyspark.sql import Row

    if value is None:
        return "null" if nested else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Row):
        return "{" + ", ".join(f"{k}={athena_text(v, True)}" for k, v in value.asDict().items()) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{athena_text(k, True)}={athena_text(v, True)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(athena_text(v, True) for v in value) + "]"
    if isinstance(value, (bytes, bytearray)):
        return " ".join(f"{b:02x}" for b in value)
    return str(value)


_NUMBER = "\x00number:"
_NUMBER_TEXT = re.compile(r'"\\u0000number:([^"]*)"')


def plain(value):
    """A value as JSON-able Python: structs and maps as objects, decimals kept exact (written as numbers)."""
    from pyspark.sql import Row

    if isinstance(value, Row):
        return {k: plain(v) for k, v in value.asDict().items()}
    if isinstance(value, dict):
        return {str(athena_text(k, True)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return _NUMBER + format(value, "f")
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return _java_double(value)  # JSON has no NaN or Infinity: as text, as Athena's JSON does
    if isinstance(value, (datetime, date)):
        return athena_text(value)
    return value


def json_line(columns: list[str], row) -> str:
    """One row as a JSON object; decimals as JSON numbers with all their digits (never through a float)."""
    text = json.dumps({c: plain(v) for c, v in zip(columns, row, strict=True)}, ensure_ascii=False)
    return _NUMBER_TEXT.sub(lambda m: m.group(1), text)


def print_rows(columns: list[str], rows: list, fmt: str, truncated: bool = False) -> None:
    """Rows as a readable table, CSV (Athena's results file: empty for NULL) or JSON lines (one object a row)."""
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else athena_text(v) for v in row] for row in rows)
    elif fmt == "json":
        for row in rows:
            print(json_line(columns, row))
    else:
        cells = [["NULL" if v is None else athena_text(v) for v in row] for row in rows]
        widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
        print(" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        print("-+-".join("-" * w for w in widths))
        for row in cells:
            print(" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        more = " (more rows: raise --limit to see them)" if truncated else ""
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''}){more}")
    sys.stdout.flush()
