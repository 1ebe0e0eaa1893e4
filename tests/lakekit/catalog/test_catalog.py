"""catalog/ as the single source of truth: what jobs write matches the YAML, and Athena DDL comes from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakekit import cli
from lakekit.catalog.crawler import crawl
from lakekit.catalog.ddl import athena_ddl
from lakekit.catalog.model import all_tables, load_table
from lakekit.core.settings import load_settings
from tests.demo_lake import demo_lake

CAMPAIGN_TABLES = {"raw.user_campaign", "raw.campaign_info", "curated.campaign_tasks", "curated.campaign_task_progress"}


@pytest.fixture(scope="module")
def demo(spark, tmp_path_factory) -> str:
    return demo_lake(spark, tmp_path_factory)


def shape(schema) -> list[tuple[str, str]]:
    """Names and types (nested ones included), ignoring nullability and comments."""
    return [(f.name, f.dataType.simpleString()) for f in schema.fields]


def test_every_table_the_jobs_write_is_in_the_catalog_with_the_yaml_schema(spark, demo):
    written = {
        f"{layer.name}.{table.name}"
        for layer in Path(demo).iterdir()
        if layer.name in {"raw", "curated"}
        for table in layer.iterdir()
    }
    assert written == CAMPAIGN_TABLES
    catalog = {t.qualified_name: t for t in all_tables()}
    assert written <= set(catalog)
    for name in sorted(written):
        table = catalog[name]
        location = table.location_under(demo)
        # The files' own schema (Parquet footers and partition folders; the Delta log), no schema given.
        if table.format == "delta":
            files_df = spark.read.format("delta").load(location)
        else:
            files_df = spark.read.parquet(location)
        assert shape(files_df.schema) == shape(table.schema), name
        # And the table the jobs registered in the metastore.
        assert shape(spark.table(name).schema) == shape(table.schema), name
        assert spark.sql(f"DESCRIBE TABLE EXTENDED {name}").filter("col_name = 'Provider'").first()[1] == table.format


def test_metastore_tables_under_the_lake_root_are_all_in_the_catalog(spark, demo):
    catalog = {t.qualified_name for t in all_tables()}
    registered = set()
    for database in ("raw", "curated"):
        for table in spark.catalog.listTables(database):
            rows = spark.sql(f"DESCRIBE TABLE EXTENDED {database}.{table.name}").filter("col_name = 'Location'")
            if demo in rows.first()[1]:
                registered.add(f"{database}.{table.name}")
    assert registered == CAMPAIGN_TABLES
    assert registered <= catalog


def test_crawling_a_layer_registers_catalog_tables_with_their_yaml_schema(spark, demo, tmp_path, capsys):
    settings = load_settings("local", demo)
    [p_date] = [p.name for p in (Path(demo) / "raw" / "campaign_info").iterdir() if p.name.startswith("p_date=")]
    spark.sql(f"ALTER TABLE raw.campaign_info DROP PARTITION (p_date = '{p_date.split('=')[1]}')")
    lines = [line for result in crawl(spark, settings, "raw") for line in result.report()]
    assert lines == [
        f"raw.campaign_info: registered from catalog/raw (parquet, {demo}/raw/campaign_info); 1 partition(s) added",
        f"raw.user_campaign: registered from catalog/raw (parquet, {demo}/raw/user_campaign); 0 partition(s) added",
    ]
    assert [row[0] for row in spark.sql("SHOW PARTITIONS raw.campaign_info").collect()] == [p_date]
    assert sorted(r.campaign_id for r in spark.table("raw.campaign_info").collect()) == [
        "CAMP#draft",
        "CAMP#spring",
        "CAMP#spring",  # the full export's image and the incremental export's
        "CAMP#winter",
    ]
    assert shape(spark.table("raw.campaign_info").schema) == shape(load_table("raw.campaign_info").schema)

    # A folder elsewhere that would take a catalog table's name is refused, not registered over it.
    other = tmp_path / "copy" / "raw" / "campaign_info"
    other.mkdir(parents=True)
    (other / "part.json").write_text('{"campaign_id": "x"}\n')
    assert cli.main(["catalog", "crawl", str(other), "--lake-root", demo]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"raw.campaign_info: not crawled: raw.campaign_info is defined in catalog/raw/campaign_info.yaml at "
        f"{demo}/raw/campaign_info, not {other}: crawl it under another --database"
    ]


RAW_CAMPAIGN_INFO_DDL = """CREATE EXTERNAL TABLE IF NOT EXISTS `raw`.`campaign_info` (
  `campaign_id` string COMMENT 'Partition key of the item',
  `title` string,
  `reward_claim_deadline` string COMMENT 'ISO 8601 as stored',
  `ends_at` string COMMENT 'ISO 8601 as stored',
  `created_at` string COMMENT 'ISO 8601 as stored',
  `updated_at` string COMMENT 'ISO 8601 as stored',
  `campaign_tasks` array<struct<`task_id`:string,`reward_amount`:decimal(38,6),`task_deadline`:string>> COMMENT 'Tasks of the campaign',
  `_op` string COMMENT 'SNAPSHOT (full export item), INSERT, UPDATE or DELETE',
  `_export_id` string COMMENT 'DynamoDB export id (folder under AWSDynamoDB/)',
  `_export_type` string COMMENT 'FULL_EXPORT or INCREMENTAL_EXPORT',
  `_export_time` timestamp COMMENT 'exportTime of a full export, exportToTime of an incremental one',
  `_write_ts` timestamp COMMENT 'Metadata.WriteTimestampMicros of an incremental export record',
  `_source_file` string COMMENT 'Landing file the record was read from',
  `_line_number` bigint COMMENT 'Line of the record in its landing file, from 1',
  `_ingested_at` timestamp COMMENT 'When the raw job read the export'
)
COMMENT 'Every item image of the DynamoDB table campaignInfo, as exported (full and incremental exports), one row per exported item image, with the operation it records. Append-only.'
PARTITIONED BY (
  `p_date` date COMMENT 'Ingestion date (UTC)'
)
STORED AS PARQUET
LOCATION 's3://bucket/lake/raw/campaign_info/'
TBLPROPERTIES (
  'parquet.compression'='SNAPPY',
  'projection.enabled'='true',
  'projection.p_date.type'='date',
  'projection.p_date.format'='yyyy-MM-dd',
  'projection.p_date.range'='2025-06-01,NOW',
  'projection.p_date.interval'='1',
  'projection.p_date.interval.unit'='DAYS',
  'storage.location.template'='s3://bucket/lake/raw/campaign_info/p_date=${p_date}/'
)"""  # noqa: E501 - DDL as Athena gets it


def test_raw_parquet_ddl_has_partition_projection_on_p_date():
    assert athena_ddl(load_table("raw.campaign_info"), "s3://bucket/lake/", "2025-06-01") == RAW_CAMPAIGN_INFO_DDL


def test_curated_delta_ddl_is_an_athena_delta_lake_table():
    assert athena_ddl(load_table("curated.campaign_task_progress"), "s3://bucket/lake") == (
        "CREATE EXTERNAL TABLE IF NOT EXISTS `curated`.`campaign_task_progress`\n"
        "LOCATION 's3://bucket/lake/curated/campaign_task_progress/'\n"
        "TBLPROPERTIES (\n  'table_type'='DELTA'\n)"
    )


# Where each curated Delta table lives, written out: Athena takes columns and partitions from the Delta log.
DELTA_LOCATIONS = {
    "curated.campaign_task_progress": "s3://b/l/curated/campaign_task_progress/",
    "curated.campaign_tasks": "s3://b/l/curated/campaign_tasks/",
    "curated.complaints": "s3://b/l/curated/complaints/",
    "curated.orders": "s3://b/l/curated/orders/",
    "curated.product_details": "s3://b/l/curated/product_details/",
    "curated.purchase_details": "s3://b/l/curated/purchase_details/",
    "curated.retail_customers": "s3://b/l/curated/retail_customers/",
    "curated.retail_invoice_lines": "s3://b/l/curated/retail_invoice_lines/",
    "curated.retail_invoices": "s3://b/l/curated/retail_invoices/",
    "curated.shipping_addresses": "s3://b/l/curated/shipping_addresses/",
    "curated.user_locations": "s3://b/l/curated/user_locations/",
    "curated.users": "s3://b/l/curated/users/",
}


def test_every_catalog_table_has_athena_ddl_from_its_yaml():
    delta = {}
    for table in all_tables():
        ddl = athena_ddl(table, "s3://b/l")
        lines = ddl.splitlines()
        if table.format == "delta":
            # Read back from the statement: a name without a column list, a location, the Delta table type.
            name, location = re.fullmatch(r"CREATE EXTERNAL TABLE IF NOT EXISTS `(\w+)`\.`(\w+)`", lines[0]), lines[1]
            assert lines[2:] == ["TBLPROPERTIES (", "  'table_type'='DELTA'", ")"], table.qualified_name
            delta[f"{name.group(1)}.{name.group(2)}"] = re.fullmatch(r"LOCATION '(.+)'", location).group(1)
            continue
        assert table.format == "parquet", table.qualified_name
        data_columns = [c for c in table.column_names if c not in table.partition_keys]
        declared = [line.split()[0].strip("`") for line in ddl.split("\n)\n")[0].splitlines()[1:]]
        assert declared == data_columns, table.qualified_name
        assert f"LOCATION 's3://b/l/{table.location}/'" in ddl and "STORED AS PARQUET" in ddl
        for key in table.partition_keys:
            assert f"'projection.{key}.type'='date'" in ddl
            assert f"'storage.location.template'='s3://b/l/{table.location}/{key}=${{{key}}}/'" in ddl
    assert delta == DELTA_LOCATIONS


def test_lake_catalog_ddl_prints_statements_for_athena(capsys):
    argv = ["catalog", "ddl", "raw.campaign_info", "--lake-root", "s3://bucket/lake"]
    assert cli.main([*argv, "--projection-start", "2025-06-01"]) == 0
    assert capsys.readouterr().out == f"CREATE DATABASE IF NOT EXISTS `raw`;\n\n{RAW_CAMPAIGN_INFO_DDL};\n"

    assert cli.main(["catalog", "ddl", "--lake-root", "s3://bucket/lake"]) == 0
    out = capsys.readouterr().out
    databases = sorted({t.layer for t in all_tables()})
    assert [line for line in out.splitlines() if line.startswith("CREATE ")] == [
        *(f"CREATE DATABASE IF NOT EXISTS `{db}`;" for db in databases),
        *(
            f"CREATE EXTERNAL TABLE IF NOT EXISTS `{t.layer}`.`{t.name}`" + (" (" if t.format == "parquet" else "")
            for t in all_tables()
        ),
    ]

    assert cli.main(["catalog", "ddl", "raw.nope", "--lake-root", "s3://bucket/lake"]) == 2
    names = ", ".join(sorted(t.qualified_name for t in all_tables()))
    assert capsys.readouterr().err == f"lake: unknown table 'raw.nope'; tables: {names}\n"


def test_parse_as_reaches_the_schema_metadata_and_only_fits_a_string_column():
    from lakekit.catalog.model import CatalogError, TableDef

    def table(*columns: dict) -> TableDef:
        return TableDef("raw", "t", "", "parquet", "raw/t", columns)

    nested = {
        "name": "tasks",
        "type": "array<struct>",
        "fields": [{"name": "due", "type": "string", "parse_as": "date"}],
    }
    schema = table({"name": "at", "type": "string", "parse_as": "timestamp", "source": "at"}, nested).schema
    assert schema["at"].metadata == {"source": "at", "parse_as": "timestamp"}
    assert schema["tasks"].dataType.elementType["due"].metadata == {"parse_as": "date"}
    with pytest.raises(CatalogError, match="column at: parse_as must be one of timestamp, date on a string column"):
        _ = table({"name": "at", "type": "timestamp", "parse_as": "timestamp"}).schema
    with pytest.raises(CatalogError, match="column at: parse_as must be one of"):
        _ = table({"name": "at", "type": "string", "parse_as": "time"}).schema
