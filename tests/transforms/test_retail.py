"""transforms.retail: invoice lines (duplicates once, latest received wins, flags), rejects, invoices and customers,
each with null, empty and duplicate cases."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from chispa import assert_df_equality
from pyspark.sql import functions as F

from transforms.retail import (
    build_retail_customers,
    build_retail_invoice_lines,
    build_retail_invoices,
    build_retail_rejects,
    is_non_product,
)

EVENTS = (
    "invoice_no string, line_no int, stock_code string, description string, quantity int, invoiced_at timestamp, "
    "unit_price string, customer_id string, country string, source_file string, source_line int, "
    "_record_id string, _received_at timestamp, _source_file string, _line_number int, _batch_id bigint"
)
LINES = (
    "invoice_no string, line_no int, stock_code string, description string, quantity int, unit_price decimal(10,2), "
    "amount decimal(12,2), customer_id string, country string, invoiced_at timestamp, invoice_date date, "
    "is_cancellation boolean, is_product boolean, is_write_off boolean, is_zero_price boolean, "
    "is_negative_price boolean, is_unknown_country boolean, received_at timestamp"
)
INVOICES = (
    "invoice_no string, customer_id string, country string, invoiced_at timestamp, invoice_date date, "
    "is_cancellation boolean, is_adjustment boolean, lines int, total_amount decimal(18,2)"
)
CUSTOMERS = (
    "customer_id string, country string, first_invoice_at timestamp, last_invoice_at timestamp, invoices int, "
    "cancellations int, net_spent decimal(18,2), updated_at timestamp"
)
CODES, PREFIXES, COUNTRIES = ["POST", "D", "B", "M"], ["gift_"], ["United Kingdom", "France"]
AT = datetime(2010, 12, 1, 8, 26)
DAY = date(2010, 12, 1)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def event(invoice, line, code, quantity, price, customer="17850", country="United Kingdom", received="09:00",
          record="r", description="ITEM", at=AT):  # fmt: skip
    return (invoice, line, code, description, quantity, at, price, customer, country, "online_retail.csv", 2,
            record, ts(f"2026-11-30 {received}:00"), "landing/streams/retail/f.jsonl.gz", 1, 0)  # fmt: skip


def line(invoice, line_no, code, quantity, price, amount, customer="17850", country="United Kingdom", received="09:00",
         description="ITEM", product=True, write_off=False, unknown=False):  # fmt: skip
    price = Decimal(price)
    return (invoice, line_no, code, description, quantity, price, Decimal(amount), customer, country, AT, DAY,
            invoice.startswith("C"), product, write_off, price == 0, price < 0, unknown,
            ts(f"2026-11-30 {received}:00"))  # fmt: skip


def lines_of(spark, events, current=()):
    events_df = spark.createDataFrame(events, EVENTS)
    current_df = spark.createDataFrame(list(current), LINES)
    return build_retail_invoice_lines(events_df, current_df, CODES, PREFIXES, COUNTRIES)


def test_lines_count_duplicates_once_take_the_latest_received_and_flag_bad_input(spark):
    events = [
        event("536365", 1, "85123A", 6, "2.55", record="r1", received="09:00"),
        event("536365", 1, "85123A", 6, "2.550", record="r2", received="09:05"),  # a duplicate: the row stays
        event("536365", 2, "POST", 1, "18.0", record="r3", received="09:00"),
        event("536365", 2, "POST", 2, "18.0", record="r4", received="09:10"),  # posted again: the latest wins
        event("536366", 1, "22139", -5, "0.0", customer=None, country=None, description=None, record="r5"),
        event("A563186", 1, "B", 1, "-11062.06", customer=None, country="Atlantis", record="r6"),
        event("C536379", 1, "d", -1, "27.5", record="r7"),
        event("536368", 1, "gift_0001_20", 1, "0.001", record="r8"),  # cannot be stored: left out
        event("536369", 1, "71053", 1, "3.39", record="r9", received="09:05"),  # older than the table's row
    ]
    current = [
        line("536365", 2, "POST", 3, "18.00", "54.00", received="08:00", product=False),
        line("536369", 1, "71053", 2, "3.39", "6.78", received="09:30"),
    ]
    expected = [
        line("536365", 1, "85123A", 6, "2.55", "15.30", received="09:00"),
        line("536365", 2, "POST", 2, "18.00", "36.00", received="09:10", product=False),
        line(
            "536366",
            1,
            "22139",
            -5,
            "0.00",
            "0.00",
            customer=None,
            country=None,
            description=None,
            write_off=True,
            unknown=True,
        ),  # fmt: skip
        line(
            "A563186",
            1,
            "B",
            1,
            "-11062.06",
            "-11062.06",
            customer=None,
            country="Atlantis",
            product=False,
            unknown=True,
        ),  # fmt: skip
        line("C536379", 1, "d", -1, "27.50", "-27.50", product=False),
        line("536369", 1, "71053", 2, "3.39", "6.78", received="09:30"),
    ]
    assert_df_equality(
        lines_of(spark, events, current),
        spark.createDataFrame(expected, LINES),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_lines_of_no_event_are_none(spark):
    current = [line("536369", 1, "71053", 2, "3.39", "6.78")]
    assert_df_equality(lines_of(spark, [], current), spark.createDataFrame([], LINES), ignore_nullable=True)


def test_events_that_cannot_be_stored_exactly_are_rejected_with_the_column_named(spark):
    events = [
        event("536365", 1, "PADS", 1, "0.001", record="r1"),
        event("536365", 2, "85123A", 2147483647, "5.00", record="r2"),
        event("536365", 3, "85123A", 1, "123456789.00", record="r3"),
        event("536365", 4, "85123A", 1, None, record="r4"),
        event("536365", 5, "85123A", 1, "2.55", record="r5"),  # fine: not rejected
        event("536365", 4, "85123A", 1, None, record="r4"),  # the same event twice: two rejects
    ]
    rejects_df = build_retail_rejects(spark.createDataFrame(events, EVENTS), ["invoice_no", "line_no", "unit_price"])
    expected = [
        ('{"invoice_no":"536365","line_no":1,"unit_price":"0.001"}', "r1",
         "unit_price: '0.001' cannot be stored exactly as decimal(10,2)"),
        ('{"invoice_no":"536365","line_no":2,"unit_price":"5.00"}', "r2",
         "amount: 2147483647 x '5.00' cannot be stored exactly as decimal(12,2)"),
        ('{"invoice_no":"536365","line_no":3,"unit_price":"123456789.00"}', "r3",
         "unit_price: '123456789.00' cannot be stored exactly as decimal(10,2)"),
        ('{"invoice_no":"536365","line_no":4}', "r4", "unit_price: missing"),
        ('{"invoice_no":"536365","line_no":4}', "r4", "unit_price: missing"),
    ]  # fmt: skip
    assert_df_equality(
        rejects_df.select("text", "record_id", "reason"),
        spark.createDataFrame(expected, "text string, record_id string, reason string"),
        ignore_row_order=True,
        ignore_nullable=True,
    )
    assert rejects_df.select("source_file", "line_number", "csv_file", "csv_line", "batch").distinct().collect() == [
        ("landing/streams/retail/f.jsonl.gz", 1, "online_retail.csv", 2, 0)
    ]
    assert build_retail_rejects(spark.createDataFrame([], EVENTS), ["invoice_no"]).count() == 0


def test_invoices_from_their_lines_the_first_line_names_customer_and_time(spark):
    lines = [
        line("536365", 2, "85123A", 6, "2.55", "15.30", customer="13047"),
        line("536365", 1, "85123A", 6, "2.55", "15.30"),  # the same item twice: two lines
        line("536365", 3, "POST", 1, "18.00", "18.00", product=False),
        line("536366", 1, "22139", 5, "1.00", "5.00", customer=None, country=None),
        line("C536379", 1, "D", -1, "27.50", "-27.50", product=False),
        line("A563186", 1, "B", 1, "-11062.06", "-11062.06", customer=None, product=False),
    ]
    expected = [
        ("536365", "17850", "United Kingdom", AT, DAY, False, False, 3, Decimal("48.60")),
        ("536366", None, None, AT, DAY, False, False, 1, Decimal("5.00")),
        ("C536379", "17850", "United Kingdom", AT, DAY, True, False, 1, Decimal("-27.50")),
        ("A563186", None, "United Kingdom", AT, DAY, False, True, 1, Decimal("-11062.06")),
    ]
    assert_df_equality(
        build_retail_invoices(spark.createDataFrame(lines, LINES)),
        spark.createDataFrame(expected, INVOICES),
        ignore_row_order=True,
        ignore_nullable=True,
    )
    assert build_retail_invoices(spark.createDataFrame([], LINES)).count() == 0


def test_customers_from_their_invoices_guests_left_out_updated_at_kept_when_unchanged(spark):
    d, e = ts("2010-12-02 10:00:00"), ts("2010-12-03 10:00:00")
    invoices = [
        ("536365", "17850", "United Kingdom", AT, DAY, False, False, 3, Decimal("48.60")),
        ("536370", "17850", "France", e, e.date(), False, False, 1, Decimal("10.00")),
        ("536371", "17850", "EIRE", e, e.date(), False, False, 1, Decimal("1.00")),  # same time: larger number wins
        ("C536379", "17850", "United Kingdom", d, d.date(), True, False, 1, Decimal("-27.50")),
        ("536366", None, None, AT, DAY, False, False, 1, Decimal("5.00")),  # a guest
        ("536367", "13047", None, AT, DAY, False, False, 1, Decimal("2.00")),
    ]
    then, now = ts("2026-11-30 09:00:00"), datetime(2026, 11, 30, 12, 0)
    current = [
        ("13047", None, AT, AT, 1, 0, Decimal("2.00"), then),  # unchanged: keeps its updated_at
        ("17850", "France", AT, e, 2, 1, Decimal("31.10"), then),
    ]
    customers_df = build_retail_customers(
        spark.createDataFrame(invoices, INVOICES), spark.createDataFrame(current, CUSTOMERS), now
    )
    expected = [
        ("17850", "EIRE", AT, e, 3, 1, Decimal("32.10"), now),
        ("13047", None, AT, AT, 1, 0, Decimal("2.00"), then),
    ]
    assert_df_equality(
        customers_df, spark.createDataFrame(expected, CUSTOMERS), ignore_row_order=True, ignore_nullable=True
    )
    empty_df = build_retail_customers(
        spark.createDataFrame([], INVOICES), spark.createDataFrame(current, CUSTOMERS), now
    )
    assert_df_equality(empty_df, spark.createDataFrame([], CUSTOMERS), ignore_nullable=True)


def test_non_product_codes_any_case_and_prefixes_null_stays_null(spark):
    codes_df = spark.createDataFrame(
        [("POST",), ("post ",), ("gift_0001_10",), ("85123A",), (None,), ("POST",)], "c string"
    )
    found = codes_df.select("c", is_non_product(F.col("c"), CODES, PREFIXES).alias("non_product"))
    expected = [
        ("POST", True),
        ("post ", True),
        ("gift_0001_10", True),
        ("85123A", False),
        (None, None),
        ("POST", True),
    ]
    assert_df_equality(
        found,
        spark.createDataFrame(expected, "c string, non_product boolean"),
        ignore_row_order=True,
        ignore_nullable=True,
    )
