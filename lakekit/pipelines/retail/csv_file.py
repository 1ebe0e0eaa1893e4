"""The retail stream's producer: the UCI Online Retail CSV (either edition) read into retail events, never guessed.

`lake produce retail --csv FILE` reads a file twice: once to find its encoding (UTF-8, with or without
a byte order mark, else Latin-1) and its date format (from its rows), once to make the events. Each
row becomes one event of catalog/streams/retail.yaml; a row it cannot read is set aside with its line
and reason. What it does to the text: identifiers and numbers (invoice, stock code, quantity, price,
customer id) lose surrounding spaces; a customer id `17850.0` becomes `17850`; an empty description,
customer or country becomes null; descriptions and countries are otherwise kept exactly (trailing
spaces too); the price is kept as its text (no float ever).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lakekit.core.registry import FileRead, FileReadError

# Event field -> its column in either edition (Online Retail; Online Retail II), compared without case or spaces.
COLUMNS = {
    "invoice_no": ("InvoiceNo", "Invoice"),
    "stock_code": ("StockCode",),
    "description": ("Description",),
    "quantity": ("Quantity",),
    "invoiced_at": ("InvoiceDate",),
    "unit_price": ("UnitPrice", "Price"),
    "customer_id": ("CustomerID", "Customer ID"),
    "country": ("Country",),
}
READER_OPTIONS = {"date_format"}

_INTEGER = re.compile(r"-?\d+", re.ASCII)
_PRICE = re.compile(r"-?\d+(\.\d+)?", re.ASCII)
_CUSTOMER = re.compile(r"(\d+)(\.0+)?", re.ASCII)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)
_NUMERIC = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)
_FORMAT = re.compile(r"(Y+|M+|D+)([/.-])(Y+|M+|D+)\2(Y+|M+|D+)", re.IGNORECASE)


@dataclass(frozen=True)
class DateFormat:
    """The order of a file's date parts and their separator: ymd with `-` (ISO), or mdy / dmy with `/`, `-` or `.`."""

    order: str  # "ymd", "mdy" or "dmy"
    separator: str

    def __str__(self) -> str:
        if self.order == "ymd":
            return "YYYY-MM-DD HH:MM[:SS]"
        first, second = ("M", "D") if self.order == "mdy" else ("D", "M")
        return f"{first}{self.separator}{second}{self.separator}YYYY H:MM[:SS]"

    def parse(self, text: str) -> str | None:
        """`text` as YYYY-MM-DDTHH:MM:SS when it is a real time in this format, else None."""
        match = (_ISO if self.order == "ymd" else _NUMERIC).fullmatch(text.strip())
        if match is None:
            return None
        if self.order == "ymd":
            year, month, day, hour, minute, second = match.groups()
        else:
            first, separator, middle, year, hour, minute, second = match.groups()
            if separator != self.separator:
                return None
            month, day = (first, middle) if self.order == "mdy" else (middle, first)
        try:
            moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
        except ValueError:  # 31/02, 25:00, ...
            return None
        return moment.isoformat()


def date_format_option(text: str) -> DateFormat:
    """--date-format: YYYY-MM-DD, M/D/YYYY, D/M/YYYY, M-D-YYYY, D-M-YYYY, D.M.YYYY ... (times are always read)."""
    match = _FORMAT.fullmatch(text.strip().split(" ")[0])
    order = "".join(part[0].lower() for part in match.group(1, 3, 4)) if match else ""
    if order not in ("ymd", "mdy", "dmy") or (order == "ymd" and match.group(2) != "-"):
        raise FileReadError(f"--date-format {text!r}: expected YYYY-MM-DD, M/D/YYYY, D/M/YYYY, M-D-YYYY or D-M-YYYY")
    return DateFormat(order, match.group(2))


# ------------------------------------------------------------------------------------------------ the file


def detect_encoding(path: Path) -> tuple[str, str]:
    """(codec, what to say): utf-8-sig when the file starts with a byte order mark, utf-8 when it all decodes
    as UTF-8, else latin-1 (every byte is a Latin-1 character), naming the line of the first byte that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as file:
        has_bom = file.read(3) == codecs.BOM_UTF8
        file.seek(3 if has_bom else 0)
        while chunk := file.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line += chunk.count(b"\n", 0, error.start)
                return "latin-1", f"Latin-1 (not UTF-8: byte 0x{chunk[error.start]:02x} on line {line})"
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1", f"Latin-1 (not UTF-8: the file ends inside a character, line {line})"
    return ("utf-8-sig", "UTF-8 (with a byte order mark)") if has_bom else ("utf-8", "UTF-8")


def _rows(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, its fields) of every non-blank record, the header included."""
    with path.open(encoding=encoding, newline="") as file:
        reader = csv.reader(file)
        line = 1
        for fields in reader:
            if fields:
                yield line, fields
            line = reader.line_num + 1


def header_positions(header: list[str]) -> dict[str, int]:
    """Event field -> the column holding it; FileReadError naming a missing or doubled column."""
    names = {name.replace(" ", "").lower(): field for field, names in COLUMNS.items() for name in names}
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        field = names.get(name.strip().replace(" ", "").lower())
        if field is None:
            continue
        if field in positions:
            raise FileReadError(f"columns {header[positions[field]]!r} and {name!r} both hold {field}")
        positions[field] = index
    missing = [" or ".join(COLUMNS[f]) for f in COLUMNS if f not in positions]
    if missing:
        raise FileReadError(f"the header has no {', no '.join(missing)} column (header: {','.join(header)})")
    return positions


def detect_date_format(dates: Counter[str]) -> tuple[DateFormat, str]:
    """The format most of the file's dates are in, and why; FileReadError when day and month cannot be told apart."""
    shapes: Counter[tuple[str, str]] = Counter()
    day_first = month_first = None  # a date that shows it: its first part over 12, or its second
    for text, count in dates.items():
        if _ISO.fullmatch(text.strip()):
            shapes["ymd", "-"] += count
        elif match := _NUMERIC.fullmatch(text.strip()):
            shapes["xy", match.group(2)] += count
            if int(match.group(1)) > 12:
                day_first = day_first or text
            if int(match.group(3)) > 12:
                month_first = month_first or text
    if not shapes:
        raise FileReadError("no InvoiceDate is in a known format (YYYY-MM-DD HH:MM:SS, M/D/YYYY H:MM, D-M-YYYY H:MM)")
    (kind, separator), _ = shapes.most_common(1)[0]
    if kind == "ymd":
        return DateFormat("ymd", "-"), "detected"
    other = "M/D" if separator == "/" else "D-M"
    if day_first and month_first:
        raise FileReadError(
            f"InvoiceDate puts the day first ({day_first!r}) and the month first ({month_first!r}); "
            f"say which with --date-format D{separator}M{separator}YYYY or M{separator}D{separator}YYYY"
        )
    if not day_first and not month_first:
        raise FileReadError(
            f"InvoiceDate is ambiguous: no day above 12 tells D{separator}M from M{separator}D "
            f"(e.g. {next(iter(dates))!r}); say which with --date-format, e.g. {other}{separator}YYYY"
        )
    order = "dmy" if day_first else "mdy"
    return DateFormat(order, separator), f"detected from {day_first or month_first!r}"


def scan(path: Path, encoding: str) -> tuple[list[str], int, Counter[str]]:
    """The header, the number of data rows and every InvoiceDate text with its count."""
    rows = _rows(path, encoding)
    first = next(rows, None)
    if first is None:
        raise FileReadError("the file is empty: no header")
    header = first[1]
    at, count, dates = header_positions(header)["invoiced_at"], 0, Counter()
    for _, fields in rows:
        count += 1
        if len(fields) == len(header):
            dates[fields[at]] += 1
    return header, count, dates


def read_retail_csv(path: str, options: dict[str, str]) -> FileRead:
    """The retail events of a UCI Online Retail CSV, with how it was read; FileReadError when it cannot be read."""
    unknown = sorted(set(options) - READER_OPTIONS)
    if unknown:
        raise FileReadError(f"the retail CSV reader takes no {', '.join(unknown)} option")
    file = Path(path)
    if not file.is_file():
        raise FileReadError(f"no file {path}")
    encoding, said = detect_encoding(file)
    header, rows, dates = scan(file, encoding)
    positions = header_positions(header)
    if options.get("date_format"):
        date_format, why = date_format_option(options["date_format"]), "from --date-format"
    elif rows:
        date_format, why = detect_date_format(dates)
    else:
        date_format, why = DateFormat("ymd", "-"), "no rows"
    columns = ", ".join(header[positions[f]].strip() for f in ("invoice_no", "unit_price", "customer_id"))
    notes = [
        f"{file.name}: {rows} row(s), encoding {said}",
        f"columns {columns}; dates {date_format} ({why})",
    ]
    read = FileRead(notes=notes, rows=rows, events=iter(()))
    read.events = _events(file, encoding, positions, len(header), date_format, read.unreadable)
    return read


def _events(
    path: Path,
    encoding: str,
    positions: dict[str, int],
    width: int,
    date_format: DateFormat,
    unreadable: list[tuple[int, str]],
) -> Iterator[tuple[int, dict[str, Any]]]:
    # Per invoice: the next line number, and the line number of each distinct row seen (by a digest of it).
    invoices: dict[str, tuple[list[int], dict[bytes, int]]] = {}
    times: dict[str, str | None] = {}  # an invoice's lines share one time: parse each text once
    rows = _rows(path, encoding)
    next(rows)  # the header
    for line, fields in rows:
        if len(fields) != width:
            unreadable.append((line, f"{len(fields)} field(s), the header has {width}"))
            continue
        text = {field: fields[index] for field, index in positions.items()}
        if text["invoiced_at"] not in times:
            times[text["invoiced_at"]] = date_format.parse(text["invoiced_at"])
        event, problem = _event(text, times[text["invoiced_at"]], date_format)
        if problem:
            unreadable.append((line, problem))
            continue
        counter, seen = invoices.setdefault(event["invoice_no"], ([1], {}))
        digest = hashlib.blake2b(repr(sorted(event.items())).encode(), digest_size=16).digest()
        if digest not in seen:  # an exact duplicate keeps the line number of its first occurrence
            seen[digest] = counter[0]
            counter[0] += 1
        yield line, {**event, "line_no": seen[digest], "source_file": path.name, "source_line": line}


def _event(text: dict[str, str], invoiced_at: str | None, date_format: DateFormat) -> tuple[dict[str, Any], str]:
    """(the event of one row's fields, "") or ({}, why the row cannot be read)."""
    invoice_no, stock_code = text["invoice_no"].strip(), text["stock_code"].strip()
    quantity, price, customer = text["quantity"].strip(), text["unit_price"].strip(), text["customer_id"].strip()
    if not invoice_no:
        return {}, "no invoice number"
    if not stock_code:
        return {}, "no stock code"
    if not _INTEGER.fullmatch(quantity):
        return {}, f"quantity {text['quantity']!r} is not a whole number"
    if not _PRICE.fullmatch(price):
        return {}, f"price {text['unit_price']!r} is not a decimal number"
    if invoiced_at is None:
        return {}, f"InvoiceDate {text['invoiced_at']!r} is not a time in the file's format {date_format}"
    customer_match = _CUSTOMER.fullmatch(customer)
    if customer and customer_match is None:
        return {}, f"customer id {text['customer_id']!r} is not a number"
    event = {
        "invoice_no": invoice_no,
        "stock_code": stock_code,
        "description": text["description"] or None,
        "quantity": int(quantity),
        "invoiced_at": invoiced_at,
        "unit_price": price,
        "customer_id": customer_match.group(1) if customer_match else None,
        "country": text["country"] or None,
    }
    return event, ""
