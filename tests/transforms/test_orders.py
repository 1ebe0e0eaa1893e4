"""transforms.orders: the latest distinct version of each order, the four order tables (nulls, empty, duplicates)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from chispa import assert_df_equality

from transforms.orders import (
    build_orders,
    build_product_details,
    build_purchase_details,
    build_shipping_addresses,
    filter_latest_versions,
)

PAYMENT = "struct<payment_type:string,amount:decimal(12,2),currency:string,instalments:int>"
EVENTS = (
    "order_id string, customer_id string, order_date timestamp, status string, "
    "shipping_address struct<street:string,city:string,state:string,zip:string,country:string>, "
    f"purchaise_details {PAYMENT}, purchase_details {PAYMENT}, "
    "product_details array<struct<product_id:string,name:string,quantity:int,"
    "item_details:struct<color:string,size:string>>>, "
    "_received_at timestamp, _record_id string, _event_hash string"
)
VERSIONS = "order_id string, _received_at timestamp, _record_id string, _event_hash string"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def event(order_id, status, received, record_id, digest, order_date="2024-06-14 09:31:07.512845", **fields):
    return (
        order_id,
        fields.get("customer_id", "user1"),
        ts(order_date) if order_date else None,
        status,
        fields.get("shipping_address"),
        fields.get("purchaise_details"),
        fields.get("purchase_details"),
        fields.get("product_details"),
        ts(received),
        record_id,
        digest,
    )


def latest(spark, events, current=()):
    events_df = spark.createDataFrame(events, EVENTS)
    current_df = spark.createDataFrame(list(current), VERSIONS)
    return filter_latest_versions(events_df, current_df).select("order_id", "status", "_record_id")


def expect(spark, rows):
    return spark.createDataFrame(rows, "order_id string, status string, _record_id string")


def test_the_latest_received_event_of_each_order_wins_ties_by_record_id(spark):
    events = [
        event("o1", "pending", "2026-11-29 10:00:00", "r1", "h1"),
        event("o1", "shipped", "2026-11-29 11:00:00", "r2", "h2"),
        event("o2", "pending", "2026-11-29 10:00:00", "r3", "h3"),
        event("o2", "cancelled", "2026-11-29 10:00:00", "r4", "h4"),  # same request, later position
        event(None, "orphan", "2026-11-29 10:00:00", "r5", "h5"),  # no order id: no order
    ]
    assert_df_equality(
        latest(spark, events),
        expect(spark, [("o1", "shipped", "r2"), ("o2", "cancelled", "r4")]),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_an_exact_duplicate_changes_nothing_and_keeps_the_first_receipt(spark):
    current = [("o1", ts("2026-11-29 10:00:00"), "r1", "h1"), ("o2", ts("2026-11-29 10:00:00"), "r2", "h2")]
    events = [
        event("o1", "pending", "2026-11-30 09:00:00", "r5", "h1"),  # a retry of the current version
        event("o2", "shipped", "2026-11-30 09:00:00", "r6", "h9"),
        event("o2", "shipped", "2026-11-30 09:30:00", "r7", "h9"),  # a retry of r6: r6 stays the version
        event("o3", "pending", "2026-11-30 09:00:00", "r8", "h8"),
        event("o3", "pending", "2026-11-30 09:00:00", "r8", "h8"),  # the same row twice
    ]
    assert_df_equality(
        latest(spark, events, current),
        expect(spark, [("o2", "shipped", "r6"), ("o3", "pending", "r8")]),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_an_event_older_than_the_current_version_does_not_replace_it(spark):
    current = [("o1", ts("2026-11-30 10:00:00"), "r9", "h9")]
    events = [event("o1", "pending", "2026-11-29 10:00:00", "r1", "h1")]
    assert latest(spark, events, current).collect() == []
    assert latest(spark, [], current).collect() == []  # empty input


LINES = [
    ("p1", "window", 2, ("SlateBlue", "M")),
    ("p2", "garden", 1, None),  # no item details
]
ADDRESS = ("481 Maple Ct", "Port Jessica", "Ohio", "07344", "Lithuania")


def winners(spark):
    rows = [
        event(
            "o1", "pending", "2026-11-29 10:00:00", "r1", "h1",
            shipping_address=ADDRESS, purchaise_details=("credit_card", Decimal("57.31"), "USD", 3),
            product_details=LINES,
        ),
        event(  # both spellings: the correct one wins; an empty product list gives no lines
            "o2", "shipped", "2026-11-29 10:00:01", "r2", "h2", order_date="2024-06-14 23:59:59.999999",
            purchaise_details=("cash", Decimal("1.00"), "USD", None),
            purchase_details=("paypal", Decimal("0.10"), "EUR", None), product_details=[],
        ),
        event("o3", None, "2026-11-29 10:00:02", "r3", "h3", order_date=None),  # nulls everywhere
    ]  # fmt: skip
    return spark.createDataFrame(rows, EVENTS)


def test_build_orders(spark):
    expected = spark.createDataFrame(
        [
            ("o1", "user1", ts("2024-06-14 09:31:07.512845"), date(2024, 6, 14), "pending", ts("2026-11-29 10:00:00")),
            ("o2", "user1", ts("2024-06-14 23:59:59.999999"), date(2024, 6, 14), "shipped", ts("2026-11-29 10:00:01")),
            ("o3", "user1", None, None, None, ts("2026-11-29 10:00:02")),
        ],
        "order_id string, customer_id string, order_ts timestamp, order_date date, status string, "
        "received_at timestamp",
    )
    assert_df_equality(build_orders(winners(spark)), expected, ignore_row_order=True, ignore_nullable=True)


def test_build_product_details_numbers_lines_from_one(spark):
    expected = spark.createDataFrame(
        [
            ("o1", 1, "p1", "window", 2, "SlateBlue", "M", date(2024, 6, 14)),
            ("o1", 2, "p2", "garden", 1, None, None, date(2024, 6, 14)),
        ],
        "order_id string, line_no int, product_id string, name string, quantity int, color string, size string, "
        "order_date date",
    )
    assert_df_equality(build_product_details(winners(spark)), expected, ignore_row_order=True, ignore_nullable=True)


def test_build_purchase_details_reads_both_spellings(spark):
    expected = spark.createDataFrame(
        [
            ("o1", "credit_card", Decimal("57.31"), "USD", 3, date(2024, 6, 14)),
            ("o2", "paypal", Decimal("0.10"), "EUR", None, date(2024, 6, 14)),
        ],
        "order_id string, payment_type string, amount decimal(12,2), currency string, instalments int, order_date date",
    )
    assert_df_equality(build_purchase_details(winners(spark)), expected, ignore_row_order=True, ignore_nullable=True)


def test_build_shipping_addresses_keeps_the_zip_as_text(spark):
    expected = spark.createDataFrame(
        [("o1", *ADDRESS, date(2024, 6, 14))],
        "order_id string, street string, city string, state string, zip string, country string, order_date date",
    )
    assert_df_equality(build_shipping_addresses(winners(spark)), expected, ignore_row_order=True, ignore_nullable=True)
