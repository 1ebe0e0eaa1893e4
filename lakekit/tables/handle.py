"""A catalog table as a job touches it: where it is, reading it, listing its raw files, writing it.

A pipeline says which table and what rows; the handle knows the location (the table's catalog entry
under the run's lake root), the format (Delta, or raw Parquet read with catalog/'s schema) and how a
curated write is done: registration, first load or MERGE by the table's key, compaction, the report
line. Like a Dagster IO manager or a dbt materialization, it names no table itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame

from lakekit.catalog.metastore import register
from lakekit.catalog.model import TableDef, load_table
from lakekit.core.job import JobRun
from lakekit.sinks.delta import MergeResult, apply_changes, compact, is_empty, load_into_empty
from lakekit.sinks.delta_features import feature_drift, table_detail
from lakekit.sinks.parquet import partition_files
from lakekit.sources.streams.raw import batch_files, unapplied_batches
from transforms.changes import build_changes

# (the table's rows being replaced, their new state) -> the change set a MERGE applies (transforms.changes).
Changes = Callable[[DataFrame, DataFrame], DataFrame]


@dataclass(frozen=True)
class NewBatches:
    """The micro-batches of a stream's raw table that a job has not applied yet, and their Parquet files."""

    after: int  # the last batch the job's bookmark says it applied (-1: none)
    last: int  # the last batch the streaming job wrote
    files: list[str]


class TableHandle:
    """One catalog table for one run. Creating it reads nothing: every request is made by the method asked."""

    def __init__(self, run: JobRun, table: TableDef | str):
        self.run = run
        self.table = load_table(table) if isinstance(table, str) else table
        self.path = self.table.location_under(run.settings.lake_root)
        self._registered = False
        self._empty: bool | None = None  # the emptiness test's answer, asked once until the next write

    @property
    def name(self) -> str:
        return self.table.qualified_name

    def register(self) -> TableHandle:
        """The table in the metastore (created at its location if it is not there yet); once per handle."""
        if not self._registered:
            register(self.run, self.table)
            self._registered = True
        return self

    def read(self, files: list[str] | None = None) -> DataFrame:
        """The table's rows: a Delta table's latest version; a Parquet table with catalog/'s schema, all of it
        (a filter on a partition column prunes the rest) or just these `files` (their partition columns kept)."""
        spark = self.run.spark
        if self.table.format == "delta":
            return spark.read.format("delta").load(self.path)
        reader = spark.read.schema(self.table.schema)
        if files is None:
            return reader.parquet(self.path)
        return reader.option("basePath", self.path).parquet(*files)

    def raw_files(self) -> dict[str, list[str]]:
        """{p_date: paths of the partition's Parquet files, sorted}, partitions without one left out."""
        return partition_files(self.run.settings.lake_root, self.table)

    def new_batches(self, job: str, stream: str) -> NewBatches | None:
        """The raw files of the micro-batches `job` wrote for `stream` after the run's bookmark (its `batch`),
        None when there is none: the stream's state, then (only if there is one) the lister above."""
        pending = unapplied_batches(self.run, job, stream)
        if pending is None:
            return None
        after, last = pending
        return NewBatches(after, last, batch_files(self.run.settings.lake_root, self.table, after, last))

    def is_empty(self) -> bool:
        """Whether the Delta table holds no data file (asked of Spark once; a write makes it ask again)."""
        if self._empty is None:
            self._empty = is_empty(self.run.spark, self.path)
        return self._empty

    def current(self) -> DataFrame | None:
        """The table's rows, None while it is empty (its first load appends, with nothing to compare)."""
        return None if self.is_empty() else self.read()

    def write(
        self,
        old_df: DataFrame | None,
        new_df: DataFrame,
        *,
        match_on: list[str] | None = None,
        changes: Changes | None = None,
        check_features: bool = False,
        note: str = "",
    ) -> MergeResult:
        """Make the rows `old_df` selected from the table (None: nothing, the table is empty) into `new_df`.

        An empty table gets a plain append; otherwise one MERGE of `changes(old_df, new_df)` (default: the
        diff on `match_on`, the primary key and partition keys). Then compaction of crowded partitions and
        one report line (with `note` in brackets). The emptiness test: with `check_features`, the Delta
        log's latest checksum (read anyway to warn of features that differ from catalog/); else Spark's
        DESCRIBE DETAIL, unless `is_empty()`/`current()` already asked it.
        """
        self.register()
        table, spark = self.table, self.run.spark
        if check_features:
            detail = table_detail(spark, self.path)
            for drift in feature_drift(table, detail):
                # Never changed by a job: features decide which engines can read the table.
                self.run.say(f"{self.name}: {drift}; `lake table features {self.name} --apply` aligns it")
            self._empty = detail.files == 0
        new_df = new_df.select(*table.column_names)
        if self.is_empty():
            result = load_into_empty(spark, table, self.path, new_df)
        else:
            if old_df is None:
                raise ValueError(f"{self.name} is not empty: the rows being replaced are needed for a MERGE")
            if changes is None:
                keys = match_on or list(dict.fromkeys([*table.primary_key, *table.partition_keys]))
                changes = lambda old, new: build_changes(old, new, keys)  # noqa: E731
            result = apply_changes(spark, table, self.path, changes(old_df.select(*table.column_names), new_df))
        self._empty = None
        if result.version is not None:
            compacted = compact(spark, table, self.path)
            if compacted:
                self.run.say(f"{self.name}: compacted {compacted} partition(s) of {table.compact_min_files}+ files")
        self.run.say(self._report(result) + (f" ({note})" if note and result.version is not None else ""))
        return result

    def _report(self, result: MergeResult) -> str:
        if result.version is None:
            return f"{self.name}: nothing changed, no new version"
        return (
            f"{self.name}: version {result.version}, {result.upserted} row(s) inserted or updated, "
            f"{result.deleted} deleted"
        )
