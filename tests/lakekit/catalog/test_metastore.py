"""Registering tables and partitions in Spark's metastore: what is already there is asked of the metastore, not
stated again, and what is new is added."""

from __future__ import annotations

from lakekit.catalog.metastore import add_partitions, register_table
from lakekit.catalog.model import TableDef

TABLE = TableDef(
    layer="test_metastore",
    name="events",
    description="test table",
    format="parquet",
    location="test_metastore/events",
    columns=({"name": "id", "type": "int"}, {"name": "p_date", "type": "string"}),
    partition_keys=("p_date",),
)


def partitions(spark) -> list[str]:
    return sorted(row[0] for row in spark.sql(f"SHOW PARTITIONS {TABLE.qualified_name}").collect())


def test_partitions_registered_once_new_ones_added_odd_values_escaped(spark, tmp_path):
    spark.sql(f"DROP TABLE IF EXISTS {TABLE.qualified_name}")
    register_table(spark, TABLE, str(tmp_path))
    register_table(spark, TABLE, str(tmp_path))  # again: the database and the table are there

    add_partitions(spark, TABLE, [{"p_date": "2026-11-20"}, {"p_date": "a b/c=d%"}])
    assert partitions(spark) == ["p_date=2026-11-20", "p_date=a b%2Fc%3Dd%25"]
    # Known ones (an odd value among them) with a new one: only the new one is added, none is lost.
    add_partitions(spark, TABLE, [{"p_date": "a b/c=d%"}, {"p_date": "2026-11-21"}, {"p_date": "2026-11-20"}])
    assert partitions(spark) == ["p_date=2026-11-20", "p_date=2026-11-21", "p_date=a b%2Fc%3Dd%25"]
    add_partitions(spark, TABLE, [{"p_date": "2026-11-21"}])
    assert partitions(spark) == ["p_date=2026-11-20", "p_date=2026-11-21", "p_date=a b%2Fc%3Dd%25"]
    spark.sql(f"DROP TABLE {TABLE.qualified_name}")
