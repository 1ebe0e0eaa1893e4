"""The one adapter between the stack and the Glue TableInput builder the jobs and `lake catalog ddl` share.

The stack calls `table_input(table, lake_root) -> dict` (a Glue TableInput, PascalCase as the API and
CloudFormation's AWS::Glue::Table take it). That builder is lakekit.catalog.glue.table_input, written on
the cloud branch; until that branch is merged, an interim rendering of the same TableInput is used here.
Delete `_interim_table_input` once lakekit/catalog/glue.py is on main.
"""

from __future__ import annotations

from typing import Any

from lakekit.catalog.model import CatalogError, TableDef

try:
    from lakekit.catalog.glue import table_input as _shared_table_input
except ImportError:  # lakekit/catalog/glue.py not merged yet
    _shared_table_input = None

_PARQUET_STORAGE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
}


def _column(field) -> dict[str, str]:
    column = {"Name": field.name, "Type": field.dataType.simpleString()}
    if field.metadata.get("comment"):
        column["Comment"] = field.metadata["comment"]
    return column


def _interim_table_input(table: TableDef, lake_root: str) -> dict[str, Any]:
    location = table.location_under(lake_root).rstrip("/") + "/"
    fields = table.schema.fields
    if table.format == "delta":
        return {
            "Name": table.name,
            "Description": table.description,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"EXTERNAL": "TRUE", "table_type": "DELTA", "spark.sql.sources.provider": "delta"},
            "PartitionKeys": [],
            "StorageDescriptor": {
                "Columns": [_column(f) for f in fields],
                "Location": location,
                "SerdeInfo": {"Parameters": {"path": location}},
            },
        }
    if table.format != "parquet":
        raise CatalogError(f"{table.qualified_name}: no Glue table for format {table.format!r}")
    return {
        "Name": table.name,
        "Description": table.description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", "classification": "parquet"},
        "PartitionKeys": [_column(f) for f in fields if f.name in table.partition_keys],
        "StorageDescriptor": {
            "Columns": [_column(f) for f in fields if f.name not in table.partition_keys],
            "Location": location,
            **_PARQUET_STORAGE,
        },
    }


def table_input(table: TableDef, lake_root: str) -> dict[str, Any]:
    """The table's Glue TableInput under this lake root."""
    if _shared_table_input is not None:
        return _shared_table_input(table, lake_root)
    return _interim_table_input(table, lake_root)
