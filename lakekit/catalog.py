"""catalog/*.yaml as objects: Spark schemas, DDL, and registration in the metastore (Derby or Glue)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

_PRIMITIVES = {
    "string": "StringType",
    "boolean": "BooleanType",
    "bigint": "LongType",
    "int": "IntegerType",
    "double": "DoubleType",
    "date": "DateType",
    "timestamp": "TimestampType",
    "binary": "BinaryType",
}


class CatalogError(ValueError):
    """A table definition is missing or malformed."""


def _spark_type(spec: dict[str, Any]):
    from pyspark.sql import types as T

    kind = spec["type"].replace(" ", "")
    if kind in _PRIMITIVES:
        return getattr(T, _PRIMITIVES[kind])()
    decimal = re.fullmatch(r"decimal\((\d+),(\d+)\)", kind)
    if decimal:
        return T.DecimalType(int(decimal.group(1)), int(decimal.group(2)))
    if kind == "struct":
        return T.StructType([_field(f) for f in spec["fields"]])
    if kind == "array<struct>":
        return T.ArrayType(T.StructType([_field(f) for f in spec["fields"]]))
    element = re.fullmatch(r"array<(.+)>", kind)
    if element:
        return T.ArrayType(_spark_type({"type": element.group(1)}))
    raise CatalogError(f"unknown column type {spec['type']!r}")


def _field(spec: dict[str, Any]):
    from pyspark.sql import types as T

    metadata = {k: spec[k] for k in ("source", "comment") if spec.get(k)}
    return T.StructField(spec["name"], _spark_type(spec), True, metadata)


@dataclass(frozen=True)
class TableDef:
    layer: str
    name: str
    description: str
    format: str
    location: str
    columns: tuple[dict[str, Any], ...]
    partition_keys: tuple[str, ...] = ()
    primary_key: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    compact_min_files: int | None = None  # Delta: compact a partition after a write once it holds this many files

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def schema(self):
        """The table's Spark schema; each field carries its `source` attribute and comment as metadata."""
        from pyspark.sql import types as T

        return T.StructType([_field(c) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c["name"] for c in self.columns]

    @property
    def source_key_columns(self) -> list[str]:
        """The columns that carry the source's key attributes (for DynamoDB, the item key)."""
        by_source = {c.get("source"): c["name"] for c in self.columns}
        return [by_source[k] for k in self.source.get("keys", [])]

    def location_under(self, lake_root: str) -> str:
        return f"{lake_root.rstrip('/')}/{self.location}"


@cache
def load_table(qualified_name: str) -> TableDef:
    """The definition of `layer.name` from catalog/<layer>/<name>.yaml."""
    layer, _, name = qualified_name.partition(".")
    resource = resources.files("catalog").joinpath(layer, f"{name}.yaml")
    if not resource.is_file():
        raise CatalogError(f"table {qualified_name} is not defined: no catalog/{layer}/{name}.yaml")
    spec = yaml.safe_load(resource.read_text())
    if (spec.get("layer"), spec.get("name")) != (layer, name):
        raise CatalogError(f"catalog/{layer}/{name}.yaml declares {spec.get('layer')}.{spec.get('name')}")
    return TableDef(
        layer=layer,
        name=name,
        description=" ".join(str(spec.get("description", "")).split()),
        format=spec["format"],
        location=spec["location"],
        columns=tuple(spec["columns"]),
        partition_keys=tuple(spec.get("partition_keys") or ()),
        primary_key=tuple(spec.get("primary_key") or ()),
        properties=dict(spec.get("properties") or {}),
        source=dict(spec.get("source") or {}),
        compact_min_files=spec.get("compact_min_files"),
    )


def all_tables() -> list[TableDef]:
    root = resources.files("catalog")
    names = []
    for layer in sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")):
        for item in sorted(root.joinpath(layer).iterdir(), key=lambda p: p.name):
            if item.name.endswith(".yaml"):
                names.append(f"{layer}.{item.name[:-5]}")
    return [load_table(n) for n in names]


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _column_ddl(table: TableDef) -> str:
    parts = []
    for spark_field in table.schema.fields:
        comment = spark_field.metadata.get("comment")
        ddl = f"`{spark_field.name}` {spark_field.dataType.simpleString()}"
        parts.append(ddl + (f" COMMENT {_quote(comment)}" if comment else ""))
    return ",\n  ".join(parts)


def registered_location(spark, database: str, name: str) -> str | None:
    """Where the metastore says table `database.name` is (a URI), or None if it has no such table.

    Asked of the metastore alone: DESCRIBE TABLE EXTENDED would load a Delta table's log to describe
    it (2.5 s on a cold JVM).
    """
    metastore = spark._jsparkSession.sharedState().externalCatalog()
    if not metastore.tableExists(database, name):
        return None
    return metastore.getTable(database, name).location().toString()


def same_location(registered: str | None, wanted: str) -> bool:
    if registered is None:
        return False
    strip = lambda p: re.sub(r"^file:(//)?", "", p).rstrip("/")  # noqa: E731
    return strip(registered) == strip(wanted)


def register_table(spark, table: TableDef, lake_root: str) -> None:
    """Create (or re-point) the table in the metastore, at its location under this lake root."""
    location = table.location_under(lake_root)
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {table.layer}")
    registered = registered_location(spark, table.layer, table.name)
    if same_location(registered, location):
        return
    if registered is not None:
        # External table pointing at another lake root: dropping it leaves every file in place.
        spark.sql(f"DROP TABLE {table.qualified_name}")
    partitioned = f"PARTITIONED BY ({', '.join(table.partition_keys)})" if table.partition_keys else ""
    properties = ", ".join(f"{_quote(k)} = {_quote(v)}" for k, v in table.properties.items())
    spark.sql(
        f"CREATE TABLE {table.qualified_name} (\n  {_column_ddl(table)}\n) USING {table.format}\n"
        f"{partitioned} COMMENT {_quote(table.description)} LOCATION {_quote(location)}"
        + (f" TBLPROPERTIES ({properties})" if properties else "")
    )


def add_partitions(spark, table: TableDef, values: list[dict[str, str]]) -> None:
    """Register Hive-style partitions of a Parquet table after a write (Delta needs none)."""
    if table.format != "parquet" or not values:
        return
    specs = " ".join(
        "PARTITION (" + ", ".join(f"{k} = {_quote(str(v))}" for k, v in value.items()) + ")" for value in values
    )
    spark.sql(f"ALTER TABLE {table.qualified_name} ADD IF NOT EXISTS {specs}")


def partition_dirs(location: str, keys: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    """The Hive-style partitions (`key=value/...`) found under a table's location, in the order of `keys`."""
    from urllib.parse import unquote

    from lakekit.storage import storage_for

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
    from lakekit.storage import storage_for

    location = table.location_under(lake_root)
    storage = storage_for(location)
    if table.format == "delta":
        return bool(storage.list_files(f"{location}/_delta_log"))
    return bool(storage.list_files(location) or storage.list_dirs(location))


def register_existing_tables(spark, lake_root: str, layers: list[str] | None = None) -> list[TableDef]:
    """Register every catalog/ table written under this lake root, with its partitions; skip the others.

    A metastore that lost track of a lake (a new machine, a lake copied from elsewhere) gets it back.
    """
    registered = []
    for table in all_tables():
        if (layers and table.layer not in layers) or not has_data(table, lake_root):
            continue
        register_table(spark, table, lake_root)
        add_partitions(spark, table, partition_dirs(table.location_under(lake_root), table.partition_keys))
        registered.append(table)
    return registered


# Athena reads the same files through the Glue Data Catalog: DDL from the same YAML.
_PROJECTION_START = "2024-01-01"


def _athena_type(data_type) -> str:
    """Hive DDL type; struct field names quoted, since names like `date` are reserved words in Athena DDL."""
    from pyspark.sql import types as T

    if isinstance(data_type, T.StructType):
        return "struct<" + ",".join(f"`{f.name}`:{_athena_type(f.dataType)}" for f in data_type.fields) + ">"
    if isinstance(data_type, T.ArrayType):
        return f"array<{_athena_type(data_type.elementType)}>"
    if isinstance(data_type, T.MapType):
        return f"map<{_athena_type(data_type.keyType)},{_athena_type(data_type.valueType)}>"
    return data_type.simpleString()


def _athena_columns(table: TableDef, names: list[str]) -> str:
    fields = {f.name: f for f in table.schema.fields}
    parts = []
    for name in names:
        spark_field = fields[name]
        comment = spark_field.metadata.get("comment")
        ddl = f"`{name}` {_athena_type(spark_field.dataType)}"
        parts.append(ddl + (f" COMMENT {_quote(comment)}" if comment else ""))
    return ",\n  ".join(parts)


def _athena_properties(properties: dict[str, str]) -> str:
    return "TBLPROPERTIES (\n  " + ",\n  ".join(f"{_quote(k)}={_quote(v)}" for k, v in properties.items()) + "\n)"


def _projection(table: TableDef, location: str, start: str) -> dict[str, str]:
    """Partition projection on date partition keys: Athena computes partitions, no crawler or MSCK needed."""
    types = {c["name"]: c["type"] for c in table.columns}
    if not table.partition_keys or any(types[k] != "date" for k in table.partition_keys):
        return {}
    properties = {"projection.enabled": "true"}
    for key in table.partition_keys:
        properties.update(
            {
                f"projection.{key}.type": "date",
                f"projection.{key}.format": "yyyy-MM-dd",
                f"projection.{key}.range": f"{start},NOW",
                f"projection.{key}.interval": "1",
                f"projection.{key}.interval.unit": "DAYS",
            }
        )
    template = "/".join(f"{k}=${{{k}}}" for k in table.partition_keys)
    properties["storage.location.template"] = f"{location}{template}/"
    return properties


def athena_ddl(table: TableDef, lake_root: str, projection_start: str = _PROJECTION_START) -> str:
    """CREATE EXTERNAL TABLE for Athena: Parquet with partition projection, or Delta Lake (schema from its log)."""
    location = table.location_under(lake_root).rstrip("/") + "/"
    name = f"`{table.layer}`.`{table.name}`"
    if table.format == "delta":
        return (
            f"CREATE EXTERNAL TABLE IF NOT EXISTS {name}\n"
            f"LOCATION {_quote(location)}\n"
            f"{_athena_properties({'table_type': 'DELTA'})}"
        )
    if table.format != "parquet":
        raise CatalogError(f"{table.qualified_name}: no Athena DDL for format {table.format!r}")
    data_columns = [c for c in table.column_names if c not in table.partition_keys]
    partitioned = (
        f"PARTITIONED BY (\n  {_athena_columns(table, list(table.partition_keys))}\n)\n" if table.partition_keys else ""
    )
    properties = {"parquet.compression": "SNAPPY", **_projection(table, location, projection_start)}
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {name} (\n  {_athena_columns(table, data_columns)}\n)\n"
        f"COMMENT {_quote(table.description)}\n"
        f"{partitioned}"
        f"STORED AS PARQUET\n"
        f"LOCATION {_quote(location)}\n"
        f"{_athena_properties(properties)}"
    )


def athena_catalog_ddl(
    lake_root: str, tables: list[TableDef] | None = None, projection_start: str = _PROJECTION_START
) -> list[str]:
    """Every statement Athena needs for these tables (default: all of catalog/): databases first, then tables."""
    tables = all_tables() if tables is None else tables
    databases = sorted({t.layer for t in tables})
    return [f"CREATE DATABASE IF NOT EXISTS `{db}`" for db in databases] + [
        athena_ddl(t, lake_root, projection_start) for t in tables
    ]
