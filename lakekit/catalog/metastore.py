"""Tables of catalog/ in the metastore Spark uses (embedded Derby locally, the Glue Data Catalog on Glue)."""

from __future__ import annotations

import re
from functools import cache

from lakekit.catalog.model import TableDef, all_tables
from lakekit.catalog.model import sql_quote as _quote
from lakekit.core.names import Names
from lakekit.core.storage import storage_for


def _column_ddl(table: TableDef) -> str:
    parts = []
    for spark_field in table.schema.fields:
        comment = spark_field.metadata.get("comment")
        ddl = f"`{spark_field.name}` {spark_field.dataType.simpleString()}"
        parts.append(ddl + (f" COMMENT {_quote(comment)}" if comment else ""))
    return ",\n  ".join(parts)


def _metastore(spark):
    """Spark's external catalog: asked directly, a question is a call, not a SQL statement to plan and run."""
    return spark._jsparkSession.sharedState().externalCatalog()


def registered_location(spark, database: str, name: str) -> str | None:
    """Where the metastore says table `database.name` is (a URI), or None if it has no such table.

    Asked of the metastore alone: DESCRIBE TABLE EXTENDED would load a Delta table's log to describe
    it (2.5 s on a cold JVM).
    """
    metastore = _metastore(spark)
    if not metastore.tableExists(database, name):
        return None
    return metastore.getTable(database, name).location().toString()


def same_location(registered: str | None, wanted: str) -> bool:
    if registered is None:
        return False
    strip = lambda p: re.sub(r"^file:(//)?", "", p).rstrip("/")  # noqa: E731
    return strip(registered) == strip(wanted)


def register_table(spark, table: TableDef, lake_root: str, names: Names | None = None) -> None:
    """Create (or re-point) the table in the metastore, at its location under this lake root, in the
    environment's database of its layer (`names`; default: the layer's own name)."""
    location = table.location_under(lake_root)
    database = (names or Names()).database(table.layer)
    if not _metastore(spark).databaseExists(database):  # asked first: a statement is a SQL execution each run
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    registered = registered_location(spark, database, table.name)
    if same_location(registered, location):
        return
    if registered is not None:
        # External table pointing at another lake root: dropping it leaves every file in place.
        spark.sql(f"DROP TABLE {database}.{table.name}")
    # An existing Delta table keeps its own properties (its features decide who can read it):
    # `lake table features` changes them, never a registration.
    existing_delta = table.format == "delta" and has_data(table, lake_root)
    spark.sql(f"CREATE TABLE {database}.{table.name} {_definition(table, location, keep_properties=existing_delta)}")


def _definition(table: TableDef, location: str | None = None, keep_properties: bool = False) -> str:
    """What follows CREATE TABLE <name>: columns, format, partitions, comment, location, properties
    (none with `keep_properties`: a table that exists keeps its own)."""
    partitioned = f"PARTITIONED BY ({', '.join(table.partition_keys)})" if table.partition_keys else ""
    properties = ", ".join(f"{_quote(k)} = {_quote(v)}" for k, v in table.properties.items())
    if keep_properties:
        properties = ""
    return (
        f"(\n  {_column_ddl(table)}\n) USING {table.format}\n{partitioned} COMMENT {_quote(table.description)}"
        + (f" LOCATION {_quote(location)}" if location else "")
        + (f" TBLPROPERTIES ({properties})" if properties else "")
    )


def add_partitions(spark, table: TableDef, values: list[dict[str, str]], names: Names | None = None) -> None:
    """Register Hive-style partitions of a Parquet table after a write (Delta needs none)."""
    if table.format != "parquet" or not values:
        return
    database = (names or Names()).database(table.layer)
    # Partitions already registered (a second export the same day, a rerun) need no ALTER TABLE.
    listed = _metastore(spark).listPartitionNames(database, table.name, spark._jvm.scala.Option.empty())
    known = {_partition_of(name) for name in listed.mkString("\n").splitlines() if name}
    values = [v for v in values if frozenset((k, str(x)) for k, x in v.items()) not in known]
    if not values:
        return
    specs = " ".join(
        "PARTITION (" + ", ".join(f"{k} = {_quote(str(v))}" for k, v in value.items()) + ")" for value in values
    )
    spark.sql(f"ALTER TABLE {database}.{table.name} ADD IF NOT EXISTS {specs}")


def _partition_of(name: str) -> frozenset[tuple[str, str]]:
    """A metastore partition name (`k=v/k2=v2`, values %-escaped as Hive does) as {(k, v), (k2, v2)}."""
    from urllib.parse import unquote

    return frozenset((unquote(k), unquote(v)) for k, _, v in (part.partition("=") for part in name.split("/")))


@cache
def _glue():
    from lakekit.catalog.glue import GlueCatalog

    return GlueCatalog()


def _glue_catalog(run):
    """The process's GlueCatalog when the run's metastore is the Glue Data Catalog (`metastore: glue`), else None."""
    return _glue() if run.settings.metastore == "glue" else None


def register(run, table: TableDef) -> None:
    """Register a table a job writes, in the run's metastore: the Glue Data Catalog through its API (one
    definition with `lake catalog ddl`, see lakekit/catalog/glue.py), else Spark's own metastore."""
    glue = _glue_catalog(run)
    if glue is None:
        register_table(run.spark, table, run.settings.lake_root, run.settings.names)
        return
    database = run.settings.names.database(table.layer)
    action = glue.register_table(table, run.settings.lake_root, database)
    if action != "unchanged":
        run.say(f"Glue Data Catalog: {database}.{table.name} {action}")
    if table.format == "delta" and not has_data(table, run.settings.lake_root):
        # What Spark's CREATE TABLE does locally: an empty Delta table, with the YAML's schema and properties.
        run.spark.sql(
            f"CREATE TABLE IF NOT EXISTS delta.`{table.location_under(run.settings.lake_root)}` {_definition(table)}"
        )


def register_partitions(run, table: TableDef, values: list[dict[str, str]]) -> None:
    """Partitions a job wrote into a Parquet table, in the run's metastore."""
    glue = _glue_catalog(run)
    if glue is None:
        add_partitions(run.spark, table, values, run.settings.names)
    else:
        glue.add_partitions(table, run.settings.lake_root, values, run.settings.names.database(table.layer))


def partition_dirs(location: str, keys: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    """The Hive-style partitions (`key=value/...`) found under a table's location, in the order of `keys`."""
    from urllib.parse import unquote

    storage = storage_for(location)
    found: list[dict[str, str]] = [{}]
    for key in keys:
        deeper = []
        for values in found:
            folder = "/".join([location.rstrip("/"), *(f"{k}={v}" for k, v in values.items())])
            for child in storage.list_dirs(folder):
                name, sep, value = child.rstrip("/").rsplit("/", 1)[-1].partition("=")
                if sep and name == key:
                    deeper.append({**values, key: unquote(value)})
        found = deeper
    return found if keys else []


def has_data(table: TableDef, lake_root: str) -> bool:
    """Whether a job has written the table under this lake root (a Delta log, or any file or partition)."""
    location = table.location_under(lake_root)
    storage = storage_for(location)
    if table.format == "delta":
        return bool(storage.list_files(f"{location}/_delta_log"))
    return bool(storage.list_files(location) or storage.list_dirs(location))


def register_existing_tables(
    spark, lake_root: str, layers: list[str] | None = None, names: Names | None = None
) -> list[TableDef]:
    """Register every catalog/ table written under this lake root, with its partitions; skip the others.

    A metastore that lost track of a lake (a new machine, a lake copied from elsewhere) gets it back.
    """
    registered = []
    for table in all_tables():
        if (layers and table.layer not in layers) or not has_data(table, lake_root):
            continue
        register_table(spark, table, lake_root, names)
        add_partitions(spark, table, partition_dirs(table.location_under(lake_root), table.partition_keys), names)
        registered.append(table)
    return registered
