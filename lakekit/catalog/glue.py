"""The Glue Data Catalog from catalog/*.yaml: one TableInput per table, for the Glue API and the Athena DDL alike.

`table_input` is the only definition of a table in the Glue Data Catalog. The jobs (with a `glue`
metastore, `--env aws`) create or update it through the Glue API; `lake catalog ddl` renders the same
input as Athena DDL (lakekit/catalog/ddl.py). So whichever runs first, the table ends the same:
raw Parquet tables with partition projection on their date partitions, curated tables as Delta
tables Athena reads from their log (`table_type=DELTA`) and Spark on Glue through Delta's catalog
(`spark.sql.sources.provider=delta`, the `path` serde parameter).
"""

from __future__ import annotations

from typing import Any

from lakekit.catalog.model import CatalogError, TableDef

PROJECTION_START = "2024-01-01"

_PARQUET_STORAGE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
}
# Only what Athena and Spark on Glue read of a Delta table: the log under Location is the schema.
_DELTA_STORAGE = {
    "InputFormat": "org.apache.hadoop.mapred.SequenceFileInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveSequenceFileOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"},
}


def _column(table: TableDef, name: str) -> dict[str, str]:
    spark_field = next(f for f in table.schema.fields if f.name == name)
    column = {"Name": name, "Type": spark_field.dataType.simpleString()}
    comment = spark_field.metadata.get("comment")
    if comment:
        column["Comment"] = comment
    return column


def projection(table: TableDef, location: str, start: str = PROJECTION_START) -> dict[str, str]:
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


def table_input(table: TableDef, lake_root: str, projection_start: str = PROJECTION_START) -> dict[str, Any]:
    """The table's Glue TableInput (create_table / update_table), from its YAML and the lake root."""
    location = table.location_under(lake_root).rstrip("/") + "/"
    if table.format == "delta":
        return {
            "Name": table.name,
            "Description": table.description,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"EXTERNAL": "TRUE", "table_type": "DELTA", "spark.sql.sources.provider": "delta"},
            "PartitionKeys": [],
            "StorageDescriptor": {
                "Columns": [_column(table, n) for n in table.column_names],
                "Location": location,
                **_DELTA_STORAGE,
                "SerdeInfo": {**_DELTA_STORAGE["SerdeInfo"], "Parameters": {"path": location}},
            },
        }
    if table.format != "parquet":
        raise CatalogError(f"{table.qualified_name}: no Glue table for format {table.format!r}")
    return {
        "Name": table.name,
        "Description": table.description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "EXTERNAL": "TRUE",
            "classification": "parquet",
            "parquet.compression": "SNAPPY",
            **projection(table, location, projection_start),
        },
        "PartitionKeys": [_column(table, k) for k in table.partition_keys],
        "StorageDescriptor": {
            "Columns": [_column(table, n) for n in table.column_names if n not in table.partition_keys],
            "Location": location,
            **_PARQUET_STORAGE,
        },
    }


def database_description(layer: str) -> str:
    """The Glue database's description, the same whether a job or the deployment creates it."""
    return f"The lake's {layer} layer (catalog/{layer}/)"


def _comparable(table: dict[str, Any]) -> dict[str, Any]:
    """The parts of a Glue table (get_table's answer or a TableInput) that table_input sets."""
    storage = table.get("StorageDescriptor") or {}
    serde = storage.get("SerdeInfo") or {}
    return {
        "Description": table.get("Description", ""),
        "TableType": table.get("TableType"),
        "Parameters": table.get("Parameters") or {},
        "PartitionKeys": table.get("PartitionKeys") or [],
        "Columns": storage.get("Columns") or [],
        "Location": storage.get("Location"),
        "InputFormat": storage.get("InputFormat"),
        "OutputFormat": storage.get("OutputFormat"),
        "Serde": [serde.get("SerializationLibrary"), serde.get("Parameters") or {}],
    }


class GlueCatalog:
    """Databases and tables of catalog/ in the Glue Data Catalog, through the Glue API (boto3).

    Idempotent and never destructive: a table is created when absent, updated in place (update_table:
    the data under its location is never touched) when its definition differs from catalog/, and
    left alone otherwise. Glue API failures become one CatalogError line naming what to check.
    """

    def __init__(self, client=None, projection_start: str = PROJECTION_START):
        if client is None:
            import boto3

            client = boto3.client("glue")
        self.glue = client
        self.projection_start = projection_start
        self._ready: set[str] = set()

    def _call(self, what: str, method: str, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return getattr(self.glue, method)(**kwargs)
        except NoCredentialsError:
            raise CatalogError(
                f"Glue Data Catalog: {what}: no AWS credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(or AWS_PROFILE, or run with an IAM role)"
            ) from None
        except ClientError as error:
            detail = error.response.get("Error", {})
            raise CatalogError(
                f"Glue Data Catalog: {what} failed ({detail.get('Code')}: {detail.get('Message')}); check the "
                f"job's IAM permissions (glue:{method.title().replace('_', '')}) and AWS_REGION"
            ) from None
        except BotoCoreError as error:
            raise CatalogError(
                f"Glue Data Catalog: {what} failed ({error}); check AWS_REGION and AWS_ENDPOINT_URL_GLUE / "
                "AWS_ENDPOINT_URL"
            ) from None

    def _exists(self, what: str, method: str, **kwargs) -> dict | None:
        try:
            return self._call(what, method, **kwargs)
        except CatalogError as error:
            if "EntityNotFoundException" in str(error):
                return None
            raise

    def ensure_database(self, name: str, layer: str | None = None) -> None:
        if name in self._ready:
            return
        if self._exists(f"get_database {name}", "get_database", Name=name) is None:
            self._call(
                f"create_database {name}",
                "create_database",
                DatabaseInput={"Name": name, "Description": database_description(layer or name)},
            )
        self._ready.add(name)

    def register_table(self, table: TableDef, lake_root: str, database: str | None = None) -> str:
        """Create or update the table in `database` (the environment's database of its layer; default the
        layer's name); returns what was done: created, updated or unchanged."""
        database = database or table.layer
        qualified = f"{database}.{table.name}"
        self.ensure_database(database, table.layer)
        wanted = table_input(table, lake_root, self.projection_start)
        found = self._exists(f"get_table {qualified}", "get_table", DatabaseName=database, Name=table.name)
        if found is None:
            self._call(f"create_table {qualified}", "create_table", DatabaseName=database, TableInput=wanted)
            return "created"
        if _comparable(found["Table"]) == _comparable(wanted):
            return "unchanged"
        self._call(f"update_table {qualified}", "update_table", DatabaseName=database, TableInput=wanted)
        return "updated"

    def add_partitions(
        self, table: TableDef, lake_root: str, values: list[dict[str, str]], database: str | None = None
    ) -> None:
        """Register partitions of a Parquet table for Spark on Glue (Athena projects them and needs none)."""
        if table.format != "parquet" or not values:
            return
        database = database or table.layer
        wanted = table_input(table, lake_root, self.projection_start)
        storage = wanted["StorageDescriptor"]
        inputs = []
        for value in values:
            folder = "/".join(f"{k}={value[k]}" for k in table.partition_keys)
            inputs.append(
                {
                    "Values": [str(value[k]) for k in table.partition_keys],
                    "StorageDescriptor": {**storage, "Location": f"{storage['Location']}{folder}/"},
                }
            )
        for start in range(0, len(inputs), 100):  # the API takes 100 at a time
            answer = self._call(
                f"batch_create_partition {database}.{table.name}",
                "batch_create_partition",
                DatabaseName=database,
                TableName=table.name,
                PartitionInputList=inputs[start : start + 100],
            )
            errors = [e for e in answer.get("Errors", []) if e["ErrorDetail"]["ErrorCode"] != "AlreadyExistsException"]
            if errors:
                detail = errors[0]["ErrorDetail"]
                raise CatalogError(
                    f"Glue Data Catalog: partitions of {database}.{table.name}: {detail['ErrorCode']}: "
                    f"{detail.get('ErrorMessage')}"
                )
