"""Athena DDL for the tables of catalog/: the Glue TableInput of each (lakekit/catalog/glue.py), as SQL.

The jobs write the same TableInput through the Glue API, so the DDL and the jobs never disagree on a
table: Parquet with partition projection, Delta Lake tables read from their log.
"""

from __future__ import annotations

import re

from lakekit.catalog.glue import PROJECTION_START, table_input
from lakekit.catalog.model import TableDef, all_tables
from lakekit.catalog.model import sql_quote as _quote
from lakekit.core.names import Names

_PROJECTION_START = PROJECTION_START
# Set by CREATE EXTERNAL TABLE itself, or read by Spark only (Athena's Delta DDL takes table_type alone).
_NOT_IN_DDL = {"EXTERNAL", "classification", "spark.sql.sources.provider"}


def _athena_type(hive_type: str) -> str:
    """Hive DDL type with struct field names quoted, since names like `date` are reserved words in Athena DDL."""
    return re.sub(r"(?<=[<,])([A-Za-z_][A-Za-z0-9_]*):", r"`\1`:", hive_type)


def _athena_columns(columns: list[dict[str, str]]) -> str:
    parts = []
    for column in columns:
        ddl = f"`{column['Name']}` {_athena_type(column['Type'])}"
        parts.append(ddl + (f" COMMENT {_quote(column['Comment'])}" if column.get("Comment") else ""))
    return ",\n  ".join(parts)


def _athena_properties(parameters: dict[str, str]) -> str:
    properties = {k: v for k, v in parameters.items() if k not in _NOT_IN_DDL}
    return "TBLPROPERTIES (\n  " + ",\n  ".join(f"{_quote(k)}={_quote(v)}" for k, v in properties.items()) + "\n)"


def athena_ddl(
    table: TableDef, lake_root: str, projection_start: str = _PROJECTION_START, database: str | None = None
) -> str:
    """CREATE EXTERNAL TABLE for Athena: Parquet with partition projection, or Delta Lake (schema from its log),
    in `database` (the environment's database of the table's layer; default the layer's name)."""
    spec = table_input(table, lake_root, projection_start)
    storage = spec["StorageDescriptor"]
    name = f"`{database or table.layer}`.`{table.name}`"
    if spec["Parameters"].get("table_type") == "DELTA":
        return (
            f"CREATE EXTERNAL TABLE IF NOT EXISTS {name}\n"
            f"LOCATION {_quote(storage['Location'])}\n"
            f"{_athena_properties(spec['Parameters'])}"
        )
    partitioned = f"PARTITIONED BY (\n  {_athena_columns(spec['PartitionKeys'])}\n)\n" if spec["PartitionKeys"] else ""
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {name} (\n  {_athena_columns(storage['Columns'])}\n)\n"
        f"COMMENT {_quote(spec['Description'])}\n"
        f"{partitioned}"
        f"STORED AS PARQUET\n"
        f"LOCATION {_quote(storage['Location'])}\n"
        f"{_athena_properties(spec['Parameters'])}"
    )


def athena_catalog_ddl(
    lake_root: str,
    tables: list[TableDef] | None = None,
    projection_start: str = _PROJECTION_START,
    names: Names | None = None,
) -> list[str]:
    """Every statement Athena needs for these tables (default: all of catalog/): databases first, then tables,
    each in the environment's database of its layer (`names`, the jobs' rule; default the layer's name)."""
    tables = all_tables() if tables is None else tables
    names = names or Names()
    databases = sorted({names.database(t.layer) for t in tables})
    return [f"CREATE DATABASE IF NOT EXISTS `{db}`" for db in databases] + [
        athena_ddl(t, lake_root, projection_start, names.database(t.layer)) for t in tables
    ]
