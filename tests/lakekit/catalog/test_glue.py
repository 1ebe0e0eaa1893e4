"""catalog/ in the Glue Data Catalog through the Glue API (moto server as the local Glue), one way with the DDL."""

from __future__ import annotations

from dataclasses import replace

import boto3
import pytest

from lakekit.catalog.ddl import athena_ddl
from lakekit.catalog.glue import GlueCatalog
from lakekit.catalog.model import CatalogError, all_tables, load_table

ROOT = "s3://lake-bucket/prod"


@pytest.fixture(scope="module")
def glue_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def glue(glue_endpoint, request):
    client = boto3.client(
        "glue",
        endpoint_url=glue_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    for database in client.get_databases()["DatabaseList"]:
        client.delete_database(Name=database["Name"])
    return client


def test_every_table_is_created_then_left_alone_and_what_athena_reads_is_there(glue):
    catalog = GlueCatalog(glue, projection_start="2025-06-01")
    actions = {t.qualified_name: catalog.register_table(t, ROOT) for t in all_tables()}
    assert set(actions.values()) == {"created"}
    again = GlueCatalog(glue, projection_start="2025-06-01")
    assert {t.qualified_name: again.register_table(t, ROOT) for t in all_tables()} == dict.fromkeys(
        actions, "unchanged"
    )
    assert sorted(d["Name"] for d in glue.get_databases()["DatabaseList"]) == ["curated", "raw"]

    raw = glue.get_table(DatabaseName="raw", Name="campaign_info")["Table"]
    assert raw["TableType"] == "EXTERNAL_TABLE"
    assert raw["PartitionKeys"] == [{"Name": "p_date", "Type": "date", "Comment": "Ingestion date (UTC)"}]
    storage = raw["StorageDescriptor"]
    assert storage["Location"] == "s3://lake-bucket/prod/raw/campaign_info/"
    assert storage["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert storage["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert storage["Columns"][6] == {
        "Name": "campaign_tasks",
        "Type": "array<struct<task_id:string,reward_amount:decimal(38,6),task_deadline:string>>",
        "Comment": "Tasks of the campaign",
    }
    assert raw["Parameters"] == {
        "EXTERNAL": "TRUE",
        "classification": "parquet",
        "parquet.compression": "SNAPPY",
        "projection.enabled": "true",
        "projection.p_date.type": "date",
        "projection.p_date.format": "yyyy-MM-dd",
        "projection.p_date.range": "2025-06-01,NOW",
        "projection.p_date.interval": "1",
        "projection.p_date.interval.unit": "DAYS",
        "storage.location.template": "s3://lake-bucket/prod/raw/campaign_info/p_date=${p_date}/",
    }

    delta = glue.get_table(DatabaseName="curated", Name="campaign_task_progress")["Table"]
    # Athena reads a Delta table from table_type=DELTA and its location; Spark on Glue through Delta's
    # catalog from the provider and the path.
    assert delta["Parameters"] == {"EXTERNAL": "TRUE", "table_type": "DELTA", "spark.sql.sources.provider": "delta"}
    assert delta["StorageDescriptor"]["Location"] == "s3://lake-bucket/prod/curated/campaign_task_progress/"
    assert delta["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {
        "path": "s3://lake-bucket/prod/curated/campaign_task_progress/"
    }
    assert delta["PartitionKeys"] == []


def test_a_table_whose_yaml_changed_is_updated_in_place_and_keeps_its_partitions(glue):
    catalog = GlueCatalog(glue)
    table = load_table("raw.user_campaign")
    assert catalog.register_table(table, ROOT) == "created"
    catalog.add_partitions(table, ROOT, [{"p_date": "2026-11-20"}, {"p_date": "2026-11-21"}])
    catalog.add_partitions(table, ROOT, [{"p_date": "2026-11-21"}])  # again: already there, no error

    grown = replace(
        table,
        description="now with a region",
        columns=(*table.columns[:-1], {"name": "region", "type": "string"}, table.columns[-1]),
    )
    assert catalog.register_table(grown, ROOT) == "updated"
    assert catalog.register_table(grown, ROOT) == "unchanged"
    found = glue.get_table(DatabaseName="raw", Name="user_campaign")["Table"]
    assert found["Description"] == "now with a region"
    assert [c["Name"] for c in found["StorageDescriptor"]["Columns"]][-2:] == ["_ingested_at", "region"]
    partitions = glue.get_partitions(DatabaseName="raw", TableName="user_campaign")["Partitions"]
    assert sorted((p["Values"], p["StorageDescriptor"]["Location"]) for p in partitions) == [
        (["2026-11-20"], "s3://lake-bucket/prod/raw/user_campaign/p_date=2026-11-20/"),
        (["2026-11-21"], "s3://lake-bucket/prod/raw/user_campaign/p_date=2026-11-21/"),
    ]


def test_the_ddl_says_what_the_glue_api_was_given(glue):
    """`lake catalog ddl` and the jobs: the same properties, columns and location for every table."""
    catalog = GlueCatalog(glue)
    for table in all_tables():
        catalog.register_table(table, ROOT)
        found = glue.get_table(DatabaseName=table.layer, Name=table.name)["Table"]
        ddl = athena_ddl(table, ROOT)
        assert f"LOCATION '{found['StorageDescriptor']['Location']}'" in ddl
        shown = {k: v for k, v in found["Parameters"].items() if k not in ("EXTERNAL", "classification")}
        if table.format == "delta":
            shown.pop("spark.sql.sources.provider")  # Spark's, not in Athena's Delta DDL
        else:
            for column in found["StorageDescriptor"]["Columns"] + found["PartitionKeys"]:
                assert f"`{column['Name']}` " in ddl, (table.qualified_name, column["Name"])
        properties = ddl.split("TBLPROPERTIES (\n  ", 1)[1].rstrip(")").strip().split(",\n  ")
        assert properties == [f"'{k}'='{v}'" for k, v in shown.items()], table.qualified_name


def test_a_glue_api_error_is_one_line_naming_what_to_check(glue):
    table = load_table("raw.users")
    with pytest.raises(CatalogError) as raised:  # a table nobody registered: Glue answers EntityNotFound
        GlueCatalog(glue).add_partitions(table, ROOT, [{"p_date": "2026-11-20"}])
    message = str(raised.value)
    assert message.startswith("Glue Data Catalog: batch_create_partition raw.users failed (EntityNotFoundException")
    assert "\n" not in message and "IAM permissions" in message and "AWS_REGION" in message


def test_an_unreachable_glue_api_is_one_line_naming_the_endpoint_settings():
    from botocore.config import Config

    client = boto3.client(
        "glue",
        endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(
        CatalogError, match=r"^Glue Data Catalog: get_database raw failed \(.*AWS_ENDPOINT_URL"
    ) as raised:
        GlueCatalog(client).register_table(load_table("raw.users"), ROOT)
    assert "\n" not in str(raised.value)


def test_a_job_registers_its_tables_in_the_environments_databases(glue, monkeypatch):
    """metastore.register on Glue: the run's names (conf names:, a deployed job's --names) give the database."""
    from types import SimpleNamespace

    from lakekit.catalog import metastore
    from lakekit.core.names import Names

    monkeypatch.setattr(metastore, "_glue", lambda: GlueCatalog(glue))
    names = Names.from_conf({"templates": {"database": "{environment}_{layer}"}}, environment="dev")
    said = []
    run = SimpleNamespace(settings=SimpleNamespace(metastore="glue", lake_root=ROOT, names=names), say=said.append)
    table = load_table("raw.user_campaign")
    metastore.register(run, table)
    metastore.register_partitions(run, table, [{"p_date": "2026-11-20"}])
    assert [d["Name"] for d in glue.get_databases()["DatabaseList"]] == ["dev_raw"]
    assert glue.get_database(Name="dev_raw")["Database"]["Description"] == "The lake's raw layer (catalog/raw/)"
    partitions = glue.get_partitions(DatabaseName="dev_raw", TableName="user_campaign")["Partitions"]
    assert [p["Values"] for p in partitions] == [["2026-11-20"]]
    assert said == ["Glue Data Catalog: dev_raw.user_campaign created"]
