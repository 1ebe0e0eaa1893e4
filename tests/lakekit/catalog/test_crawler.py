"""`lake crawl` on Hive-style partitioned Parquet and JSON folders: infer, create, update, partitions, drift."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import types as T

from lakekit import cli
from lakekit.catalog.crawler import CrawlError, Drift, crawl, scan
from lakekit.catalog.inventory import describe_tables
from lakekit.core.settings import load_settings

ORDERS = T.StructType([T.StructField("order_id", T.StringType()), T.StructField("amount", T.LongType())])


def write_parquet(spark, folder: Path, rows: list[tuple], schema: T.StructType) -> None:
    spark.createDataFrame(rows, schema).coalesce(1).write.mode("overwrite").parquet(str(folder))


def write_json(folder: Path, records: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-00000.json").write_text("".join(json.dumps(r) + "\n" for r in records))


def columns(spark, name: str) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in spark.table(name).schema.fields]


def partitions(spark, name: str) -> list[str]:
    return sorted(row[0] for row in spark.sql(f"SHOW PARTITIONS {name}").collect())


@pytest.fixture
def drop_databases(spark):
    """Databases a test made in the suite's shared metastore, dropped afterwards."""
    made: list[str] = []
    yield made
    for database in made:
        spark.sql(f"DROP DATABASE IF EXISTS {database} CASCADE")


def test_parquet_layer_crawl_creates_updates_and_flags_drift(spark, lake_root, drop_databases):
    drop_databases.append("partners")
    settings = load_settings("local", lake_root)
    orders = Path(lake_root) / "partners" / "orders"
    write_parquet(spark, orders / "p_date=2026-11-20", [("o1", 10), ("o2", None)], ORDERS)
    write_parquet(spark, orders / "p_date=2026-11-21", [("o3", 30)], ORDERS)
    (orders / "_SUCCESS").write_text("")  # hidden files are not data
    refunds = Path(lake_root) / "partners" / "refunds"
    spark.createDataFrame([("o2", 5)], ORDERS).write.format("delta").save(str(refunds))

    first, delta = crawl(spark, settings, "partners")
    assert (first.table, first.action, first.partitions_added, first.drift) == (
        "partners.orders",
        "created",
        ["p_date=2026-11-20", "p_date=2026-11-21"],
        [],
    )
    # A Delta folder is registered as it is: its schema and partitions live in its log.
    assert (delta.table, delta.action, delta.format) == ("partners.refunds", "registered", "delta")
    assert spark.table("partners.refunds").collect() == [("o2", 5)]
    # The partition column stays typed: a date, not a string.
    assert columns(spark, "partners.orders") == [("order_id", "string"), ("amount", "bigint"), ("p_date", "date")]
    assert sorted(spark.table("partners.orders").collect()) == [
        ("o1", 10, date(2026, 11, 20)),
        ("o2", None, date(2026, 11, 20)),
        ("o3", 30, date(2026, 11, 21)),
    ]

    again, delta_again = crawl(spark, settings, "partners")
    assert (again.action, again.partitions_added, again.columns_added) == ("unchanged", [], [])
    assert delta_again.action == "unchanged"

    # A new partition brings a new column: added to the table; older rows read it as null.
    with_discount = T.StructType([*ORDERS.fields, T.StructField("discount", T.DoubleType())])
    write_parquet(spark, orders / "p_date=2026-11-22", [("o4", 40, 0.5)], with_discount)
    update, _ = crawl(spark, settings, "partners")
    assert (update.action, update.columns_added, update.partitions_added, update.drift) == (
        "updated",
        ["discount double"],
        ["p_date=2026-11-22"],
        [],
    )
    assert columns(spark, "partners.orders") == [
        ("order_id", "string"),
        ("amount", "bigint"),
        ("discount", "double"),
        ("p_date", "date"),
    ]
    assert sorted(spark.table("partners.orders").collect(), key=lambda r: r.order_id) == [
        ("o1", 10, None, date(2026, 11, 20)),
        ("o2", None, None, date(2026, 11, 20)),
        ("o3", 30, None, date(2026, 11, 21)),
        ("o4", 40, 0.5, date(2026, 11, 22)),
    ]

    # An incompatible type change: flagged, not applied, its partition held back, no second table.
    as_text = T.StructType([T.StructField("order_id", T.StringType()), T.StructField("amount", T.StringType())])
    write_parquet(spark, orders / "p_date=2026-11-23", [("o5", "fifty")], as_text)
    write_parquet(spark, orders / "p_date=2026-11-24", [("o6", 60)], ORDERS)
    drift, _ = crawl(spark, settings, "partners")
    assert drift.drift == [Drift("amount", "bigint", "string", "p_date=2026-11-23")]
    assert (drift.held_back, drift.partitions_added, drift.columns_added) == (
        ["p_date=2026-11-23"],
        ["p_date=2026-11-24"],
        [],
    )
    assert "partners.orders: SCHEMA DRIFT column amount is bigint in the table but string in p_date=2026-11-23" in (
        "\n".join(drift.report())
    )
    assert columns(spark, "partners.orders")[1] == ("amount", "bigint")
    assert [t.name for t in spark.catalog.listTables("partners")] == ["orders", "refunds"]
    assert partitions(spark, "partners.orders") == [
        "p_date=2026-11-20",
        "p_date=2026-11-21",
        "p_date=2026-11-22",
        "p_date=2026-11-24",
    ]
    assert sorted(r.order_id for r in spark.table("partners.orders").collect()) == ["o1", "o2", "o3", "o4", "o6"]

    # `lake tables` lists crawled tables under the lake root, counted through the metastore.
    crawled = [(i.name, i.format, i.partition_keys, i.partitions, i.rows) for i in describe_tables(spark, settings)]
    assert [c for c in crawled if c[0].startswith("partners.")] == [
        ("partners.orders", "parquet", ("p_date",), 4, 5),
        ("partners.refunds", "delta", (), None, 1),
    ]


def test_json_folder_crawl_through_the_cli(spark, lake_root, tmp_path, capsys, drop_databases):
    drop_databases.append("ext")
    events = tmp_path / "elsewhere" / "events"
    write_json(events / "dt=2026-11-20" / "region=eu", [{"event_id": "e1", "value": 1}, {"event_id": "e2"}])
    write_json(events / "dt=2026-11-21" / "region=us", [{"event_id": "e3", "value": 3}])

    assert cli.main(["catalog", "crawl", str(events), "--database", "ext", "--lake-root", lake_root]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"ext.events: created (json, {events}); 2 partition(s) added",
    ]
    assert columns(spark, "ext.events") == [
        ("event_id", "string"),
        ("value", "bigint"),
        ("dt", "date"),
        ("region", "string"),
    ]
    assert sorted(spark.table("ext.events").collect()) == [
        ("e1", 1, date(2026, 11, 20), "eu"),
        ("e2", None, date(2026, 11, 20), "eu"),
        ("e3", 3, date(2026, 11, 21), "us"),
    ]

    write_json(events / "dt=2026-11-22" / "region=eu", [{"event_id": "e4", "value": "high", "source": "app"}])
    write_json(events / "dt=2026-11-22" / "region=us", [{"event_id": "e5", "value": 5, "source": "web"}])
    # A drift is a handled failure: exit status 1, and stderr says which table.
    assert cli.main(["catalog", "crawl", str(events), "--database", "ext", "--lake-root", lake_root]) == 1
    out, err = capsys.readouterr()
    assert err == "lake: schema drift in ext.events: not applied (see above)\n"
    assert out.splitlines() == [
        f"ext.events: updated (json, {events}); column(s) added: source string; 1 partition(s) added",
        "ext.events: SCHEMA DRIFT column value is bigint in the table but string in dt=2026-11-22/region=eu: "
        "not applied",
        "ext.events: 1 partition(s) not registered: dt=2026-11-22/region=eu",
    ]
    # New columns go before the partition columns.
    assert sorted(spark.table("ext.events").collect()) == [
        ("e1", 1, None, date(2026, 11, 20), "eu"),
        ("e2", None, None, date(2026, 11, 20), "eu"),
        ("e3", 3, None, date(2026, 11, 21), "us"),
        ("e5", 5, "web", date(2026, 11, 22), "us"),
    ]
    assert [t.name for t in spark.catalog.listTables("ext")] == ["events"]


def test_scan_refuses_folders_that_are_not_one_table(tmp_path):
    mixed = tmp_path / "mixed"
    write_json(mixed / "p=1", [{"a": 1}])
    (mixed / "p=2").mkdir()
    (mixed / "p=2" / "part.parquet").write_bytes(b"PAR1")
    with pytest.raises(CrawlError, match="mixed file formats"):
        scan(str(mixed))

    loose = tmp_path / "loose"
    write_json(loose / "2026", [{"a": 1}])
    with pytest.raises(CrawlError, match="not a partition folder"):
        scan(str(loose))

    assert scan(str(tmp_path / "empty")) is None
    unpartitioned = tmp_path / "flat"
    write_json(unpartitioned, [{"a": 1}])
    assert scan(str(unpartitioned)).leaves == ("",)
