"""The orders pipeline: order events posted to `lake serve` -> landing/streams/orders/ -> raw.orders_events -> four
curated Delta tables (orders, product_details, purchase_details, shipping_addresses)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakekit.core.job import JobRun
from lakekit.core.registry import Job, Pipeline, Step
from lakekit.jobs.event_streams import RAW_EVENTS_JOB, batches_state
from lakekit.tables import TableHandle
from transforms.orders import (
    build_orders,
    build_product_details,
    build_purchase_details,
    build_shipping_addresses,
    filter_latest_versions,
)

STREAM = "orders"
RAW_TABLE = "raw.orders_events"
# curated.orders last: it holds each order's version, so a run interrupted between the MERGEs finds the
# same orders changed when it runs again and completes the other tables (their MERGEs are idempotent).
CURATED_TABLES = {
    "curated.product_details": build_product_details,
    "curated.purchase_details": build_purchase_details,
    "curated.shipping_addresses": build_shipping_addresses,
    "curated.orders": build_orders,
}

# The seed's producer: order ids from 100,000 values, customers from a pool of 30, sizes XXS…XXXL.
_CUSTOMERS = [f"user{n:04d}" for n in random.Random(30).sample(range(10_000), 30)]
_STATUSES = ["pending", "processing", "shipped", "delivered", "cancelled"]
_PRODUCTS = ["window", "garden", "lamp", "chair", "kettle", "blanket", "mirror", "rug", "shelf", "vase"]
_COLORS = ["SlateBlue", "Ivory", "Tomato", "OliveDrab", "Black", "Gold"]
_SIZES = ["XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"]
_PAYMENTS = ["credit_card", "debit_card", "paypal", "bank_transfer"]
_CURRENCIES = ["USD", "EUR", "GBP"]
_PLACES = [
    ("Port Jessica", "Ohio", "Lithuania"),
    ("Lake Amanda", "Texas", "United States"),
    ("East Kevin", "Maine", "Portugal"),
    ("Millerside", "Oregon", "Japan"),
    ("New Tara", "Vermont", "Brazil"),
]
_START = datetime(2024, 6, 14, 9, 0, tzinfo=UTC)


def make_order_event(rng: random.Random, number: int) -> dict[str, Any]:
    """One order event shaped like the seed's producer's (its `purchaise_details` spelling 9 times in 10)."""
    city, state, country = rng.choice(_PLACES)
    ordered_at = _START + timedelta(seconds=number * 7 + rng.randrange(7), microseconds=rng.randrange(1_000_000))
    lines = [
        {
            "product_id": f"p{rng.randrange(2000):05d}",
            "name": rng.choice(_PRODUCTS),
            "quantity": rng.randint(1, 5),
            "item_details": {"color": rng.choice(_COLORS), "size": rng.choice(_SIZES)},
        }
        for _ in range(rng.randint(1, 3))
    ]
    purchase = {
        "payment_type": rng.choice(_PAYMENTS),
        "amount": round(rng.uniform(5, 500), 2),
        "currency": rng.choice(_CURRENCIES),
        "instalments": rng.randint(1, 12),
    }
    return {
        "customer_id": rng.choice(_CUSTOMERS),
        "order_id": f"o{rng.randrange(100_000):05d}",
        "order_date": ordered_at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "status": rng.choice(_STATUSES),
        "shipping_address": {
            "street": f"{rng.randint(1, 999)} Maple Court Apt. {rng.randint(1, 40)}",
            "city": city,
            "state": state,
            "zip": f"{rng.randrange(100_000):05d}",
            "country": country,
        },
        ("purchaise_details" if rng.random() < 0.9 else "purchase_details"): purchase,
        "product_details": lines,
    }


# ------------------------------------------------------------------------------------------------ curated


def current_versions(raw: TableHandle, orders_df: DataFrame, events_df: DataFrame) -> DataFrame:
    """The raw event behind the current row of each order the new events name (order_id, _received_at,
    _record_id, _event_hash): read from the raw partitions of those receive days only."""
    current_df = orders_df.join(events_df.select("order_id").distinct(), "order_id", "left_semi").select(
        "order_id", F.col("received_at").alias("_received_at")
    )
    days = [r["day"] for r in current_df.select(F.to_date("_received_at").alias("day")).distinct().collect()]
    if not days:
        return current_df.select(
            "order_id",
            "_received_at",
            F.lit(None).cast("string").alias("_record_id"),
            F.lit(None).cast("string").alias("_event_hash"),
        )
    behind_df = (
        raw.read().filter(F.col("p_date").isin(days)).join(current_df, ["order_id", "_received_at"], "left_semi")
    )
    # Two events of an order in one request share a receive time: the later one (larger record id) is current.
    return behind_df.groupBy("order_id", "_received_at").agg(
        F.max_by("_event_hash", "_record_id").alias("_event_hash"), F.max("_record_id").alias("_record_id")
    )


def run_curated_orders(run: JobRun) -> None:
    """The four order tables from the raw.orders_events rows of the micro-batches not yet applied: one MERGE each."""
    raw = TableHandle(run, RAW_TABLE)
    batches = raw.new_batches(RAW_EVENTS_JOB, STREAM)
    if batches is None:
        run.say(f"nothing new in {raw.name}")
        return
    done, last, files = batches.after, batches.last, batches.files
    tables = {name: TableHandle(run, name).register() for name in CURATED_TABLES}
    events_df = raw.read(files) if files else None
    if events_df is not None:
        targets = {n: t.read() for n, t in tables.items()}
        orders_df = targets["curated.orders"]
        latest_df = filter_latest_versions(events_df, current_versions(raw, orders_df, events_df)).localCheckpoint()
        changed_df = latest_df.select("order_id")
        old_days = orders_df.join(changed_df, "order_id", "left_semi").select("order_date")
        new_days = latest_df.select(F.to_date("order_date").alias("order_date"))
        days = [r["order_date"] for r in old_days.union(new_days).distinct().collect()]
        run.say(f"{len(files)} raw file(s) of batches {done + 1}..{last}: {latest_df.count()} order(s) changed")
        for name, build in CURATED_TABLES.items():
            old_df = targets[name].filter(F.col("order_date").isin(days)).join(changed_df, "order_id", "left_semi")
            tables[name].write(old_df, build(latest_df))
    run.advance({"batch": last})


PIPELINE = Pipeline(
    name="orders",
    jobs=(
        Job(
            "curated_orders",
            run_curated_orders,
            {},
            f"{RAW_TABLE} -> {', '.join(CURATED_TABLES)}",
            reads=(RAW_TABLE, batches_state(STREAM)),
            writes=tuple(CURATED_TABLES),
        ),
    ),
    workflows={"orders": (Step(RAW_EVENTS_JOB, {"stream": STREAM}), Step("curated_orders"))},
    producers={STREAM: make_order_event},
)
