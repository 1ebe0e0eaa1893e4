"""Athena DDL for the tables of catalog/: Parquet with partition projection, Delta Lake tables."""

from __future__ import annotations

from lakekit.catalog.model import CatalogError, TableDef, all_tables
from lakekit.catalog.model import sql_quote as _quote

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
