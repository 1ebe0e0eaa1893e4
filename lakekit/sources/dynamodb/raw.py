"""Raw layer for DynamoDB exports: decode each export's lines and append them, exactly once, to a Parquet table."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from lakekit.catalog.metastore import register, register_partitions
from lakekit.catalog.model import TableDef
from lakekit.core.failpoints import failpoint
from lakekit.core.job import JobError, JobRun
from lakekit.core.state import StateStore
from lakekit.core.storage import storage_for
from lakekit.sinks.parquet import publish_staged
from lakekit.sources.dynamodb.exports import Export, ExportError, discover
from lakekit.sources.text_lines import read_counted_lines
from transforms.dynamodb import filter_good_records, with_decoded_export_records

WRITING, WRITTEN = "writing", "written"
# What Spark's file sources leave out: a zero-byte file (AWS writes one for each empty partition).
EMPTY_MD5 = base64.b64encode(hashlib.md5(b"").digest()).decode()


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


def _file_key(location: str) -> str:
    """A file's location without scheme or URI quoting: how ours (a path, s3://...) and Spark's names for the
    same file (file:/..., file:///..., s3a://..., quoted) compare."""
    parts = urlsplit(location)
    return unquote(parts.netloc + parts.path).lstrip("/")


def _stored_md5s(spark, export: Export) -> dict[str, str]:
    """base64 MD5 of each non-empty data file's stored bytes, computed where Spark reads them: one read of
    each file's compressed bytes by the executors (a file is one row of the binaryFile source, up to 2 GB),
    the same on a local disk and S3; only the digests reach the driver."""
    if not export.files:
        return {}
    digests_df = (
        spark.read.format("binaryFile")
        .load(list(export.data_files))
        .select("path", F.base64(F.unhex(F.md5("content"))).alias("md5"))
    )
    return {_file_key(row["path"]): row["md5"] for row in digests_df.collect()}


def read_verified_lines(spark, export: Export) -> DataFrame:
    """The lines of the export's data files (read_counted_lines), once each file's stored bytes match its
    md5Checksum in manifest-files.json and its lines its itemCount; ExportError (naming the export, the
    file and the mismatch) otherwise.

    The line counts come from the pass that numbers the lines anyway; the MD5s cost one more read of the
    compressed bytes, no decompression.
    """
    where = f"export {export.export_id}"
    md5s = _stored_md5s(spark, export)
    for data_file in export.files:
        stored = md5s.get(_file_key(data_file.path), EMPTY_MD5)
        if stored != data_file.md5:
            raise ExportError(
                f"{where}: data file {data_file.key}: md5Checksum in manifest-files.json is {data_file.md5}, "
                f"its stored bytes give {stored}"
            )
    lines_df, counts = read_counted_lines(spark, list(export.data_files))
    lines = {_file_key(file): count for file, count in counts.items()}
    for data_file in export.files:
        read = lines.get(_file_key(data_file.path), 0)
        if read != data_file.item_count:
            raise ExportError(
                f"{where}: data file {data_file.key}: itemCount in manifest-files.json is {data_file.item_count}, "
                f"{read} line(s) read from it"
            )
    return lines_df


def write_export(run: JobRun, table: TableDef, export: Export, p_date: str, lines_df: DataFrame) -> ExportResult:
    """Decode one export's lines (read_verified_lines) into `table` (partition p_date) and its bad lines
    into the job's quarantine.

    One pass decodes and writes the good records, counting good and bad lines on the way (an
    observation, not a second job); only when there are bad lines is the export read again for them.
    """
    settings = run.settings
    storage = storage_for(settings.lake_root)
    decoded_df = with_decoded_export_records(lines_df, table.schema, list(table.source["keys"]))
    decoded_df = _with_export_metadata(decoded_df, export, p_date, datetime.now(UTC))
    counts = Observation(f"export {export.export_id}")
    observed_df = decoded_df.observe(
        counts,
        F.count(F.when(F.col("_error").isNull(), 1)).alias("rows"),
        F.count(F.col("_error")).alias("quarantined"),
    )
    staging = settings.path("_staging", run.state_name, export.export_id)
    storage.delete_tree(staging)
    good_df = filter_good_records(observed_df, [c for c in table.column_names if c not in table.partition_keys])
    good_df.coalesce(max(1, len(export.data_files))).write.mode("overwrite").parquet(staging)
    result = ExportResult(**counts.get)
    publish_staged(storage, staging, f"{table.location_under(settings.lake_root)}/p_date={p_date}", export.export_id)
    quarantine = settings.path("quarantine", run.state_name, f"export_id={export.export_id}")
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


def _discover(run: JobRun, source_table: str, done: set[str]) -> tuple[list[Export], list[str]]:
    try:
        return discover(run.settings, source_table, done)
    except ExportError as error:
        # Loud: the exports after it cannot be applied before it, and a green run would hide it.
        raise JobError(f"{error}; nothing applied by this run, the next run tries again") from None


def has_unwritten_exports(run: JobRun, table: TableDef) -> bool:
    """A raw export job's `has_work`: whether a complete export is not yet processed (one listing, no Spark).

    When there is nothing, it says so, and which folders it passed over (still being written, unreadable).
    """
    source_table = table.source["table"]
    done = _done_exports(run, ExportLog(run.settings, run.state_name).load())
    pending, notes = _discover(run, source_table, done)
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
    log = ExportLog(run.settings, run.state_name)
    written = log.load()
    # Only exports not done are known, and not opened.
    done = _done_exports(run, written)
    pending, notes = _discover(run, source_table, done)
    for note in notes:
        run.say(note)
    if not pending:
        # Decided from one listing, the bookmark and the export log: Spark is never started for it.
        run.say(f"nothing new for {source_table} ({len(done)} export(s) already processed)")
        return
    register(run, table)
    quarantined = 0
    for number, export in enumerate(pending, 1):
        try:
            lines_df = read_verified_lines(run.spark, export)
        except ExportError as error:
            # Before the export log or the table is touched: the export stays unrecorded and is retried.
            raise JobError(
                f"{error}; neither it nor the {len(pending) - number} export(s) after it applied, "
                "the next run tries again"
            ) from None
        # Marked WRITING before the publish deletes or moves its first file, a rewrite of an export
        # already WRITTEN included: readers (sources/dynamodb/changes.py) skip it until it is WRITTEN.
        p_date = written.get(export.export_id, {}).get("p_date") or datetime.now(UTC).date().isoformat()
        written[export.export_id] = {**written.get(export.export_id, {}), "p_date": p_date, "status": WRITING}
        log.save(written)
        failpoint("raw.after_mark_writing")
        result = write_export(run, table, export, p_date, lines_df)
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
