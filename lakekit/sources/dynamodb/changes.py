"""Which item images a curated job must (re)apply, from the raw exports committed since its bookmark.

Exports of a table apply in time order whatever order they landed in. The state of an item is its
image in the latest full export, overridden by its last change in the incremental exports after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakekit.catalog.model import TableDef
from lakekit.core.job import JobRun
from lakekit.core.storage import storage_for
from lakekit.sources.dynamodb.exports import FULL, export_order_key
from lakekit.sources.dynamodb.raw import ExportLog
from transforms.dynamodb import filter_latest_image


@dataclass
class SourceChanges:
    """The latest event of every affected item (DELETE rows included) and the bookmark after applying them."""

    table: TableDef
    images: DataFrame
    reset: bool  # True: `images` covers every item of the table; rows of items absent from it are gone
    applied: list[str]
    new: list[str]

    @property
    def current_items(self) -> DataFrame:
        return self.images.filter(F.col("_op") != "DELETE")


def committed_exports(run: JobRun, raw_job: str) -> dict[str, dict]:
    """Exports the raw job has written into its table (whatever bookmark option either job runs with)."""
    return ExportLog(run.settings, raw_job).written()


def has_new_exports(run: JobRun, raw_job: str, applied: list[str]) -> bool:
    """Whether the raw job has written an export not in `applied`: two small reads, no Spark, no listing."""
    return bool(set(committed_exports(run, raw_job)) - set(applied))


def export_files(run: JobRun, table: TableDef, exports: dict[str, dict], export_ids: list[str]) -> list[str]:
    """The Parquet files of these exports in the raw table (named <export_id>-NNNNN by the raw job)."""
    storage = storage_for(run.settings.lake_root)
    root = table.location_under(run.settings.lake_root)
    files = []
    for p_date in sorted({exports[e]["p_date"] for e in export_ids}):
        wanted = tuple(f"{e}-" for e in export_ids if exports[e]["p_date"] == p_date)
        files += [f for f in storage.list_files(f"{root}/p_date={p_date}") if f.rsplit("/", 1)[-1].startswith(wanted)]
    return files


def read_events(
    run: JobRun, table: TableDef, exports: dict[str, dict], export_ids: list[str], order: dict[str, int]
) -> DataFrame:
    """Raw rows of these exports (only their files are read), with the export's place in time order."""
    files = export_files(run, table, exports, export_ids)
    if files:
        root = table.location_under(run.settings.lake_root)
        raw_df = run.spark.read.schema(table.schema).option("basePath", root).parquet(*files)
    else:  # exports with no good record
        raw_df = run.spark.createDataFrame([], table.schema)
    sequence_df = run.spark.createDataFrame([(e, order[e]) for e in export_ids], "_export_id string, _export_seq int")
    return raw_df.join(F.broadcast(sequence_df), "_export_id")


def changes_since(run: JobRun, table: TableDef, raw_job: str, applied: list[str]) -> SourceChanges | None:
    """What the raw exports not yet applied change, or None when there is nothing new.

    A new latest full export, job-bookmark-disable or rebuild=true resets: every item is recomputed
    from the latest full export and the incrementals after it. Otherwise only the items the new
    exports touch are; when a new export is older than one already applied (it landed late), those
    items are resolved against the whole history since the latest full export.
    """
    exports = committed_exports(run, raw_job)
    ordered = sorted(exports, key=lambda e: export_order_key(e, exports[e]))
    order = {e: i for i, e in enumerate(ordered)}
    done = set() if run.reprocess_all else set(applied) & set(ordered)
    new = [e for e in ordered if e not in done]
    if not new:
        return None
    fulls = [e for e in ordered if exports[e]["export_type"] == FULL]
    latest_full = fulls[-1] if fulls else None
    since_full = [e for e in ordered if latest_full is None or order[e] > order[latest_full]]
    history = ([latest_full] if latest_full else []) + since_full
    keys = table.source_key_columns
    recency = [F.col("_export_seq").desc(), F.col("_write_ts").desc_nulls_last(), F.col("_line_number").desc()]
    reset = run.reprocess_all or latest_full in new
    if reset:
        events_df = read_events(run, table, exports, history, order)
    else:
        relevant = [e for e in new if e in since_full]
        if not relevant:  # only exports older than the latest full one: superseded by it
            empty = run.spark.createDataFrame([], table.schema).withColumn("_export_seq", F.lit(0))
            return SourceChanges(table, empty, False, ordered, new)
        in_order = not done or min(order[e] for e in relevant) > max(order[e] for e in done)
        events_df = read_events(run, table, exports, relevant, order)
        if not in_order:  # the touched items' whole history since the latest full export
            touched_df = events_df.select(*keys).distinct()
            events_df = read_events(run, table, exports, history, order).join(touched_df, keys, "left_semi")
    images_df = filter_latest_image(events_df, keys, recency)
    return SourceChanges(table, images_df, reset, ordered, new)
