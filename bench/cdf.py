"""`make bench-cdf`: what the change data feed costs a MERGE and what it saves the job that reads the changes.

Two copies of `curated.complaints` (its catalog definition: schema, partitions, key), one with
`delta.enableChangeDataFeed` as catalog/ declares it and one without, get the same generated rows
(first load) and then the same changed rows, several runs in a row, through the project's own MERGE
(lakekit.sinks.delta.apply_changes). The two tables take turns going first, so neither always pays
for a warmer JVM.

For each run it measures the MERGE on both (wall time, bytes written, change data files) and the
reader of the changes: with the feed, the changes of the new version as `load_complaints_dynamodb`
reads them (its Feed's final_actions: one row per changed key, last change wins); without
it, the only way to find them, comparing the table's two versions row by row (full outer join on
the key). Both must name the same keys, or the benchmark fails.

Run: python -m bench.cdf [--rows 1000000] [--change 0.01] [--runs 3]
Prints a table, appends a section to bench/RESULTS.md and ends with one machine-readable line.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bench.delta_log import commits
from bench.run import machine
from lakekit.catalog.model import TableDef, load_table
from lakekit.catalog.serving import load_serving_table
from lakekit.core.session import get_spark
from lakekit.core.settings import load_settings
from lakekit.pipelines.complaints import SERVING_TABLE, complaint_item
from lakekit.sinks.delta import apply_changes, load_into_empty
from lakekit.sinks.dynamodb_feed import Feed, final_actions
from transforms.changes import DELETE, UPSERT

BENCH = Path(__file__).resolve().parent
TABLE = "curated.complaints"
CDF = "delta.enableChangeDataFeed"
DAYS = 730  # two years of date_received partitions
PRODUCTS = ["Credit reporting", "Debt collection", "Mortgage", "Checking or savings account", "Credit card"]
RESPONSES = ["Closed with explanation", "Closed with monetary relief", "In progress", "Untimely response"]


def rows_df(spark, table: TableDef, first_id: int, count: int, version: int) -> DataFrame:
    """`count` complaints shaped like the CFPB's: a few categories, free text, a narrative on 40% of them.

    `version` changes the fields a company's answer changes (response, public response, fetched_at).
    """
    ids = spark.range(first_id, first_id + count).withColumnRenamed("id", "complaint_id")
    text = F.sha2(F.concat_ws(":", F.col("complaint_id").cast("string"), F.lit(version)), 256)
    narrative = F.when(F.col("complaint_id") % 5 < 2, F.repeat(text, 12))  # ~770 characters
    df = ids.select(
        "complaint_id",
        F.date_add(F.lit("2024-01-01").cast("date"), (F.col("complaint_id") % DAYS).cast("int")).alias("date_received"),
        F.date_add(F.lit("2024-01-03").cast("date"), (F.col("complaint_id") % DAYS).cast("int")).alias(
            "date_sent_to_company"
        ),
        F.element_at(F.array(*map(F.lit, PRODUCTS)), (F.col("complaint_id") % 5 + 1).cast("int")).alias("product"),
        F.substring(text, 1, 24).alias("sub_product"),
        F.substring(text, 5, 40).alias("issue"),
        F.substring(text, 9, 40).alias("sub_issue"),
        F.concat(F.lit("COMPANY "), (F.col("complaint_id") % 3000).cast("string")).alias("company"),
        F.lit("CA").alias("state"),
        F.substring(text, 20, 5).alias("zip_code"),
        F.when(F.col("complaint_id") % 7 == 0, F.array(F.lit("Older American"))).alias("tags"),
        F.lit("Consent provided").alias("consumer_consent_provided"),
        F.lit("Web").alias("submitted_via"),
        F.element_at(F.array(*map(F.lit, RESPONSES)), F.lit(version % 4 + 1)).alias("company_response"),
        F.when(F.lit(version) > 0, F.concat(F.lit("Company responded, answer "), F.lit(version))).alias(
            "company_public_response"
        ),
        F.lit(True).alias("timely"),
        F.lit(None).cast("boolean").alias("consumer_disputed"),
        narrative.alias("complaint_what_happened"),
        narrative.isNotNull().alias("has_narrative"),
        (F.lit(1_700_000_000 + version * 86_400).cast("timestamp")).alias("fetched_at"),
    )
    return df.select(*table.column_names)


def changes_df(spark, table: TableDef, rows: int, change: float, run: int) -> DataFrame:
    """A run's changes: `change` of the table, 90% answers to existing complaints, 8% new ones, 2% deleted.

    Each run picks other existing complaints (a stride through the ids) and adds new ids after the last.
    """
    changed = int(rows * change)
    updates, inserts = int(changed * 0.9), int(changed * 0.08)
    stride = max(rows // changed, 1)
    picked = spark.range(0, changed).select("id", ((F.col("id") * stride + run) % rows).alias("complaint_id"))
    updated = picked.filter(F.col("id") < updates).join(rows_df(spark, table, 0, rows, run), "complaint_id")
    new = rows_df(spark, table, rows + (run - 1) * inserts, inserts, run)
    deleted = picked.filter(F.col("id") >= updates + inserts).join(rows_df(spark, table, 0, rows, 0), "complaint_id")
    return (
        updated.select(*table.column_names, F.lit(UPSERT).alias("_action"))
        .unionByName(new.select(*table.column_names, F.lit(UPSERT).alias("_action")))
        .unionByName(deleted.select(*table.column_names, F.lit(DELETE).alias("_action")))
    )


def keys_from_feed(spark, path: str, version: int) -> set[int]:
    """The changed keys of `version` as `load_complaints_dynamodb` finds them (its Feed's final_actions: the change
    data feed, last change per key)."""
    feed = Feed(load_table(TABLE), load_serving_table(SERVING_TABLE), complaint_item)
    return {row[0] for row in final_actions(spark, feed, path, version - 1, version).select("complaint_id").collect()}


def keys_from_diff(spark, table: TableDef, path: str, version: int) -> set[int]:
    """The changed keys of `version` without a change feed: both versions compared row by row."""
    old = spark.read.format("delta").option("versionAsOf", version - 1).load(path)
    new = spark.read.format("delta").option("versionAsOf", version).load(path)
    columns = [c for c in table.column_names if c not in table.primary_key]
    old_row = F.struct(*[F.col(f"o.{c}") for c in columns])
    new_row = F.struct(*[F.col(f"n.{c}") for c in columns])
    joined = old.alias("o").join(new.alias("n"), F.col("o.complaint_id") == F.col("n.complaint_id"), "full_outer")
    differing = joined.filter(~old_row.eqNullSafe(new_row))
    return {row[0] for row in differing.select(F.coalesce("o.complaint_id", "n.complaint_id")).collect()}


def change_data_bytes(path: Path) -> tuple[int, int]:
    files = list((path / "_change_data").rglob("*.parquet")) if (path / "_change_data").exists() else []
    return len(files), sum(f.stat().st_size for f in files)


def timed(function, *args):
    started = time.monotonic()
    result = function(*args)
    return result, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--change", type=float, default=0.01, help="share of the table changed per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=BENCH / ".work" / "cdf")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    spark = get_spark(load_settings("local", str(args.work / "lake")))
    declared = load_table(TABLE)
    if declared.properties.get(CDF) != "true":
        raise SystemExit(f"{TABLE} no longer declares {CDF}: nothing to measure")
    variants = {
        "feed on": declared,
        "feed off": dataclasses.replace(
            declared, properties={k: v for k, v in declared.properties.items() if k != CDF}
        ),
    }
    from delta.tables import DeltaTable

    paths = {}
    for label, table in variants.items():
        path = args.work / label.replace(" ", "_")
        builder = DeltaTable.create(spark).location(str(path)).addColumns(table.schema)
        builder = builder.partitionedBy(*table.partition_keys)
        for key, value in table.properties.items():
            builder = builder.property(key, value)
        builder.execute()
        _, load_s = timed(load_into_empty, spark, table, str(path), rows_df(spark, table, 0, args.rows, 0))
        print(f"{label}: first load of {args.rows:,} rows in {load_s:.1f} s", flush=True)
        paths[label] = path

    measured: dict[str, list[dict]] = {label: [] for label in variants}
    for run in range(args.runs + 1):  # run 0 warms the JVM up and is not counted
        entries = {}
        for label in list(variants) if run % 2 else list(reversed(variants)):
            table, path = variants[label], paths[label]
            before_files = change_data_bytes(path)
            changes = changes_df(spark, table, args.rows, args.change, run + 1)
            result, merge_s = timed(apply_changes, spark, table, str(path), changes)
            cdf_files, cdf_bytes = (a - b for a, b in zip(change_data_bytes(path), before_files, strict=True))
            entries[label] = {
                "merge_s": merge_s,
                "bytes_added": int(commits(path)[-1]["metrics"]["numTargetBytesAdded"]),
                "cdf_files": cdf_files,
                "cdf_bytes": cdf_bytes,
                "changed": result.deleted + result.upserted,
                "version": result.version,
            }
        on, off = entries["feed on"], entries["feed off"]
        feed_keys, on["feed_s"] = timed(keys_from_feed, spark, str(paths["feed on"]), on["version"])
        diff_keys, off["diff_s"] = timed(
            keys_from_diff, spark, variants["feed off"], str(paths["feed off"]), off["version"]
        )
        if feed_keys != diff_keys:
            raise SystemExit(f"run {run}: the change feed names {len(feed_keys)} keys, the diff {len(diff_keys)}")
        print(
            f"run {run}{' (warm-up, not counted)' if run == 0 else ''}: {on['changed']:,} changes, "
            f"{len(diff_keys):,} keys; MERGE {on['merge_s']:.1f} s with the feed ({on['cdf_files']} change data "
            f"files, {on['cdf_bytes']:,} bytes), {off['merge_s']:.1f} s without; changed keys from the feed "
            f"{on['feed_s']:.1f} s, from a diff of versions {off['diff_s']:.1f} s",
            flush=True,
        )
        if run:
            for label, entry in entries.items():
                measured[label].append(entry)
    report(args, measured)


def median(entries: list[dict], key: str) -> float:
    return statistics.median(e[key] for e in entries)


def report(args, measured: dict[str, list[dict]]) -> None:
    on, off = measured["feed on"], measured["feed off"]
    merge_on, merge_off = median(on, "merge_s"), median(off, "merge_s")
    feed_s, diff_s = median(on, "feed_s"), median(off, "diff_s")
    summary = (
        f"bench-cdf: rows={args.rows} changes={on[0]['changed']} runs={args.runs} merge_feed_on_s={merge_on:.2f} "
        f"merge_feed_off_s={merge_off:.2f} merge_cost={merge_on / merge_off - 1:+.0%} "
        f"change_data_bytes={int(median(on, 'cdf_bytes'))} bytes_added_on={int(median(on, 'bytes_added'))} "
        f"bytes_added_off={int(median(off, 'bytes_added'))} feed_read_s={feed_s:.2f} diff_read_s={diff_s:.2f} "
        f"diff_vs_feed={diff_s / feed_s:.1f}"
    )
    rows = [
        ("table", f"{TABLE} ({args.rows:,} generated rows, {DAYS} date_received partitions)"),
        ("changes per run", f"{on[0]['changed']:,} rows ({args.change:.1%}: 90% updated, 8% new, 2% deleted)"),
        ("MERGE, change data feed on (median of the runs after a warm-up)", f"{merge_on:.2f} s"),
        ("MERGE, change data feed off", f"{merge_off:.2f} s"),
        (
            "data file bytes a MERGE writes, feed on / off",
            f"{median(on, 'bytes_added'):,.0f} / {median(off, 'bytes_added'):,.0f}",
        ),
        (
            "and with the feed on, change data files",
            f"{median(on, 'cdf_files'):.0f} files, {median(on, 'cdf_bytes'):,.0f} bytes",
        ),
        ("finding the changed keys from the feed", f"{feed_s:.2f} s"),
        ("finding them without it (diff of two versions)", f"{diff_s:.2f} s"),
    ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print()
    for label, value in rows:
        print(f"{label:<64} {value}")
    print(summary)
    if args.no_results:
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = [
        f"\n## {stamp}, change data feed (bench-cdf)\n",
        f"Machine: {machine()}; load average at the end {load}\n",
        f"`python -m bench.cdf --rows {args.rows} --change {args.change} --runs {args.runs}`\n",
        "| measure | result |",
        "|---|---|",
        *[f"| {label} | {value} |" for label, value in rows],
        "",
        "```",
        summary,
        "```",
        "",
    ]
    with (BENCH / "RESULTS.md").open("a") as results:
        results.write("\n".join(section))


if __name__ == "__main__":
    main()
