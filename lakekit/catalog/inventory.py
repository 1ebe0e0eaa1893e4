"""`lake table list`: every table of a lake with its layer, format, partitions, row count and last update."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lakekit.catalog.metastore import has_data
from lakekit.catalog.model import all_tables
from lakekit.core.settings import Settings


@dataclass(frozen=True)
class TableInfo:
    name: str
    layer: str
    format: str
    partition_keys: tuple[str, ...]
    partitions: int | None  # None: not written, or not partitioned
    rows: int | None  # None: not written
    last_update: datetime | None  # UTC
    source: str  # "catalog/" or "crawled"

    def as_row(self) -> dict[str, object]:
        """For printing: partitions as "key (count)", the time in UTC to the second."""
        if not self.partition_keys:
            partitions = "-"
        else:
            count = f" ({self.partitions})" if self.partitions is not None else ""
            partitions = ", ".join(self.partition_keys) + count
        return {
            "table": self.name,
            "layer": self.layer,
            "format": self.format,
            "partitions": partitions,
            "rows": self.rows,
            "last_update_utc": self.last_update.strftime("%Y-%m-%d %H:%M:%S") if self.last_update else None,
            "defined_in": self.source,
        }


def _last_modified(spark, location: str, fmt: str) -> datetime | None:
    """The newest data file's time (for Delta, its last commit), through Hadoop's file system: local or S3."""
    if fmt == "delta":
        from pyspark.sql import functions as F

        detail = spark.sql(f"DESCRIBE DETAIL delta.`{location}`").select(F.col("lastModified").cast("long")).first()
        return datetime.fromtimestamp(detail[0], UTC) if detail and detail[0] is not None else None
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(location)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(path):
        return None
    newest = None
    files = fs.listFiles(path, True)
    while files.hasNext():
        status = files.next()
        relative = status.getPath().toUri().getPath()[len(path.toUri().getPath()) :]
        if any(part.startswith(("_", ".")) for part in relative.split("/") if part):
            continue
        newest = max(newest or 0, status.getModificationTime())
    return datetime.fromtimestamp(newest / 1000, UTC) if newest is not None else None


def _stats(
    spark, df, location: str, fmt: str, partition_keys: tuple[str, ...]
) -> tuple[int, int | None, datetime | None]:
    rows = df.count()
    partitions = df.select(*partition_keys).distinct().count() if partition_keys else None
    return rows, partitions, _last_modified(spark, location, fmt)


def _under(location: str, root: str) -> bool:
    strip = lambda p: re.sub(r"^file:(//)?", "", p).rstrip("/")  # noqa: E731
    return strip(location).startswith(strip(root) + "/")


def _crawled(spark, settings: Settings, skip: set[str]) -> list[TableInfo]:
    """Tables in the metastore (made by `lake catalog crawl`) whose files are under this lake root."""
    from pyspark.errors import AnalysisException

    found = []
    for database in sorted(d.name for d in spark.catalog.listDatabases()):
        for table in sorted(spark.catalog.listTables(database), key=lambda t: t.name):
            name = f"{database}.{table.name}"
            if name in skip or table.isTemporary:
                continue
            try:
                described = spark.sql(f"DESCRIBE TABLE EXTENDED `{database}`.`{table.name}`").collect()
            except AnalysisException:
                continue  # an entry the metastore can no longer describe is not this lake's table
            details = {row[0]: row[1] for row in described}
            location = details.get("Location") or ""
            if not _under(location, settings.lake_root):
                continue
            keys = tuple(c.name for c in spark.catalog.listColumns(f"`{database}`.`{table.name}`") if c.isPartition)
            fmt = (details.get("Provider") or "hive").lower()
            rows, partitions, modified = _stats(spark, spark.table(name), location, fmt, keys)
            found.append(TableInfo(name, database, fmt, keys, partitions, rows, modified, "crawled"))
    return found


def describe_tables(spark, settings: Settings) -> list[TableInfo]:
    """catalog/ tables read from their files under the lake root, then crawled tables found in the metastore."""
    infos = []
    for table in all_tables():
        location = table.location_under(settings.lake_root)
        if not has_data(table, settings.lake_root):
            infos.append(
                TableInfo(
                    table.qualified_name, table.layer, table.format, table.partition_keys, None, None, None, "catalog/"
                )
            )
            continue
        if table.format == "delta":
            df = spark.read.format("delta").load(location)
        else:
            df = spark.read.schema(table.schema).option("basePath", location).parquet(location)
        rows, partitions, modified = _stats(spark, df, location, table.format, table.partition_keys)
        infos.append(
            TableInfo(
                table.qualified_name,
                table.layer,
                table.format,
                table.partition_keys,
                partitions,
                rows,
                modified,
                "catalog/",
            )
        )
    return infos + _crawled(spark, settings, {t.name for t in infos})
