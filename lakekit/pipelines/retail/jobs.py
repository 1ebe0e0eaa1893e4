"""The retail pipeline's jobs: raw.retail_events -> invoice lines, invoices and customers (Delta, MERGE) -> the
DynamoDB tables Customers and Invoices; the tables they name."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakekit.catalog.model import TableDef, load_table
from lakekit.catalog.serving import load_serving_table
from lakekit.core.failpoints import failpoint
from lakekit.core.job import JobRun
from lakekit.core.storage import storage_for
from lakekit.jobs.event_streams import RAW_EVENTS_JOB
from lakekit.sinks.delta_log import has_version_after
from lakekit.sinks.dynamodb_feed import Feed, load_feed
from lakekit.sources.streams.raw import unapplied_batches
from lakekit.tables import TableHandle
from transforms.retail import (
    LINE_KEY,
    build_retail_customers,
    build_retail_invoice_lines,
    build_retail_invoices,
    build_retail_rejects,
)

STREAM = "retail"
RAW_TABLE = "raw.retail_events"
LINES_TABLE = "curated.retail_invoice_lines"
INVOICES_TABLE = "curated.retail_invoices"
CUSTOMERS_TABLE = "curated.retail_customers"
CURATED_JOB, LOAD_JOB = "curated_retail", "load_retail_dynamodb"
CUSTOMERS_SERVING, INVOICES_SERVING = "Customers", "Invoices"
GUEST = "GUEST"  # the Invoices item key of an invoice without a customer
SECONDS = "yyyy-MM-dd'T'HH:mm:ss"


# ------------------------------------------------------------------------------------------------ curated


def quarantine_rejects(run: JobRun, raw: TableDef, events_df: DataFrame) -> int:
    """Events that cannot be stored exactly, as JSON lines in quarantine/curated_retail/batch=<n>.jsonl, one file
    per micro-batch of raw.retail_events (rewritten whole, so a rerun of a batch leaves one copy); returns how many."""
    columns = [f.name for f in raw.record_schema.fields]
    rejects = [r.asDict() for r in build_retail_rejects(events_df, columns).collect()]
    by_batch: dict[int, list[dict]] = {}
    for reject in rejects:
        by_batch.setdefault(reject.pop("batch"), []).append(reject)
    storage = storage_for(run.settings.lake_root)
    for batch, rows in sorted(by_batch.items()):
        rows.sort(key=lambda r: (r["source_file"], r["line_number"]))
        path = run.settings.path("quarantine", run.state_name, f"batch={batch}.jsonl")
        storage.write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        for reject in rows:
            run.say(f"{reject['source_file']} line {reject['line_number']}: {reject['reason']}; quarantined to {path}")
    failpoint("curated.after_quarantine")
    return len(rejects)


def has_new_batches(run: JobRun) -> bool:
    """Whether the streaming job wrote micro-batches after the bookmark (from the lake's state; no Spark)."""
    return unapplied_batches(run, RAW_EVENTS_JOB, STREAM) is not None


def run_curated_retail(run: JobRun) -> None:
    """The three retail tables from the raw.retail_events rows of the micro-batches not yet applied.

    One MERGE per table, in this order: lines, customers, invoices. curated.retail_invoices is merged last:
    it still names each touched invoice's previous customer, so a run interrupted between the MERGEs
    recomputes the same customers when it runs again (every MERGE is idempotent).
    """
    raw = TableHandle(run, RAW_TABLE)
    batches = raw.new_batches(RAW_EVENTS_JOB, STREAM)
    if batches is None:
        run.say(f"nothing new in {raw.name}")
        return
    done, last, files = batches.after, batches.last, batches.files
    started = datetime.now(UTC).replace(tzinfo=None)
    lines, invoices, customers = (
        TableHandle(run, n).register() for n in (LINES_TABLE, INVOICES_TABLE, CUSTOMERS_TABLE)
    )
    if files:
        events_df = raw.read(files).persist()
        try:
            quarantined = quarantine_rejects(run, raw.table, events_df)
            run.say(
                f"{len(files)} raw file(s) of batches {done + 1}..{last}"
                + (f", {quarantined} event(s) quarantined" if quarantined else "")
            )
            apply_batches(run, events_df, lines, invoices, customers, started)
        finally:
            events_df.unpersist()
    run.advance({"batch": last})


def _empty(run: JobRun, table: TableHandle) -> DataFrame:
    return run.spark.createDataFrame([], table.table.schema)


def _semi(df: DataFrame | None, keys: DataFrame, on: str | list[str]) -> DataFrame | None:
    return None if df is None else df.join(keys, on, "left_semi")


def apply_batches(
    run: JobRun,
    events_df: DataFrame,
    lines: TableHandle,
    invoices: TableHandle,
    customers: TableHandle,
    started: datetime,
) -> None:
    conf = lines.table.conf
    codes, prefixes = conf["non_product_stock_codes"], conf.get("non_product_stock_code_prefixes") or []
    touched_df = events_df.select("invoice_no").distinct().localCheckpoint()
    current = {t.name: t.current() for t in (lines, invoices, customers)}

    # Lines: the new state of every line the events name, against the table's rows of their invoices.
    lines_df = _semi(current[lines.name], touched_df, "invoice_no")
    resolved_df = build_retail_invoice_lines(
        events_df, lines_df if lines_df is not None else _empty(run, lines), codes, prefixes, conf["countries"]
    ).localCheckpoint()
    lines.write(_semi(lines_df, resolved_df.select(*LINE_KEY), LINE_KEY), resolved_df)

    # Invoices touched: recomputed from all their lines (the table as merged above).
    new_invoices_df = build_retail_invoices(_semi(lines.read(), touched_df, "invoice_no")).localCheckpoint()
    old_invoices_df = _semi(current[invoices.name], touched_df, "invoice_no")
    if old_invoices_df is not None:
        old_invoices_df = old_invoices_df.localCheckpoint()

    # Customers of those invoices, before and after: recomputed from all their invoices. (Each table is checked
    # on its own: a first run interrupted after the customers' load finds them there when it runs again.)
    customer_ids_df = new_invoices_df.select("customer_id")
    their_invoices_df = new_invoices_df
    if old_invoices_df is not None:
        customer_ids_df = customer_ids_df.union(old_invoices_df.select("customer_id"))
    customer_ids_df = customer_ids_df.dropna().distinct().localCheckpoint()
    if current[invoices.name] is not None:
        other_invoices_df = _semi(current[invoices.name], customer_ids_df, "customer_id").join(
            touched_df, "invoice_no", "left_anti"
        )
        their_invoices_df = other_invoices_df.unionByName(new_invoices_df)
    old_customers_df = _semi(current[customers.name], customer_ids_df, "customer_id")
    new_customers_df = build_retail_customers(
        their_invoices_df, old_customers_df if old_customers_df is not None else _empty(run, customers), started
    )
    customers.write(old_customers_df, new_customers_df)
    invoices.write(old_invoices_df, new_invoices_df)


# ----------------------------------------------------------------------------------------------- DynamoDB


def customer_item() -> dict[str, F.Column]:
    """A customer's DynamoDB item: timestamps YYYY-MM-DDTHH:MM:SS (updated_at in UTC, with a Z)."""
    return {
        "customer_id": F.col("customer_id"),
        "country": F.col("country"),
        "first_invoice_at": F.date_format("first_invoice_at", SECONDS),
        "last_invoice_at": F.date_format("last_invoice_at", SECONDS),
        "invoices": F.col("invoices"),
        "cancellations": F.col("cancellations"),
        "net_spent": F.col("net_spent"),
        "updated_at": F.date_format("updated_at", SECONDS + "'Z'"),
    }


def invoice_item() -> dict[str, F.Column]:
    """An invoice's DynamoDB item, under its customer (GUEST for a guest's)."""
    return {
        "customer_id": F.coalesce(F.col("customer_id"), F.lit(GUEST)),
        "invoice_no": F.col("invoice_no"),
        "country": F.col("country"),
        "invoiced_at": F.date_format("invoiced_at", SECONDS),
        "invoice_date": F.date_format("invoice_date", "yyyy-MM-dd"),
        "is_cancellation": F.col("is_cancellation"),
        "is_adjustment": F.col("is_adjustment"),
        "lines": F.col("lines"),
        "total_amount": F.col("total_amount"),
    }


def has_new_versions(run: JobRun) -> bool:
    """Whether either table has a Delta commit after the bookmark's version, or a batch is pending (no Spark)."""
    bookmark = run.position()
    for name, key in ((CUSTOMERS_TABLE, "customers"), (INVOICES_TABLE, "invoices")):
        done = bookmark.get(f"{key}_version")
        if bookmark.get(f"{key}_pending") or has_version_after(TableHandle(run, name).path, done):
            return True
    return False


def run_load_retail_dynamodb(run: JobRun) -> None:
    """Write the customers and invoices changed since the bookmark into the DynamoDB tables Customers and Invoices."""
    bookmark = dict(run.position())
    feeds = [
        Feed(
            load_table(CUSTOMERS_TABLE),
            load_serving_table(CUSTOMERS_SERVING),
            customer_item,
            name=run.settings.names.serving_table(CUSTOMERS_SERVING),
            position_key="customers",
        ),
        Feed(
            load_table(INVOICES_TABLE),
            load_serving_table(INVOICES_SERVING),
            invoice_item,
            name=run.settings.names.serving_table(INVOICES_SERVING),
            position_key="invoices",
        ),
    ]
    for feed in feeds:
        result = load_feed(run, feed, bookmark)
        if result.version is not None:
            run.say(
                f"DynamoDB table {feed.table_name}: {result.puts} item(s) written, {result.deletes} deleted "
                f"in {result.requests} request(s), up to version {result.version} of {feed.source.qualified_name}"
            )
