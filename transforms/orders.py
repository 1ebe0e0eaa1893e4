"""Order events -> the four order datasets: orders, product_details, purchase_details, shipping_addresses.

An order_id names one order. Its latest received event is its current state, replacing the order and
its lines as a whole (a status update; also what the seed's producer, drawing ids from 100,000 values,
calls a new order). An event identical to the version before it (a retry) changes nothing.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

VERSION_COLUMNS = ["order_id", "_received_at", "_record_id", "_event_hash"]


def purchase() -> Column:
    """The payment block: `purchase_details` when sent, else the source's spelling `purchaise_details`."""
    return F.coalesce(F.col("purchase_details"), F.col("purchaise_details"))


def filter_latest_versions(events_df: DataFrame, current_df: DataFrame) -> DataFrame:
    """The events that become their order's current version: one row per changed order_id.

    `events_df`: new raw events (order_id, _received_at, _record_id, _event_hash and the event fields).
    `current_df`: the current version of orders (order_id, _received_at, _record_id, _event_hash).
    Per order_id, versions are taken in receive order (record id breaks ties); an event equal to the
    version before it is a duplicate and dropped; the last remaining one wins. An order whose winner is
    its current version is unchanged and left out. Events without an order_id are left out.
    """
    candidates_df = events_df.filter(F.col("order_id").isNotNull()).withColumn("_is_current", F.lit(False))
    current_df = current_df.select(*VERSION_COLUMNS).withColumn("_is_current", F.lit(True))
    versions_df = candidates_df.unionByName(current_df, allowMissingColumns=True)
    in_order = Window.partitionBy("order_id").orderBy("_received_at", "_record_id")
    previous_df = versions_df.withColumn("_previous_hash", F.lag("_event_hash").over(in_order))
    distinct_df = previous_df.filter(
        F.col("_previous_hash").isNull() | (F.col("_previous_hash") != F.col("_event_hash"))
    ).drop("_previous_hash")
    latest = Window.partitionBy("order_id").orderBy(F.col("_received_at").desc(), F.col("_record_id").desc())
    winners_df = distinct_df.withColumn("_rank", F.row_number().over(latest)).filter(F.col("_rank") == 1)
    return winners_df.filter(~F.col("_is_current")).drop("_rank", "_is_current")


def build_orders(latest_df: DataFrame) -> DataFrame:
    """One row per order: its customer, time (UTC), day, status and when its current event was received."""
    return latest_df.select(
        "order_id",
        "customer_id",
        F.col("order_date").alias("order_ts"),
        F.to_date("order_date").alias("order_date"),
        "status",
        F.col("_received_at").alias("received_at"),
    )


def build_product_details(latest_df: DataFrame) -> DataFrame:
    """One row per product line of each order, numbered by its position in the event from 1."""
    lines_df = latest_df.select("order_id", "order_date", F.posexplode("product_details").alias("_position", "line"))
    return lines_df.select(
        "order_id",
        (F.col("_position") + 1).cast("int").alias("line_no"),
        F.col("line.product_id").alias("product_id"),
        F.col("line.name").alias("name"),
        F.col("line.quantity").alias("quantity"),
        F.col("line.item_details.color").alias("color"),
        F.col("line.item_details.size").alias("size"),
        F.to_date("order_date").alias("order_date"),
    )


def build_purchase_details(latest_df: DataFrame) -> DataFrame:
    """One row per order with a payment block (either spelling); the amount as decimal(12,2)."""
    payment_df = latest_df.select("order_id", "order_date", purchase().alias("payment"))
    return payment_df.filter(F.col("payment").isNotNull()).select(
        "order_id",
        F.col("payment.payment_type").alias("payment_type"),
        F.col("payment.amount").cast("decimal(12,2)").alias("amount"),
        F.col("payment.currency").alias("currency"),
        F.col("payment.instalments").cast("int").alias("instalments"),
        F.to_date("order_date").alias("order_date"),
    )


def build_shipping_addresses(latest_df: DataFrame) -> DataFrame:
    """One row per order with a shipping address; the zip as text (leading zeros kept)."""
    return latest_df.filter(F.col("shipping_address").isNotNull()).select(
        "order_id",
        F.col("shipping_address.street").alias("street"),
        F.col("shipping_address.city").alias("city"),
        F.col("shipping_address.state").alias("state"),
        F.col("shipping_address.zip").cast("string").alias("zip"),
        F.col("shipping_address.country").alias("country"),
        F.to_date("order_date").alias("order_date"),
    )
