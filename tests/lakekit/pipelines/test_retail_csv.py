"""The retail CSV reader: both editions, UTF-8 (with or without BOM) or Latin-1, three date formats, every quirk.

Files are written here, modelled on the UCI rows in the shared reference sample; expected events are
written out by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lakekit.core import registry
from lakekit.core.registry import FileReadError
from lakekit.pipelines.retail.csv_file import read_retail_csv

HEADERS = {
    "first": "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country",
    "second": "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country",
}
# One time in each of the data set's date formats: ISO, month first with slashes, day first with dashes.
TIMES = {
    "a": {"iso": "2010-12-01 08:26:00", "mdy": "12/1/2010 8:26", "dmy": "01-12-2010 08:26"},
    "b": {"iso": "2011-01-18 10:01:00", "mdy": "1/18/2011 10:01", "dmy": "18-01-2011 10:01"},
    "c": {"iso": "2011-12-09 12:50:00", "mdy": "12/9/2011 12:50", "dmy": "09-12-2011 12:50"},
}
FORMATS = {
    "iso": "YYYY-MM-DD HH:MM[:SS] (detected)",
    "mdy": "M/D/YYYY H:MM[:SS] (detected from '1/18/2011 10:01')",
    "dmy": "D-M-YYYY H:MM[:SS] (detected from '18-01-2011 10:01')",
}
# Rows as the data set has them: {a} {b} {c} are times; every quirk of the reference's README once.
ROWS = [
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,{a},2.55,17850.0,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,6,{a},3.39,17850,United Kingdom",
    "536367,22745,POPPY'S PLAYHOUSE BEDROOM ,6,{a},2.1,13047.0,United Kingdom",  # trailing space kept
    '536381,82567,"AIRLINE LOUNGE,METAL SIGN",2,{a},2.1,15311,United Kingdom',  # a quoted comma
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,{a},2.55,17850.0,United Kingdom",  # exact duplicate
    "536365,84406B,CREAM CUPID HEARTS COAT HANGER,8,{a},2.75,17850.0,United Kingdom",
    "C536379,D,Discount,-1,{b},27.5,14527.0,United Kingdom",  # a cancellation
    "536414,22139,,56,{b},0.0,,United Kingdom",  # no description, no customer (a guest), zero price
    "A563185,B,Adjust bad debt,1,{c},-11062.06,,United Kingdom",  # a bad-debt adjustment
    "549245,21832,CR\u00c8ME BR\u00dbL\u00c9E SET,3,{c},0.001,12345,France",  # Latin-1 letters, a 3-decimal price
]


def event(line: int, invoice: str, line_no: int, stock: str, description, quantity: int, at: str, price: str,
          customer, country: str, file: str) -> dict:  # fmt: skip
    return {
        "invoice_no": invoice,
        "line_no": line_no,
        "stock_code": stock,
        "description": description,
        "quantity": quantity,
        "invoiced_at": at,
        "unit_price": price,
        "customer_id": customer,
        "country": country,
        "source_file": file,
        "source_line": line,
    }


def expected(file: str) -> list[tuple[int, dict]]:
    a, b, c = "2010-12-01T08:26:00", "2011-01-18T10:01:00", "2011-12-09T12:50:00"
    uk = "United Kingdom"
    rows = [
        (2, "536365", 1, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, a, "2.55", "17850", uk),
        (3, "536365", 2, "71053", "WHITE METAL LANTERN", 6, a, "3.39", "17850", uk),
        (4, "536367", 1, "22745", "POPPY'S PLAYHOUSE BEDROOM ", 6, a, "2.1", "13047", uk),
        (5, "536381", 1, "82567", "AIRLINE LOUNGE,METAL SIGN", 2, a, "2.1", "15311", uk),
        (6, "536365", 1, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, a, "2.55", "17850", uk),
        (7, "536365", 3, "84406B", "CREAM CUPID HEARTS COAT HANGER", 8, a, "2.75", "17850", uk),
        (8, "C536379", 1, "D", "Discount", -1, b, "27.5", "14527", uk),
        (9, "536414", 1, "22139", None, 56, b, "0.0", None, uk),
        (10, "A563185", 1, "B", "Adjust bad debt", 1, c, "-11062.06", None, uk),
        (11, "549245", 1, "21832", "CRÈME BRÛLÉE SET", 3, c, "0.001", "12345", "France"),
    ]
    return [(row[0], event(*row, file)) for row in rows]


def write(path: Path, header: str, rows: list[str], encoding: str = "utf-8", **times: dict[str, str]) -> Path:
    path.write_bytes("\r\n".join([header, *(r.format(**times) for r in rows), ""]).encode(encoding))
    return path


def read(path: Path, **options: str) -> tuple[list[str], list[tuple[int, dict]], list[tuple[int, str]]]:
    found = read_retail_csv(str(path), options)
    events = list(found.events)
    return found.notes, events, found.unreadable


@pytest.mark.parametrize("edition", ["first", "second"])
@pytest.mark.parametrize("dates", ["iso", "mdy", "dmy"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
def test_every_quirk_in_both_editions_each_encoding_and_date_format(tmp_path, edition, dates, encoding):
    times = {name: formats[dates] for name, formats in TIMES.items()}
    path = write(tmp_path / "retail.csv", HEADERS[edition], ROWS, encoding, **times)
    notes, events, unreadable = read(path)
    said = {
        "utf-8": "UTF-8",
        "utf-8-sig": "UTF-8 (with a byte order mark)",
        "latin-1": "Latin-1 (not UTF-8: byte 0xc8 on line 11)",
    }[encoding]
    columns = "InvoiceNo, UnitPrice, CustomerID" if edition == "first" else "Invoice, Price, Customer ID"
    assert notes == [f"retail.csv: 10 row(s), encoding {said}", f"columns {columns}; dates {FORMATS[dates]}"]
    assert events == expected("retail.csv")
    assert unreadable == []


def test_a_file_in_one_edition_is_found_by_the_registry_for_the_stream(tmp_path):
    path = write(tmp_path / "r.csv", HEADERS["second"], ROWS[:1], a=TIMES["a"]["iso"])
    found = registry.file_producer("retail")(str(path), {})
    assert list(found.events) == expected("r.csv")[:1]


def test_rows_it_cannot_read_are_reported_by_line_and_the_others_read(tmp_path):
    rows = [
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
        "536366,22633,HAND WARMER,six,2010-12-01 08:28:00,1.85,17850.0,United Kingdom",  # line 3
        "536366,22632,HAND WARMER RED,6.5,2010-12-01 08:28:00,1.85,17850.0,United Kingdom",
        "536366,22632,HAND WARMER RED,6,2010-12-31 25:28:00,1.85,17850.0,United Kingdom",  # line 5
        "536366,22632,HAND WARMER RED,6,2010-02-30 08:28:00,1.85,17850.0,United Kingdom",
        "536366,22632,HAND WARMER RED,6,2010-12-01 08:28:00,1.85.0,17850.0,United Kingdom",  # line 7
        "536366,22632,HAND WARMER RED,6,2010-12-01 08:28:00,£1.85,17850.0,United Kingdom",
        ",22632,HAND WARMER RED,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom",  # line 9
        "536366, ,HAND WARMER RED,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom",
        "536366,22632,HAND WARMER RED,6,2010-12-01 08:28:00,1.85,17850.5,United Kingdom",  # line 11
        "536366,22632,HAND WARMER RED,6,2010-12-01 08:28:00,1.85,17850.0",
        '536367,84879,"ASSORTED COLOUR',  # line 13: a quoted newline, the record ends on line 14
        'BIRD ORNAMENT",32,2010-12-01 08:34:00,1.69,13047.0,United Kingdom',
        "536367,22745,POPPY'S PLAYHOUSE BEDROOM ,6,12/1/2010 8:34,2.1,13047.0,United Kingdom",  # line 15
        "",  # a blank line: no record
        "536368,22960,JAM MAKING SET WITH JARS,6,2010-12-01 08:34:00,4.25,13047.0,United Kingdom,extra",  # 17
        "536368,22960,JAM MAKING SET WITH JARS,6,2010-12-01 08:34:00,4.25,13047.0,United Kingdom",
    ]
    notes, events, unreadable = read(write(tmp_path / "bad.csv", HEADERS["first"], rows))
    assert notes[0] == "bad.csv: 15 row(s), encoding UTF-8"
    uk = "United Kingdom"
    assert events == [
        (2, event(2, "536365", 1, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, "2010-12-01T08:26:00", "2.55",
                  "17850", uk, "bad.csv")),
        (13, event(13, "536367", 1, "84879", "ASSORTED COLOUR\r\nBIRD ORNAMENT", 32, "2010-12-01T08:34:00", "1.69",
                   "13047", uk, "bad.csv")),
        (18, event(18, "536368", 1, "22960", "JAM MAKING SET WITH JARS", 6, "2010-12-01T08:34:00", "4.25", "13047",
                   uk, "bad.csv")),
    ]  # fmt: skip
    date = "is not a time in the file's format YYYY-MM-DD HH:MM[:SS]"
    assert unreadable == [
        (3, "quantity 'six' is not a whole number"),
        (4, "quantity '6.5' is not a whole number"),
        (5, f"InvoiceDate '2010-12-31 25:28:00' {date}"),
        (6, f"InvoiceDate '2010-02-30 08:28:00' {date}"),
        (7, "price '1.85.0' is not a decimal number"),
        (8, "price '£1.85' is not a decimal number"),
        (9, "no invoice number"),
        (10, "no stock code"),
        (11, "customer id '17850.5' is not a number"),
        (12, "7 field(s), the header has 8"),
        (15, f"InvoiceDate '12/1/2010 8:34' {date}"),
        (17, "9 field(s), the header has 8"),
    ]


def test_a_file_whose_dates_cannot_tell_day_from_month_is_refused_unless_told(tmp_path):
    rows = [
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom",
        "536366,22633,HAND WARMER UNION JACK,6,1/12/2010 8:28,1.85,17850.0,United Kingdom",
    ]
    path = write(tmp_path / "ambiguous.csv", HEADERS["first"], rows)
    with pytest.raises(FileReadError) as error:
        read_retail_csv(str(path), {})
    assert str(error.value) == (
        "InvoiceDate is ambiguous: no day above 12 tells D/M from M/D (e.g. '12/1/2010 8:26'); "
        "say which with --date-format, e.g. M/D/YYYY"
    )
    notes, events, _ = read(path, date_format="D/M/YYYY")
    assert notes[1] == "columns InvoiceNo, UnitPrice, CustomerID; dates D/M/YYYY H:MM[:SS] (from --date-format)"
    assert [e["invoiced_at"] for _, e in events] == ["2010-01-12T08:26:00", "2010-12-01T08:28:00"]
    _, events, _ = read(path, date_format="mm/dd/yyyy")
    assert [e["invoiced_at"] for _, e in events] == ["2010-12-01T08:26:00", "2010-01-12T08:28:00"]
    with pytest.raises(FileReadError, match="^--date-format 'Y/D/M': expected YYYY-MM-DD, M/D/YYYY"):
        read_retail_csv(str(path), {"date_format": "Y/D/M"})


def test_a_file_whose_dates_put_the_day_first_and_the_month_first_is_refused(tmp_path):
    rows = [
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,13/1/2010 8:26,2.55,17850.0,United Kingdom",
        "536366,22633,HAND WARMER UNION JACK,6,1/13/2010 8:28,1.85,17850.0,United Kingdom",
    ]
    path = write(tmp_path / "mixed.csv", HEADERS["first"], rows)
    with pytest.raises(FileReadError, match=r"puts the day first \('13/1/2010 8:26'\) and the month first"):
        read_retail_csv(str(path), {})
    _, events, unreadable = read(path, date_format="M/D/YYYY")
    assert [line for line, _ in events] == [3]
    assert unreadable == [(2, "InvoiceDate '13/1/2010 8:26' is not a time in the file's format M/D/YYYY H:MM[:SS]")]


def test_a_file_without_a_needed_column_or_without_a_header_is_refused(tmp_path):
    path = tmp_path / "columns.csv"
    path.write_text("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,CustomerID\n1,2,3,4,5,6\n")
    with pytest.raises(FileReadError) as error:
        read_retail_csv(str(path), {})
    assert str(error.value) == (
        "the header has no UnitPrice or Price, no Country column "
        "(header: InvoiceNo,StockCode,Description,Quantity,InvoiceDate,CustomerID)"
    )
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(FileReadError, match="^the file is empty: no header$"):
        read_retail_csv(str(tmp_path / "empty.csv"), {})
    with pytest.raises(FileReadError, match="^no file "):
        read_retail_csv(str(tmp_path / "absent.csv"), {})


def test_a_header_alone_is_zero_rows_and_no_event(tmp_path):
    notes, events, unreadable = read(write(tmp_path / "h.csv", HEADERS["second"], []))
    assert (notes[0], events, unreadable) == ("h.csv: 0 row(s), encoding UTF-8", [], [])
