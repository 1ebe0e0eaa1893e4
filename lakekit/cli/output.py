"""How `lake` prints rows: a readable table, CSV or JSON lines."""

from __future__ import annotations

import json
import sys


def _cell(value) -> str:
    return "NULL" if value is None else str(value)


def plain(value):
    """Spark's nested values (Rows, lists, maps) as plain JSON-able Python."""
    from pyspark.sql import Row

    if isinstance(value, Row):
        return value.asDict(recursive=True)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def print_rows(columns: list[str], rows: list, fmt: str, truncated: bool = False) -> None:
    """Rows as a readable table, CSV or JSON lines (one object per row); times and decimals as text."""
    if fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    elif fmt == "json":
        for row in rows:
            print(json.dumps(dict(zip(columns, row, strict=True)), default=str))
    else:
        cells = [[_cell(v) for v in row] for row in rows]
        widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
        print(" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        print("-+-".join("-" * w for w in widths))
        for row in cells:
            print(" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        more = " (more rows: raise --limit to see them)" if truncated else ""
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''}){more}")
    sys.stdout.flush()
