"""Raw layer for DynamoDB exports: decode each export's lines and append them, exactly once, to a Parquet table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from lakekit.catalog.metastore import register, register_partitions
from lakekit.catalog.model import TableDef
from lakekit.core.failpoints import failpoint
from lakekit.core.job import JobRun
from lakekit.core.state import StateStore
from lakekit.core.storage import storage_for
from lakekit.sinks.parquet import publish_staged
from lakekit.sources.dynamodb.exports import Export, discover
from lakekit.sources.text_lines import read_lines
from transforms.dynamodb import filter_good_records, with_decoded_export_records

WRITING, WRITTEN = "writing", "written"


class ExportLog:
    """The exports a raw job has written into its table (<lake_root>/_state/exports/<job>.json).

    Separate from the job's bookmark, which job-bookmark-pause and -disable leave alone: downstream
    jobs must see what the raw table holds. An export once written stays listed (a rewrite is identical).
    """

    def __init__(self, settings, job: str):
        self.store = StateStore(settings, "exports")
        self.job = job

    def load(self) -> dict[str, dict]:
        return self.store.load(self.job)

    def save(self, exports: dict[str, dict]) -> None:
        self.store.save(self.job, exports)

    def written(self) -> dict[str, dict]:
        return {e: meta for e, meta in self.load().items() if meta.get("status") == WRITTEN}


@dataclass(frozen=True)
class ExportResult:
    rows: int
    quarantined: int


def _with_export_metadata(decoded: DataFrame, export: Export, p_date: str, ingested_at: datetime) -> DataFrame:
    return decoded.withColumns(
        {
            "_export_id": F.lit(export.export_id),
            "_export_type": F.lit(export.export_type),
            "_export_time": F.lit(export.effective_time).cast("timestamp"),
            "_ingested_at": F.lit(ingested_at).cast("timestamp"),
            "p_date": F.lit(p_date).cast("date"),
        }
    )


def write_export(run: JobRun, table: TableDef, export: Export, p_date: str) -> ExportResult:
    """Decode one export into `table` (partition p_date) and its bad lines into the job's quarantine.

    One pass decodes and writes the good records, counting good and bad lines on the way (an
    observation, not a second job); only when there are bad lines is the export read again for them.
    """
    spark, settings = run.spark, run.settings
    storage = storage_for(settings.lake_root)
    lines_df = read_lines(spark, list(export.data_files))
    decoded_df = with_decoded_export_records(lines_df, table.schema, list(table.source["keys"]))
    decoded_df = _with_export_metadata(decoded_df, export, p_date, datetime.now(UTC))
    counts = Observation(f"export {export.export_id}")
    observed_df = decoded_df.observe(
        counts,
        F.count(F.when(F.col("_error").isNull(), 1)).alias("rows"),
        F.count(F.col("_error")).alias("quarantined"),
    )
    staging = settings.path("_staging", run.name, export.export_id)
    storage.delete_tree(staging)
    good_df = filter_good_records(observed_df, [c for c in table.column_names if c not in table.partition_keys])
    good_df.coalesce(max(1, len(export.data_files))).write.mode("overwrite").parquet(staging)
    result = ExportResult(**counts.get)
    publish_staged(storage, staging, f"{table.location_under(settings.lake_root)}/p_date={p_date}", export.export_id)
    quarantine = settings.path("quarantine", run.name, f"export_id={export.export_id}")
    if result.quarantined:
        bad_df = decoded_df.filter(F.col("_error").isNotNull()).select(
            F.col("_text").alias("text"),
            F.col("_source_file").alias("source_file"),
            F.col("_line_number").alias("line_number"),
            F.col("_error").alias("reason"),
            "_export_id",
            F.col("_ingested_at").alias("quarantined_at"),
        )
        bad_df.coalesce(1).write.mode("overwrite").json(quarantine)
    else:
        storage.delete_tree(quarantine)
    failpoint("raw.after_quarantine")
    return result


def _done_exports(run: JobRun, written: dict[str, dict]) -> set[str]:
    """Exports bookmarked and WRITTEN in the export log. One bookmarked but not WRITTEN was being rewritten
    (job-bookmark-disable or -pause) when that run died: it is processed again."""
    committed = run.position().get("exports", {})
    return {e for e in committed if written.get(e, {}).get("status") == WRITTEN}


def has_unwritten_exports(run: JobRun, table: TableDef) -> bool:
    """A raw export job's `has_work`: whether a complete export is not yet processed (one listing, no Spark).

    When there is nothing, it says so, and which folders it passed over (still being written, unreadable).
    """
    source_table = table.source["table"]
    done = _done_exports(run, ExportLog(run.settings, run.name).load())
    pending, notes = discover(run.settings, source_table, done)
    if not pending:
        for note in notes:
            run.say(note)
        run.say(f"nothing new for {source_table} ({len(done)} export(s) already processed)")
    return bool(pending)


def run_raw_export_job(run: JobRun, table: TableDef) -> None:
    """Append every complete export of the table's DynamoDB source not yet processed, oldest first.

    The table's `source.table` in catalog/ names the DynamoDB table; `source.keys` its key attributes.
    """
    source_table = table.source["table"]
    committed = dict(run.position().get("exports", {}))
    # What the raw table holds, whatever the bookmark option (curated jobs read it): each export's
    # ingestion date is fixed by its first attempt, so a rerun rewrites the same partition.
    log = ExportLog(run.settings, run.name)
    written = log.load()
    # Only exports not done are known, and not opened.
    done = _done_exports(run, written)
    pending, notes = discover(run.settings, source_table, done)
    for note in notes:
        run.say(note)
    if not pending:
        # Decided from one listing, the bookmark and the export log: Spark is never started for it.
        run.say(f"nothing new for {source_table} ({len(done)} export(s) already processed)")
        return
    register(run, table)
    quarantined = 0
    for number, export in enumerate(pending, 1):
        # Marked WRITING before the publish deletes or moves its first file, a rewrite of an export
        # already WRITTEN included: readers (sources/dynamodb/changes.py) skip it until it is WRITTEN.
        p_date = written.get(export.export_id, {}).get("p_date") or datetime.now(UTC).date().isoformat()
        written[export.export_id] = {**written.get(export.export_id, {}), "p_date": p_date, "status": WRITING}
        log.save(written)
        failpoint("raw.after_mark_writing")
        result = write_export(run, table, export, p_date)
        register_partitions(run, table, [{"p_date": p_date}])
        record = {**export.to_json(), "p_date": p_date, "rows": result.rows, "quarantined": result.quarantined}
        written[export.export_id] = {**record, "status": WRITTEN}
        log.save(written)
        failpoint("raw.after_mark_written")
        committed[export.export_id] = record
        run.advance({"exports": committed})
        quarantined += result.quarantined
        run.say(
            f"export {number}/{len(pending)} {export.export_id} ({export.export_type}, "
            f"{export.effective_time.isoformat()}): {result.rows} rows to {table.qualified_name} "
            f"p_date={p_date}, {result.quarantined} quarantined"
        )
    if quarantined:
        run.say(f"{quarantined} line(s) quarantined under {run.settings.path('quarantine', run.name)}")
