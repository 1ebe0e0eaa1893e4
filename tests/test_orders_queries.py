"""queries/orders/: the seed's five Athena questions, run as Athena SQL transpiled to Spark on a known set of
curated order tables, each whole result written out by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lakekit.catalog.athena import run_local
from lakekit.catalog.metastore import register_table
from lakekit.catalog.model import load_table

QUERIES = Path(__file__).resolve().parent.parent / "queries" / "orders"
D14, D15 = date(2024, 6, 14), date(2024, 6, 15)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


# o3 is cancelled; o4 has no shipping address.
TABLES = {
    "curated.orders": [
        ("o1", "user1", ts("2024-06-14 09:00"), D14, "pending", ts("2026-11-29 10:00")),
        ("o2", "user2", ts("2024-06-14 10:00"), D14, "shipped", ts("2026-11-29 10:00")),
        ("o3", "user1", ts("2024-06-15 08:00"), D15, "cancelled", ts("2026-11-29 10:00")),
        ("o4", "user3", ts("2024-06-15 12:00"), D15, "delivered", ts("2026-11-29 10:00")),
    ],
    "curated.purchase_details": [
        ("o1", "credit_card", Decimal("57.31"), "USD", 3, D14),
        ("o2", "paypal", Decimal("10.00"), "USD", None, D14),
        ("o3", "credit_card", Decimal("100.00"), "EUR", 1, D15),
        ("o4", "credit_card", Decimal("20.50"), "USD", 2, D15),
    ],
    "curated.shipping_addresses": [
        ("o1", "481 Maple Ct", "Port Jessica", "Ohio", "07344", "Lithuania", D14),
        ("o2", "1 Elm St", "Holtsville", "New York", "00501", "United States", D14),
        ("o3", "9 Oak Rd", "Vilnius", "Vilnius", "01010", "Lithuania", D15),
    ],
    "curated.product_details": [
        ("o1", 1, "p1", "window", 2, "Ivory", "M", D14),
        ("o1", 2, "p2", "garden", 1, None, None, D14),
        ("o2", 1, "p1", "window", 3, "Gold", "XL", D14),
        ("o3", 1, "p3", "lamp", 5, "Black", "S", D15),
        ("o4", 1, "p2", "garden", 1, "Tomato", "XXS", D15),
    ],
}

EXPECTED = {
    "average_order_value.sql": (
        [
            ("currency", "string"),
            ("orders", "bigint"),
            ("average_order_value", "decimal(12,2)"),
            ("total", "decimal(22,2)"),
        ],
        # USD: (57.31 + 10.00 + 20.50) / 3 = 29.27
        [("EUR", 1, Decimal("100.00"), Decimal("100.00")), ("USD", 3, Decimal("29.27"), Decimal("87.81"))],
    ),
    "most_sold_products.sql": (
        [("product_id", "string"), ("name", "string"), ("units_sold", "bigint"), ("orders", "bigint")],
        [("p1", "window", 5, 2), ("p3", "lamp", 5, 1), ("p2", "garden", 2, 2)],
    ),
    "orders_with_shipping_address.sql": (
        [
            ("order_id", "string"),
            ("customer_id", "string"),
            ("order_ts", "timestamp"),
            ("status", "string"),
            ("street", "string"),
            ("city", "string"),
            ("state", "string"),
            ("zip", "string"),
            ("country", "string"),
        ],
        [
            ("o4", "user3", ts("2024-06-15 12:00"), "delivered", None, None, None, None, None),
            (
                "o3",
                "user1",
                ts("2024-06-15 08:00"),
                "cancelled",
                "9 Oak Rd",
                "Vilnius",
                "Vilnius",
                "01010",
                "Lithuania",
            ),
            (
                "o2",
                "user2",
                ts("2024-06-14 10:00"),
                "shipped",
                "1 Elm St",
                "Holtsville",
                "New York",
                "00501",
                "United States",
            ),
            (
                "o1",
                "user1",
                ts("2024-06-14 09:00"),
                "pending",
                "481 Maple Ct",
                "Port Jessica",
                "Ohio",
                "07344",
                "Lithuania",
            ),
        ],
    ),
    "income_per_payment_method.sql": (
        [("payment_type", "string"), ("currency", "string"), ("orders", "bigint"), ("income", "decimal(22,2)")],
        # o3 (cancelled, EUR) brings nothing: credit_card USD is o1 + o4.
        [("credit_card", "USD", 2, Decimal("77.81")), ("paypal", "USD", 1, Decimal("10.00"))],
    ),
    "sales_per_country.sql": (
        [("country", "string"), ("currency", "string"), ("orders", "bigint"), ("sales", "decimal(22,2)")],
        # o3 cancelled, o4 has no address.
        [("Lithuania", "USD", 1, Decimal("57.31")), ("United States", "USD", 1, Decimal("10.00"))],
    ),
}


@pytest.fixture(scope="module")
def orders_lake(spark, tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("orders_queries") / "lake")
    for name, rows in TABLES.items():
        table = load_table(name)
        register_table(spark, table, root)
        spark.createDataFrame(rows, table.schema).write.format("delta").mode("append").save(table.location_under(root))
    return root


def test_every_orders_query_file_has_an_expected_result():
    assert sorted(p.name for p in QUERIES.glob("*.sql")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_orders_query_runs_locally_with_its_expected_result(spark, orders_lake, name):
    for table in TABLES:  # other tests may have pointed the shared metastore elsewhere
        register_table(spark, load_table(table), orders_lake)
    columns, rows = EXPECTED[name]
    result_df = run_local(spark, (QUERIES / name).read_text())
    assert result_df.dtypes == columns
    assert [tuple(row) for row in result_df.collect()] == rows
