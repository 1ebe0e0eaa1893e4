"""Retail events (UCI Online Retail rows) -> invoice lines, invoices and customers.

A line is (invoice_no, line_no): the producer numbers an invoice's rows in file order and gives an
exact duplicate row its first occurrence's number, so duplicates fall on one key. The latest received
event of a line is its content; an event equal to the version before it (a retry, a duplicate) changes
nothing. Invoices are recomputed from all their lines, customers from all their invoices.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.dynamodb import is_inexact_number, to_number

PRICE_TYPE = T.DecimalType(10, 2)
AMOUNT_TYPE = T.DecimalType(12, 2)
TOTAL_TYPE = T.DecimalType(18, 2)
_AMOUNT_LIMIT = 10**10  # decimal(12,2) holds amounts below this

LINE_KEY = ["invoice_no", "line_no"]
LINE_COLUMNS = [
    "invoice_no",
    "line_no",
    "stock_code",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "customer_id",
    "country",
    "invoiced_at",
    "invoice_date",
    "is_cancellation",
    "is_product",
    "is_write_off",
    "is_zero_price",
    "is_negative_price",
    "is_unknown_country",
    "received_at",
]
INVOICE_COLUMNS = [
    "invoice_no",
    "customer_id",
    "country",
    "invoiced_at",
    "invoice_date",
    "is_cancellation",
    "is_adjustment",
    "lines",
    "total_amount",
]
CUSTOMER_COLUMNS = [
    "customer_id",
    "country",
    "first_invoice_at",
    "last_invoice_at",
    "invoices",
    "cancellations",
    "net_spent",
    "updated_at",
]
REQUIRED = ["invoice_no", "line_no", "stock_code", "quantity", "invoiced_at", "unit_price"]


def _quoted(column: Column) -> Column:
    return F.concat(F.lit("'"), column, F.lit("'"))


def is_non_product(stock_code: Column, codes: list[str], prefixes: list[str]) -> Column:
    """True for a stock code that is not goods: one of `codes`, or starting with one of `prefixes` (any case,
    surrounding spaces ignored). Null for a null code."""
    code = F.upper(F.trim(stock_code))
    matched = code.isin([c.upper() for c in codes])
    for prefix in prefixes:
        matched = matched | code.startswith(prefix.upper())
    return matched


def unit_price() -> Column:
    """The posted price text as decimal(10,2); null where it cannot be stored exactly (see retail_problem)."""
    text = F.col("unit_price").cast("string")
    return F.when(~is_inexact_number(text, PRICE_TYPE), to_number(text, PRICE_TYPE))


def retail_problem() -> Column:
    """Why a retail event cannot become a line (the first problem found, naming the column), else null."""
    text = F.col("unit_price").cast("string")
    checks = [(F.col(c).isNull(), F.lit(f"{c}: missing")) for c in REQUIRED]
    checks.append(
        (
            is_inexact_number(text, PRICE_TYPE),
            F.concat(
                F.lit("unit_price: "), _quoted(text), F.lit(f" cannot be stored exactly as {PRICE_TYPE.simpleString()}")
            ),
        )
    )
    product = F.col("quantity").cast(T.DecimalType(10, 0)) * unit_price()
    checks.append(
        (
            F.abs(product) >= F.lit(_AMOUNT_LIMIT),
            F.concat(
                F.lit("amount: "),
                F.col("quantity").cast("string"),
                F.lit(" x "),
                _quoted(text),
                F.lit(f" cannot be stored exactly as {AMOUNT_TYPE.simpleString()}"),
            ),
        )
    )
    problem = F.lit(None).cast("string")
    for failed, reason in reversed(checks):
        problem = F.when(failed, reason).otherwise(problem)
    return problem


def build_retail_rejects(events_df: DataFrame, event_columns: list[str]) -> DataFrame:
    """The retail events that cannot be stored exactly: one row per event with its text (the event as JSON),
    landing file and line, the CSV file and line it came from, its record id, the reason and its micro-batch.

    Needs raw.retail_events columns (`event_columns` are the event's own fields, in order).
    """
    rejects_df = events_df.withColumn("_problem", retail_problem()).filter(F.col("_problem").isNotNull())
    return rejects_df.select(
        F.to_json(F.struct(*event_columns)).alias("text"),
        F.col("_source_file").alias("source_file"),
        F.col("_line_number").alias("line_number"),
        F.col("source_file").alias("csv_file"),
        F.col("source_line").alias("csv_line"),
        F.col("_record_id").alias("record_id"),
        F.col("_problem").alias("reason"),
        F.col("_batch_id").alias("batch"),
    )


def with_line_values(
    events_df: DataFrame, non_product_codes: list[str], non_product_prefixes: list[str], countries: list[str]
) -> DataFrame:
    """Good retail events as invoice-line rows: the curated columns with their flags, plus `_record_id`.

    Needs raw.retail_events columns; events with a problem (retail_problem) are left out.
    """
    good_df = events_df.filter(retail_problem().isNull())
    price = unit_price()
    is_cancellation = F.col("invoice_no").startswith("C")
    values = {
        "invoice_no": F.col("invoice_no"),
        "line_no": F.col("line_no"),
        "stock_code": F.col("stock_code"),
        "description": F.col("description"),
        "quantity": F.col("quantity"),
        "unit_price": price,
        "amount": (F.col("quantity").cast(T.DecimalType(10, 0)) * price).cast(AMOUNT_TYPE),
        "customer_id": F.col("customer_id"),
        "country": F.col("country"),
        "invoiced_at": F.col("invoiced_at"),
        "invoice_date": F.to_date("invoiced_at"),
        "is_cancellation": is_cancellation,
        "is_product": ~is_non_product(F.col("stock_code"), non_product_codes, non_product_prefixes),
        "is_write_off": (F.col("quantity") < 0) & ~is_cancellation,
        "is_zero_price": price == 0,
        "is_negative_price": price < 0,
        "is_unknown_country": F.coalesce(~F.trim("country").isin(countries), F.lit(True)),
        "received_at": F.col("_received_at"),
    }
    return good_df.select(*[values[c].alias(c) for c in LINE_COLUMNS], "_record_id")


def _content() -> Column:
    """A line's content as one value: every column but received_at (equal for a retry or a duplicate)."""
    return F.to_json(F.struct(*[c for c in LINE_COLUMNS if c != "received_at"]))


def build_retail_invoice_lines(
    events_df: DataFrame,
    current_df: DataFrame,
    non_product_codes: list[str],
    non_product_prefixes: list[str],
    countries: list[str],
) -> DataFrame:
    """The state of every line the events name: one row per (invoice_no, line_no), curated columns.

    `events_df`: new raw.retail_events rows; `current_df`: the table's rows (at least those of these lines).
    Versions of a line are taken in receive order (the table's row first among equal times, then the
    record id); a version equal in content to the one before it is dropped, so a retry or an exact
    duplicate keeps the row as it was (its received_at too); the last remaining version wins.
    """
    new_df = with_line_values(events_df, non_product_codes, non_product_prefixes, countries)
    new_df = new_df.withColumn("_is_current", F.lit(False))
    keys_df = new_df.select(*LINE_KEY).distinct()
    old_df = current_df.select(*LINE_COLUMNS).join(keys_df, LINE_KEY, "left_semi")
    old_df = old_df.withColumn("_record_id", F.lit(None).cast("string")).withColumn("_is_current", F.lit(True))
    versions_df = new_df.unionByName(old_df).withColumn("_content", _content())
    in_order = Window.partitionBy(*LINE_KEY).orderBy(
        F.col("received_at").asc(), F.col("_is_current").desc(), F.col("_record_id").asc_nulls_first()
    )
    distinct_df = versions_df.withColumn("_previous", F.lag("_content").over(in_order)).filter(
        F.col("_previous").isNull() | (F.col("_previous") != F.col("_content"))
    )
    latest = Window.partitionBy(*LINE_KEY).orderBy(
        F.col("received_at").desc(), F.col("_is_current").asc(), F.col("_record_id").desc_nulls_last()
    )
    winners_df = distinct_df.withColumn("_rank", F.row_number().over(latest)).filter(F.col("_rank") == 1)
    return winners_df.select(*LINE_COLUMNS)


def build_retail_invoices(lines_df: DataFrame) -> DataFrame:
    """One row per invoice from all its lines (curated.retail_invoice_lines columns).

    customer_id, country and invoiced_at are those of the first line (lowest line_no); `lines` counts
    the lines, `total_amount` sums their amounts.
    """
    first = Window.partitionBy("invoice_no").orderBy("line_no")
    first_df = (
        lines_df.withColumn("_rank", F.row_number().over(first))
        .filter(F.col("_rank") == 1)
        .select("invoice_no", "customer_id", "country", "invoiced_at")
    )
    totals_df = lines_df.groupBy("invoice_no").agg(
        F.count(F.lit(1)).cast("int").alias("lines"), F.sum("amount").cast(TOTAL_TYPE).alias("total_amount")
    )
    invoices_df = first_df.join(totals_df, "invoice_no")
    return invoices_df.select(
        "invoice_no",
        "customer_id",
        "country",
        "invoiced_at",
        F.to_date("invoiced_at").alias("invoice_date"),
        F.col("invoice_no").startswith("C").alias("is_cancellation"),
        F.col("invoice_no").startswith("A").alias("is_adjustment"),
        "lines",
        "total_amount",
    )


def build_retail_customers(invoices_df: DataFrame, current_df: DataFrame, updated_at: datetime) -> DataFrame:
    """One row per known customer from all their invoices (curated.retail_invoices columns); guests (a null
    customer_id) are left out.

    country is their latest invoice's (ties: the larger invoice_no); `invoices` counts those that are not
    cancellations, `cancellations` the C invoices; net_spent sums every invoice's total_amount (sales
    minus cancellations, whose amounts are negative). updated_at is the current row's (`current_df`,
    curated.retail_customers) when nothing else changed, else `updated_at`.
    """
    known_df = invoices_df.filter(F.col("customer_id").isNotNull())
    latest = Window.partitionBy("customer_id").orderBy(F.col("invoiced_at").desc(), F.col("invoice_no").desc())
    country_df = (
        known_df.withColumn("_rank", F.row_number().over(latest))
        .filter(F.col("_rank") == 1)
        .select("customer_id", "country")
    )
    totals_df = known_df.groupBy("customer_id").agg(
        F.min("invoiced_at").alias("first_invoice_at"),
        F.max("invoiced_at").alias("last_invoice_at"),
        F.count(F.when(~F.col("is_cancellation"), 1)).cast("int").alias("invoices"),
        F.count(F.when(F.col("is_cancellation"), 1)).cast("int").alias("cancellations"),
        F.sum("total_amount").cast(TOTAL_TYPE).alias("net_spent"),
    )
    content = [c for c in CUSTOMER_COLUMNS if c != "updated_at"]
    new_df = country_df.join(totals_df, "customer_id").select(*content)
    old_df = current_df.select(
        F.col("customer_id").alias("_old_id"),
        F.to_json(F.struct(*content)).alias("_old_content"),
        F.col("updated_at").alias("_old_updated_at"),
    )
    joined_df = new_df.join(old_df, F.col("customer_id") == F.col("_old_id"), "left")
    same = F.coalesce(F.to_json(F.struct(*content)) == F.col("_old_content"), F.lit(False))
    stamp = F.when(same, F.col("_old_updated_at")).otherwise(F.lit(updated_at).cast("timestamp"))
    return joined_df.select(*content, stamp.alias("updated_at"))
