"""Delta tables of the curated layer: read at a version, read changes, apply a change set with one MERGE."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame

from lakekit.catalog import TableDef
from lakekit.failpoints import failpoint
from transforms.changes import DELETE, UPSERT


@dataclass(frozen=True)
class MergeResult:
    deleted: int
    upserted: int
    version: int | None  # the table version the merge made, None when there was nothing to change


def latest_version(spark, path: str) -> int | None:
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return DeltaTable.forPath(spark, path).history(1).select("version").first()["version"]


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


def _literal(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def apply_changes(spark, table: TableDef, path: str, changes: DataFrame) -> MergeResult:
    """MERGE `changes` (rows with `_action` upsert/delete, from transforms.changes) into the table.

    The match is on the primary key and the partition columns, and the merge is limited to the
    partitions the changes touch, so only files holding changed rows are rewritten. Nothing to
    change: no merge, no new version.
    """
    from delta.tables import DeltaTable

    changes = changes.persist()
    try:
        counts = {r["_action"]: r["count"] for r in changes.groupBy("_action").count().collect()}
        if not counts:
            return MergeResult(0, 0, None)
        extra = [p for p in table.partition_keys if p not in table.primary_key]
        condition = " AND ".join(
            [f"t.`{c}` = s.`{c}`" for c in table.primary_key] + [f"t.`{c}` <=> s.`{c}`" for c in extra]
        )
        for partition in table.partition_keys:
            values = [r[0] for r in changes.select(partition).distinct().collect()]
            listed = ", ".join(_literal(v) for v in values if v is not None)
            pruning = f"t.`{partition}` IN ({listed})" if listed else "FALSE"
            if any(v is None for v in values):
                pruning = f"({pruning} OR t.`{partition}` IS NULL)"
            condition += f" AND {pruning}"
        columns = {c: f"s.`{c}`" for c in table.column_names}
        failpoint("curated.before_merge")
        (
            DeltaTable.forPath(spark, path)
            .alias("t")
            .merge(changes.alias("s"), condition)
            .whenMatchedDelete(condition=f"s._action = '{DELETE}'")
            .whenMatchedUpdate(condition=f"s._action = '{UPSERT}'", set=columns)
            .whenNotMatchedInsert(condition=f"s._action = '{UPSERT}'", values=columns)
            .execute()
        )
        failpoint("curated.after_merge")
    finally:
        changes.unpersist()
    return MergeResult(counts.get(DELETE, 0), counts.get(UPSERT, 0), latest_version(spark, path))
