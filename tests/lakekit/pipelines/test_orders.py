"""The orders pipeline on landed events: raw.orders_events and the four curated tables row by row, expectations
written by hand; status updates, exact duplicates, collisions that move a partition, both payment spellings."""

from __future__ import annotations

import copy
import gzip
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from lakekit.catalog.model import load_table
from lakekit.serve.app import envelope
from tests.helpers import delta_version, read_table, run_job

ORDER = {
    "customer_id": "user1",
    "order_id": "o1",
    "order_date": "2024-06-14T09:31:07.512845Z",
    "status": "pending",
    "shipping_address": {
        "street": "481 Maple Ct",
        "city": "Port Jessica",
        "state": "Ohio",
        "zip": "07344",
        "country": "Lithuania",
    },
    "purchaise_details": {"payment_type": "credit_card", "amount": 57.31, "currency": "USD", "instalments": 3},
    "product_details": [
        {"product_id": "p084113", "name": "window", "quantity": 2, "item_details": {"color": "SlateBlue", "size": "M"}},
        {"product_id": "p00912", "name": "garden", "quantity": 1, "item_details": {"color": "Ivory", "size": "XXL"}},
    ],
}
O2 = {
    "customer_id": "user2",
    "order_id": "o2",
    "order_date": "2024-06-14T23:59:59.999999Z",
    "status": "shipped",
    "shipping_address": {
        "street": "1 Elm St",
        "city": "Holtsville",
        "state": "New York",
        "zip": "00501",
        "country": "US",
    },
    "purchase_details": {"payment_type": "paypal", "amount": 0.1, "currency": "EUR", "instalments": None},
    "product_details": [{"product_id": "p1", "name": "lamp", "quantity": 1}],
}
O3 = {
    **copy.deepcopy(ORDER),
    "order_id": "o3",
    "customer_id": "user3",
    "product_details": [
        {"product_id": "p7", "name": "rug", "quantity": 4, "item_details": {"color": None, "size": "XXS"}}
    ],
}


def changed(event: dict, **values) -> dict:
    result = copy.deepcopy(event)
    result.update(values)
    return result


def land(lake_root: str, name: str, lines: list[bytes]) -> None:
    """One published landing file, as `lake serve` names and writes them (gzip members)."""
    folder = Path(lake_root) / "landing" / "streams" / "orders" / "2026" / "11" / "30" / "10"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"orders-1-2026-11-30-10-00-00-{name}.jsonl.gz").write_bytes(
        b"".join(gzip.compress(line) for line in lines)
    )


def stored(event: dict, record_id: str, received_at: str) -> bytes:
    return envelope(event, {}, record_id, received_at, "orders")


def rows(spark, lake_root: str, name: str, order_by: list[str]) -> list[tuple]:
    table = load_table(name)
    return [
        tuple(r) for r in read_table(spark, lake_root, name).select(*table.column_names).orderBy(*order_by).collect()
    ]


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def merges(spark, lake_root: str, name: str) -> int:
    path = load_table(name).location_under(lake_root)
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()
    return sum(1 for h in history if h["operation"] in ("MERGE", "WRITE"))


def land_run_1(lake_root: str) -> None:
    """Three orders over two receive days, o3 twice, a retry of o1 and a line that is not JSON."""
    land(
        lake_root,
        "a",
        [
            stored(ORDER, "r01", "2026-11-29T10:00:00.000000Z"),
            stored(O2, "r02", "2026-11-29T10:00:01.000000Z"),
            stored(changed(O3, status="pending"), "r03", "2026-11-29T11:00:00.000000Z"),
            b"not json at all\n",
            stored(changed(O3, status="delivered"), "r04", "2026-11-29T11:05:00.000000Z"),
            stored(ORDER, "r05", "2026-11-30T08:00:00.000000Z"),  # a retry: identical to r01
        ],
    )


def land_run_2(lake_root: str) -> None:
    """o1 shipped with one line left; o3 a different order (a collision) on another day; o2 a retry."""
    o3_other = changed(
        O3,
        customer_id="user9",
        order_date="2024-06-20T00:00:00Z",
        shipping_address={"street": "9 Oak Rd", "city": "Leeds", "state": "WY", "zip": "01010", "country": "UK"},
        purchase_details={"payment_type": "bank_transfer", "amount": 1200, "currency": "GBP", "instalments": 1},
    )
    del o3_other["purchaise_details"]
    land(
        lake_root,
        "b",
        [
            stored(
                changed(ORDER, status="shipped", product_details=ORDER["product_details"][:1]),
                "r06",
                "2026-11-30T09:00:00.000000Z",
            ),
            stored(o3_other, "r07", "2026-11-30T09:01:00.000000Z"),
            stored(O2, "r08", "2026-11-30T09:02:00.000000Z"),
        ],
    )


def test_orders_pipeline_run_by_run(spark, lake_root):
    land_run_1(lake_root)
    run_job(lake_root, "raw_events", stream="orders")
    run_job(lake_root, "curated_orders")

    raw = read_table(spark, lake_root, "raw.orders_events")
    assert sorted(
        (r["_record_id"], r["order_id"], r["status"], r["p_date"], r["_line_number"]) for r in raw.collect()
    ) == [
        ("r01", "o1", "pending", date(2026, 11, 29), 1),
        ("r02", "o2", "shipped", date(2026, 11, 29), 2),
        ("r03", "o3", "pending", date(2026, 11, 29), 3),
        ("r04", "o3", "delivered", date(2026, 11, 29), 5),
        ("r05", "o1", "pending", date(2026, 11, 30), 6),
    ]
    [quarantined] = [json.loads(p.read_text()) for p in Path(lake_root, "quarantine").rglob("part-*.json")]
    assert (quarantined["text"], quarantined["line_number"], quarantined["reason"]) == (
        "not json at all",
        4,
        "not JSON, or a field of the wrong type",
    )
    assert quarantined["source_file"].startswith("landing/streams/orders/2026/11/30/10/orders-1-")

    d14 = date(2024, 6, 14)
    assert rows(spark, lake_root, "curated.orders", ["order_id"]) == [
        ("o1", "user1", ts("2024-06-14 09:31:07.512845"), d14, "pending", ts("2026-11-29 10:00:00")),
        ("o2", "user2", ts("2024-06-14 23:59:59.999999"), d14, "shipped", ts("2026-11-29 10:00:01")),
        ("o3", "user3", ts("2024-06-14 09:31:07.512845"), d14, "delivered", ts("2026-11-29 11:05:00")),
    ]
    assert rows(spark, lake_root, "curated.product_details", ["order_id", "line_no"]) == [
        ("o1", 1, "p084113", "window", 2, "SlateBlue", "M", d14),
        ("o1", 2, "p00912", "garden", 1, "Ivory", "XXL", d14),
        ("o2", 1, "p1", "lamp", 1, None, None, d14),
        ("o3", 1, "p7", "rug", 4, None, "XXS", d14),
    ]
    assert rows(spark, lake_root, "curated.purchase_details", ["order_id"]) == [
        ("o1", "credit_card", Decimal("57.31"), "USD", 3, d14),
        ("o2", "paypal", Decimal("0.10"), "EUR", None, d14),
        ("o3", "credit_card", Decimal("57.31"), "USD", 3, d14),
    ]
    assert rows(spark, lake_root, "curated.shipping_addresses", ["order_id"]) == [
        ("o1", "481 Maple Ct", "Port Jessica", "Ohio", "07344", "Lithuania", d14),
        ("o2", "1 Elm St", "Holtsville", "New York", "00501", "US", d14),
        ("o3", "481 Maple Ct", "Port Jessica", "Ohio", "07344", "Lithuania", d14),
    ]

    # Run 2: o1 shipped with one line left; o3 a different order (a collision) on another day; o2 a retry.
    land_run_2(lake_root)
    versions = {n: delta_version(spark, lake_root, n) for n in ("curated.orders", "curated.product_details")}
    run_job(lake_root, "raw_events", stream="orders")
    run_job(lake_root, "curated_orders")

    d20 = date(2024, 6, 20)
    assert rows(spark, lake_root, "curated.orders", ["order_id"]) == [
        ("o1", "user1", ts("2024-06-14 09:31:07.512845"), d14, "shipped", ts("2026-11-30 09:00:00")),
        ("o2", "user2", ts("2024-06-14 23:59:59.999999"), d14, "shipped", ts("2026-11-29 10:00:01")),
        ("o3", "user9", ts("2024-06-20 00:00:00"), d20, "pending", ts("2026-11-30 09:01:00")),
    ]
    assert rows(spark, lake_root, "curated.product_details", ["order_id", "line_no"]) == [
        ("o1", 1, "p084113", "window", 2, "SlateBlue", "M", d14),
        ("o2", 1, "p1", "lamp", 1, None, None, d14),
        ("o3", 1, "p7", "rug", 4, None, "XXS", d20),
    ]
    assert rows(spark, lake_root, "curated.purchase_details", ["order_id"]) == [
        ("o1", "credit_card", Decimal("57.31"), "USD", 3, d14),
        ("o2", "paypal", Decimal("0.10"), "EUR", None, d14),
        ("o3", "bank_transfer", Decimal("1200.00"), "GBP", 1, d20),
    ]
    assert rows(spark, lake_root, "curated.shipping_addresses", ["order_id"]) == [
        ("o1", "481 Maple Ct", "Port Jessica", "Ohio", "07344", "Lithuania", d14),
        ("o2", "1 Elm St", "Holtsville", "New York", "00501", "US", d14),
        ("o3", "9 Oak Rd", "Leeds", "WY", "01010", "UK", d20),
    ]
    for name, version in versions.items():  # one MERGE each
        assert delta_version(spark, lake_root, name) == version + 1

    # Run 3: nothing new, nothing written.
    before = {n: delta_version(spark, lake_root, n) for n in ("curated.orders", "curated.shipping_addresses")}
    run_job(lake_root, "raw_events", stream="orders")
    run_job(lake_root, "curated_orders")
    assert {n: delta_version(spark, lake_root, n) for n in before} == before
    assert read_table(spark, lake_root, "raw.orders_events").count() == 8
