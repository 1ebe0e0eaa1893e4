"""Delta tables of the curated layer: first load, MERGE of a change set, replace of partitions, compaction."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from lakekit.catalog.model import TableDef
from lakekit.core.failpoints import failpoint
from lakekit.core.session import session_conf
from lakekit.sinks.delta_log import checksum, latest_version
from transforms.changes import DELETE, UPSERT

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # a null partition value in a file path
# A change set or key set up to this many rows is broadcast to the join with the target table, so the
# target is not shuffled (a 1% run of the benchmark: 40k changes). Larger ones (a rebuild, a huge
# export) are left to Spark's own choice rather than pushed through the driver.
BROADCAST_MAX_ROWS = 500_000


# MERGE copies a source it cannot prove stable into executor memory first (a Spark job and a copy): the change
# set is already a local checkpoint, read twice by the MERGE from the same blocks, so it is not copied again.
MATERIALIZE_SOURCE = "spark.databricks.delta.merge.materializeSource"


def broadcast_if_small(df: DataFrame, rows: int) -> DataFrame:
    return F.broadcast(df) if rows <= BROADCAST_MAX_ROWS else df


@dataclass(frozen=True)
class MergeResult:
    deleted: int
    upserted: int
    version: int | None  # the table version the merge made, None when there was nothing to change


def read_version(spark, path: str, version: int | None, schema) -> DataFrame:
    if version is None:
        return spark.createDataFrame([], schema)
    return spark.read.format("delta").option("versionAsOf", version).load(path)


def changed_values(spark, path: str, after_version: int, up_to_version: int, column: str) -> DataFrame:
    """Distinct values of `column` in rows changed between two versions (Delta change data feed)."""
    changes_df = (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", after_version + 1)
        .option("endingVersion", up_to_version)
        .load(path)
    )
    return changes_df.select(column).distinct()


def is_empty(spark, path: str) -> bool:
    """Whether the Delta table at `path` holds no data file (just created, or every row deleted)."""
    from delta.tables import DeltaTable

    return DeltaTable.forPath(spark, path).detail().select("numFiles").first()[0] == 0


def load_into_empty(spark, table: TableDef, path: str, rows: DataFrame) -> MergeResult:
    """The first load of an empty table: append `rows` (no diff, no MERGE), one file per partition.

    Rows are hash-distributed by the partition columns first, so each partition is written by one
    task into one file instead of one small file per task.
    """
    counted = Observation(f"load {table.qualified_name}")
    rows = rows.select(*table.column_names).observe(counted, F.count(F.lit(1)).alias("rows"))
    if table.partition_keys:
        rows = rows.repartition(*table.partition_keys)
    failpoint("delta.before_first_load", table.qualified_name)
    rows.write.format("delta").mode("append").save(path)
    failpoint("delta.after_first_load", table.qualified_name)
    return MergeResult(0, counted.get["rows"], latest_version(path))


def files_per_partition(spark, table: TableDef, path: str) -> dict[tuple, int]:
    """Live data files of the table's latest version, counted by partition (values as text, None for null)."""
    counts: Counter = Counter()
    for file in spark.read.format("delta").load(path).inputFiles():
        values = []
        for key in table.partition_keys:
            found = re.search(rf"/{re.escape(key)}=([^/]*)/", file)
            value = unquote(found.group(1)) if found else None
            values.append(None if value == HIVE_NULL else value)
        counts[tuple(values)] += 1
    return dict(counts)


def compact(spark, table: TableDef, path: str) -> int:
    """OPTIMIZE (bin-packing, deletion vectors applied) the partitions holding `compact_min_files` files or more.

    Each incremental MERGE adds about one file to every partition it touches; this keeps the count
    bounded while leaving alone partitions that are still fine. Returns how many partitions it compacted.
    """
    if not table.compact_min_files:
        return 0
    version = latest_version(path)
    state = checksum(path, version) if version is not None else None
    if state is not None and state["numFiles"] < table.compact_min_files:
        return 0  # the version's checksum says so: no partition can hold that many files (no Spark query)
    crowded = [v for v, n in files_per_partition(spark, table, path).items() if n >= table.compact_min_files]
    if not crowded:
        return 0
    from delta.tables import DeltaTable

    optimize = DeltaTable.forPath(spark, path).optimize()
    if table.partition_keys:
        optimize = optimize.where(" OR ".join(_partition_predicate(table.partition_keys, v) for v in crowded))
    failpoint("delta.before_compaction", table.qualified_name)
    optimize.executeCompaction()
    failpoint("delta.after_compaction", table.qualified_name)
    return len(crowded)


def _partition_predicate(keys, values) -> str:
    terms = [f"`{k}` IS NULL" if v is None else f"`{k}` = {_literal(v)}" for k, v in zip(keys, values, strict=True)]
    return "(" + " AND ".join(terms) + ")"


def _literal(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def apply_changes(spark, table: TableDef, path: str, changes: DataFrame) -> MergeResult:
    """MERGE `changes` (rows with `_action` upsert/delete, from transforms.changes) into the table.

    The match is on the primary key and the partition columns, and the merge is limited to the
    partitions the changes touch, so only files holding changed rows are rewritten. Nothing to
    change: no merge, no new version.
    """
    from delta.tables import DeltaTable

    # Computed once, with its lineage cut: the counts below and the MERGE read the same rows, and the
    # MERGE plans over a plain scan of them instead of re-analysing the whole change computation.
    changes = changes.localCheckpoint()
    try:
        # One pass over the changes: how many of each action, and in which partitions.
        groups = changes.groupBy("_action", *table.partition_keys).count().collect()
        counts: Counter = Counter()
        for group in groups:
            counts[group["_action"]] += group["count"]
        if not counts:
            return MergeResult(0, 0, None)
        extra = [p for p in table.partition_keys if p not in table.primary_key]
        condition = " AND ".join(
            [f"t.`{c}` = s.`{c}`" for c in table.primary_key] + [f"t.`{c}` <=> s.`{c}`" for c in extra]
        )
        for partition in table.partition_keys:
            values = {g[partition] for g in groups}
            listed = ", ".join(_literal(v) for v in sorted(v for v in values if v is not None))
            pruning = f"t.`{partition}` IN ({listed})" if listed else "FALSE"
            if None in values:
                pruning = f"({pruning} OR t.`{partition}` IS NULL)"
            condition += f" AND {pruning}"
        columns = {c: f"s.`{c}`" for c in table.column_names}
        failpoint("delta.before_merge", table.qualified_name)
        with session_conf(spark, {MATERIALIZE_SOURCE: "none"}):
            (
                DeltaTable.forPath(spark, path)
                .alias("t")
                .merge(broadcast_if_small(changes, sum(counts.values())).alias("s"), condition)
                .whenMatchedDelete(condition=f"s._action = '{DELETE}'")
                .whenMatchedUpdate(condition=f"s._action = '{UPSERT}'", set=columns)
                .whenNotMatchedInsert(condition=f"s._action = '{UPSERT}'", values=columns)
                .execute()
            )
        failpoint("delta.after_merge", table.qualified_name)
    finally:
        changes.unpersist()
    return MergeResult(counts.get(DELETE, 0), counts.get(UPSERT, 0), latest_version(path))


def replace_partitions(
    spark, table: TableDef, lake_root: str, rows_df: DataFrame, column: str, values: list[str]
) -> None:
    """Replace exactly these partitions (`column` IN values, dates as YYYY-MM-DD) of a Delta table with `rows_df`.

    One atomic commit (Delta's replaceWhere): a partition that now has no rows is emptied too, every
    other partition's files are left alone.
    """
    replaced = f"`{column}` IN (" + ", ".join(f"DATE'{v}'" for v in values) + ")"
    failpoint("delta.before_replace", table.qualified_name)
    (
        rows_df.select(*table.column_names)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", replaced)
        .save(table.location_under(lake_root))
    )
    failpoint("delta.after_replace", table.qualified_name)


def read_changes(spark, path: str, after_version: int, up_to_version: int) -> DataFrame:
    """Every row change of versions (after_version, up_to_version] from the change data feed, with Delta's
    `_change_type` (insert, update_preimage, update_postimage, delete), `_commit_version` and `_commit_timestamp`."""
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", after_version + 1)
        .option("endingVersion", up_to_version)
        .load(path)
    )
