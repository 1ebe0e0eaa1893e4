"""An event stream landed as files -> its raw table, exactly once: Structured Streaming over the landing prefix.

A file source over landing/streams/<stream>/YYYY/MM/DD/HH/ (Firehose's layout, or `lake serve`'s),
trigger(availableNow=True), checkpoint under _state/. Spark records each micro-batch's files before it
runs the batch and marks it committed after; a batch interrupted anywhere runs again with the same
files, and its Parquet files are published under names derived from the batch id, replacing whatever
the interrupted attempt left. Lines that are not a stored event go to quarantine/<job>/.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakekit.catalog.metastore import register, register_partitions
from lakekit.catalog.model import TableDef, load_table
from lakekit.catalog.streams import StreamDef
from lakekit.core.failpoints import failpoint
from lakekit.core.job import JobError, JobRun
from lakekit.core.state import StateStore
from lakekit.core.storage import storage_for
from lakekit.sinks.parquet import partition_files, publish_staged
from lakekit.sources.streams.landing import SUFFIX

STATE_KIND = "streams"  # _state/streams/<job>-<stream>.json: the last batch written, for downstream jobs
# The envelope the ingest service stores around each event (lakekit.serve.app.envelope).
ENVELOPE = {
    "record_id": "_record_id",
    "received_at": "_received_at",
    "partition_key": "_partition_key",
    "stream_name": "_stream_name",
}


def batch_prefix(batch_id: int) -> str:
    return f"batch-{batch_id:09d}"


def batch_of(file_name: str) -> int | None:
    """The micro-batch a raw file was written by (its name starts with batch_prefix), else None."""
    if not file_name.startswith("batch-"):
        return None
    number = file_name[len("batch-") :].split("-", 1)[0]
    return int(number) if number.isdigit() else None


def state_name(job: str, stream: str) -> str:
    return f"{job}-{stream}"


def written_batches(settings, job: str, stream: str) -> int | None:
    """The last micro-batch whose rows are all published in the raw table (None: none yet)."""
    return StateStore(settings, STATE_KIND).load(state_name(job, stream)).get("last_batch")


def unapplied_batches(run: JobRun, job: str, stream: str) -> tuple[int, int] | None:
    """(last applied, last written) micro-batch of `stream`'s raw table for a job that applies them in order
    (its bookmark's `batch`), or None when every written batch is applied: from the lake's state, no Spark."""
    last = written_batches(run.settings, job, stream)
    done = run.position().get("batch", -1)
    return (done, last) if last is not None and last > done else None


def batch_files(lake_root: str, table: TableDef, after_batch: int, up_to_batch: int) -> list[str]:
    """The raw table's Parquet files written by micro-batches after `after_batch`, up to `up_to_batch`."""
    return sorted(
        path
        for paths in partition_files(lake_root, table).values()
        for path in paths
        if (batch := batch_of(path.rsplit("/", 1)[-1])) is not None and after_batch < batch <= up_to_batch
    )


def envelope_schema(table: TableDef) -> T.StructType:
    fields = [T.StructField(name, table.schema[column].dataType) for name, column in ENVELOPE.items()]
    fields.append(T.StructField("data", table.record_schema))
    fields.append(T.StructField("_corrupt", T.StringType()))
    return T.StructType(fields)


def decode_lines(files_df: DataFrame, table: TableDef) -> DataFrame:
    """Whole landed files (`value`, `_path`) -> one row per line: the envelope decoded, or `_error`."""
    lines_df = files_df.select(
        F.regexp_extract("_path", r".*/(landing/.*)$", 1).alias("_source_file"),
        F.posexplode(F.split("value", "\n")).alias("_position", "_text"),
    ).filter(F.trim("_text") != "")
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt"}
    decoded_df = lines_df.withColumn("_envelope", F.from_json("_text", envelope_schema(table), options))
    error = (
        F.when(
            F.col("_envelope").isNull() | F.col("_envelope._corrupt").isNotNull(),
            "not JSON, or a field of the wrong type",
        )
        .when(F.col("_envelope.record_id").isNull(), "no record_id")
        .when(F.col("_envelope.received_at").isNull(), "no received_at")
        .when(F.col("_envelope.data").isNull(), "no data (the event)")
    )
    return decoded_df.select(
        "_text",
        "_source_file",
        (F.col("_position") + 1).cast("int").alias("_line_number"),
        "_envelope",
        error.alias("_error"),
    )


def raw_rows(decoded_df: DataFrame, table: TableDef, batch_id: int, ingested_at: datetime) -> DataFrame:
    event_columns = [f.name for f in table.record_schema.fields]
    values = {name: F.col(f"_envelope.data.{name}") for name in event_columns}
    values.update({column: F.col(f"_envelope.{name}") for name, column in ENVELOPE.items()})
    values["_event_hash"] = F.sha2(F.to_json(F.col("_envelope.data")), 256)
    values["_source_file"] = F.col("_source_file")
    values["_line_number"] = F.col("_line_number")
    values["_batch_id"] = F.lit(batch_id).cast("bigint")
    values["_ingested_at"] = F.lit(ingested_at).cast("timestamp")
    values["p_date"] = F.to_date("_envelope.received_at")
    good_df = decoded_df.filter(F.col("_error").isNull())
    return good_df.select(*[values[c].alias(c) for c in table.column_names])


def write_batch(run: JobRun, table: TableDef, stream: StreamDef, files_df: DataFrame, batch_id: int) -> None:
    """One micro-batch into the raw table (published under its batch id) and its bad lines into quarantine."""
    settings, storage = run.settings, storage_for(run.settings.lake_root)
    ingested_at = datetime.now(UTC)
    decoded_df = decode_lines(files_df, table).persist()
    try:
        prefix = batch_prefix(batch_id)
        staging = settings.path("_staging", run.state_name, stream.name, prefix)
        storage.delete_tree(staging)
        rows_df = raw_rows(decoded_df, table, batch_id, ingested_at)
        rows_df.repartition("p_date").write.partitionBy("p_date").parquet(staging)
        p_dates = sorted(d.rsplit("=", 1)[1] for d in storage.list_dirs(staging) if "/p_date=" in d)
        failpoint("stream.before_publish")
        for p_date in p_dates:
            partition_dir = f"{table.location_under(settings.lake_root)}/p_date={p_date}"
            publish_staged(storage, f"{staging}/p_date={p_date}", partition_dir, prefix)
        storage.delete_tree(staging)
        failpoint(f"stream.after_publish.batch={batch_id}")  # rows published, the batch not yet committed
        register_partitions(run, table, [{"p_date": d} for d in p_dates])
        bad_df = decoded_df.filter(F.col("_error").isNotNull())
        quarantine = settings.path("quarantine", run.state_name, f"stream={stream.name}", f"batch={batch_id}")
        bad = bad_df.count()
        if bad:
            bad_df.select(
                F.col("_text").alias("text"),
                F.col("_source_file").alias("source_file"),
                F.col("_line_number").alias("line_number"),
                F.col("_error").alias("reason"),
                F.lit(ingested_at).cast("timestamp").alias("quarantined_at"),
            ).coalesce(1).write.mode("overwrite").json(quarantine)
        failpoint("stream.before_commit")
        StateStore(settings, STATE_KIND).save(
            state_name(run.state_name, stream.name), {"last_batch": batch_id, "at": ingested_at.isoformat()}
        )
        failpoint("stream.after_commit")  # downstream jobs see the batch; Spark's own commit log not yet written
        files = decoded_df.select("_source_file").distinct().count()
        run.say(
            f"batch {batch_id}: {files} file(s), p_date {', '.join(p_dates) or '-'}"
            + (f", {bad} line(s) quarantined under {quarantine}" if bad else "")
        )
    finally:
        decoded_df.unpersist()


def run_stream_to_raw(run: JobRun, stream: StreamDef, max_files_per_batch: int | None = None) -> None:
    """Every landed file of the stream not yet in its raw table, in micro-batches, then stop (availableNow)."""
    if run.reprocess_all:
        checkpoint = run.settings.path("_state", "checkpoints", run.state_name, stream.name)
        raise JobError(
            f"{run.name} keeps its position in its Spark checkpoint, not a bookmark: to load everything again, "
            f"remove {checkpoint} and the raw table's files"
        )
    table = load_table(stream.raw_table)
    if table.partition_keys != ("p_date",):
        raise JobError(f"{table.qualified_name} must be partitioned by p_date (the day of receipt)")
    register(run, table)
    landing = run.settings.path("landing", "streams", stream.name)
    checkpoint = run.settings.path("_state", "checkpoints", run.state_name, stream.name)
    reader = run.spark.readStream.format("text").option("wholetext", "true").option("pathGlobFilter", f"*{SUFFIX}")
    if max_files_per_batch:
        reader = reader.option("maxFilesPerTrigger", max_files_per_batch)
    # Spark skips folders starting with _ (the service's _open/): only published files are read.
    files_df = reader.load(f"{landing}/*/*/*/*").withColumn("_path", F.input_file_name())
    before = written_batches(run.settings, run.state_name, stream.name)
    query = (
        files_df.writeStream.foreachBatch(
            lambda batch_df, batch_id: write_batch(run, table, stream, batch_df, batch_id)
        )
        .option("checkpointLocation", checkpoint)
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    after = written_batches(run.settings, run.state_name, stream.name)
    if after == before:
        run.say(f"nothing new under {landing}")
    else:
        run.say(f"{table.qualified_name}: batches {0 if before is None else before + 1}..{after} written")
