"""Delta table features: what a table's protocol holds, how it differs from catalog/, and aligning the two.

Which engines can read a table depends on its reader features: delta-rs (the `deltalake` package
behind Polars and pandas) refuses a table whose protocol lists `deletionVectors`. So features are
declared per table in catalog/ (`properties`), a job never changes them on an existing table, and
`lake table features` shows the difference and, with --apply, makes the table match.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lakekit.catalog.model import TableDef, sql_quote
from lakekit.core.storage import storage_for
from lakekit.sinks.delta_log import checksum, latest_version

# The property that turns each table feature on, for the features catalog/ may declare.
FEATURE_PROPERTIES = {
    "deletionVectors": "delta.enableDeletionVectors",
    "changeDataFeed": "delta.enableChangeDataFeed",
}
# The writer features a legacy protocol (writer version below 7) implies, by the version that brought them
# (column mapping, version 5, also needs reader version 2).
LEGACY_WRITER_FEATURES = {
    2: ("appendOnly", "invariants"),
    3: ("checkConstraints",),
    4: ("changeDataFeed", "generatedColumns"),
    6: ("identityColumns",),
}
# Reader features Delta 3.3 cannot drop in place (DELTA_FEATURE_DROP_NONREMOVABLE_FEATURE): dropping
# one means writing the table a new log.
REWRITE_TO_DROP = ("deletionVectors",)


@dataclass(frozen=True)
class TableDetail:
    """A Delta table's latest version as DESCRIBE DETAIL gives it."""

    files: int
    reader_version: int
    writer_version: int
    features: tuple[str, ...]
    properties: dict[str, str] = field(default_factory=dict)


def table_detail(spark, path: str) -> TableDetail:
    """From the latest version's checksum file when it lists the features (a table-features protocol, as every
    table here has), without a Spark query; else from DESCRIBE DETAIL."""
    from_log = _detail_from_log(path)
    return from_log if from_log is not None else detail_from_spark(spark, path)


def detail_from_spark(spark, path: str) -> TableDetail:
    """The table's detail as Spark's DESCRIBE DETAIL gives it (a SQL query on the table's snapshot)."""
    from delta.tables import DeltaTable

    row = DeltaTable.forPath(spark, path).detail().first()
    return TableDetail(
        files=row["numFiles"],
        reader_version=row["minReaderVersion"],
        writer_version=row["minWriterVersion"],
        features=tuple(sorted(row["tableFeatures"] or ())),
        properties=dict(row["properties"] or {}),
    )


def _detail_from_log(path: str) -> TableDetail | None:
    version = latest_version(path)
    state = checksum(path, version) if version is not None else None
    if state is None:
        return None
    protocol = state["protocol"]
    reader, writer = protocol["minReaderVersion"], protocol["minWriterVersion"]
    implied = set()
    if writer < 7:  # a legacy protocol: its versions imply its features, as DESCRIBE DETAIL spells them out
        implied = {f for version, names in LEGACY_WRITER_FEATURES.items() if writer >= version for f in names}
    # Column mapping is a reader and writer feature: implied by reader 2 with writer 5 or 6, or by reader 2 alone
    # when the writer lists its features.
    if reader == 2 and writer >= 5:
        implied.add("columnMapping")
    return TableDetail(
        files=state["numFiles"],
        reader_version=reader,
        writer_version=writer,
        features=tuple(sorted({*implied, *protocol.get("readerFeatures", ()), *protocol.get("writerFeatures", ())})),
        properties=dict(state["metadata"].get("configuration") or {}),
    )


def _declared(table: TableDef) -> dict[str, str]:
    return {k: str(v).lower() for k, v in table.properties.items() if k.startswith("delta.")}


def feature_drift(table: TableDef, detail: TableDetail) -> list[str]:
    """How the table differs from what catalog/ declares for it (empty: it matches)."""
    declared = _declared(table)
    found = []
    for key, value in sorted(declared.items()):
        actual = detail.properties.get(key, "").lower()
        if actual != value and not (value == "false" and actual == ""):
            found.append(f"{key} is {actual or 'unset'} on the table, {value} in catalog/")
    for feature in REWRITE_TO_DROP:
        if feature in detail.features and declared.get(FEATURE_PROPERTIES[feature]) != "true":
            found.append(f"the table's protocol has {feature}, which catalog/ does not enable")
    return found


def align_features(spark, table: TableDef, path: str, say: Callable[[str], None]) -> list[str]:
    """Make the table's properties and reader features what catalog/ declares; returns what was done.

    Properties are set with ALTER TABLE (enabling a feature upgrades the protocol). A reader feature
    Delta cannot drop in place is dropped by writing the table a new log over the same data files:
    the feature is switched off, its traces are purged (REORG ... APPLY (PURGE)), files no longer in
    the table are vacuumed, the old log is moved aside to `_delta_log.before-<time>`, and CONVERT TO
    DELTA makes version 0 of a new log from the files. The rows are unchanged; the table's history
    (time travel, change data feed) starts again at version 0.
    """
    done: list[str] = []
    detail = table_detail(spark, path)
    target = f"delta.`{path}`"
    declared = _declared(table)
    rewrite = [f for f in REWRITE_TO_DROP if f in detail.features and declared.get(FEATURE_PROPERTIES[f]) != "true"]
    if rewrite:
        done += _rewrite_log(spark, table, path, rewrite, say)
        detail = table_detail(spark, path)
    changes = {
        key: value
        for key, value in _declared(table).items()
        if detail.properties.get(key, "").lower() != value and not (value == "false" and key not in detail.properties)
    }
    if changes:
        assignments = ", ".join(f"{sql_quote(k)} = {sql_quote(v)}" for k, v in sorted(changes.items()))
        spark.sql(f"ALTER TABLE {target} SET TBLPROPERTIES ({assignments})")
        done.append(f"set {', '.join(f'{k}={v}' for k, v in sorted(changes.items()))}")
        say(done[-1])
    return done


def _rewrite_log(spark, table: TableDef, path: str, features: list[str], say: Callable[[str], None]) -> list[str]:
    target = f"delta.`{path}`"
    off = ", ".join(f"{sql_quote(FEATURE_PROPERTIES[f])} = 'false'" for f in features)
    spark.sql(f"ALTER TABLE {target} SET TBLPROPERTIES ({off})")
    spark.sql(f"REORG TABLE {target} APPLY (PURGE)")
    say(f"{', '.join(features)} switched off and purged")
    before = spark.read.format("delta").load(path).select(*table.column_names)
    expected = before.groupBy(*table.column_names).count().localCheckpoint()
    check = spark.conf.get("spark.databricks.delta.retentionDurationCheck.enabled", "true")
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        spark.sql(f"VACUUM {target} RETAIN 0 HOURS")
    finally:
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", check)
    storage = storage_for(path)
    aside = f"{path}/_delta_log.before-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    for file in storage.list_files(f"{path}/_delta_log") + _tree(storage, f"{path}/_delta_log"):
        storage.move(file, aside + file[len(f"{path}/_delta_log") :])
    storage.delete_tree(f"{path}/_delta_log")
    types = {f.name: f.dataType.simpleString() for f in table.schema.fields}
    partitioned = ", ".join(f"`{k}` {types[k].upper()}" for k in table.partition_keys)
    spark.sql(f"CONVERT TO DELTA parquet.`{path}`" + (f" PARTITIONED BY ({partitioned})" if partitioned else ""))
    after = spark.read.format("delta").load(path)
    if [(f.name, f.dataType.simpleString()) for f in after.schema.fields] != list(types.items()):
        raise RuntimeError(f"{table.qualified_name}: the new log's schema is not catalog/'s; the old log is in {aside}")
    counted = after.select(*table.column_names).groupBy(*table.column_names).count()
    if counted.exceptAll(expected).count() or expected.exceptAll(counted).count():
        raise RuntimeError(f"{table.qualified_name}: the new log holds other rows; the old log is in {aside}")
    for spark_field in table.schema.fields:
        comment = spark_field.metadata.get("comment")
        if comment:
            spark.sql(f"ALTER TABLE {target} ALTER COLUMN `{spark_field.name}` COMMENT {sql_quote(comment)}")
    message = f"new log written over the same files (history restarts at version 0; the old log is in {aside})"
    say(message)
    return [f"dropped {', '.join(features)}", message]


def _tree(storage, folder: str) -> list[str]:
    """Files in the subfolders of `folder` (a Delta log's _change_data-like folders), recursively."""
    found = []
    for sub in storage.list_dirs(folder):
        found += storage.list_files(sub) + _tree(storage, sub)
    return found
