"""The environment's databases in SQL: `lake query` renames queries/' layers, the Athena DDL creates the same."""

from __future__ import annotations

import pytest

from lakekit.catalog.athena import QueryError, layer_databases, map_databases
from lakekit.catalog.ddl import athena_catalog_ddl
from lakekit.catalog.model import load_table
from lakekit.core.names import Names

DEV = Names.from_conf({"templates": {"database": "{environment}_{layer}"}}, environment="dev")


def test_only_the_database_of_a_table_or_column_is_renamed_and_nothing_else():
    sql = (
        "-- reads curated.orders and raw.x\n"
        "WITH curated AS (SELECT 1 AS n)\n"
        "SELECT curated.orders.amount, 'curated.orders' AS label, c.n\n"
        'FROM curated.orders JOIN "raw".users u ON u.id = orders.user_id\n'
        "CROSS JOIN curated c\n"
        "WHERE EXISTS (SELECT 1 FROM Curated.tasks)"
    )
    assert map_databases(sql, {"curated": "dev_curated", "raw": "dev_raw"}) == (
        "-- reads curated.orders and raw.x\n"
        "WITH curated AS (SELECT 1 AS n)\n"
        "SELECT dev_curated.orders.amount, 'curated.orders' AS label, c.n\n"
        'FROM dev_curated.orders JOIN "dev_raw".users u ON u.id = orders.user_id\n'
        "CROSS JOIN curated c\n"
        "WHERE EXISTS (SELECT 1 FROM dev_curated.tasks)"
    )


def test_the_local_names_leave_the_text_as_written():
    sql = "SELECT  *\nFROM curated.orders -- as written"
    assert map_databases(sql, layer_databases(Names())) == sql


def test_sql_that_does_not_parse_is_a_query_error():
    with pytest.raises(QueryError, match="cannot read the SQL as athena SQL"):
        map_databases("SELECT FROM WHERE (", {"curated": "dev_curated"})


def test_the_ddl_creates_the_databases_and_tables_the_queries_are_renamed_to():
    orders = load_table("curated.orders")
    statements = athena_catalog_ddl("s3://bucket/lake", [orders, load_table("raw.users")], names=DEV)
    assert statements[:2] == ["CREATE DATABASE IF NOT EXISTS `dev_curated`", "CREATE DATABASE IF NOT EXISTS `dev_raw`"]
    assert statements[2].startswith("CREATE EXTERNAL TABLE IF NOT EXISTS `dev_curated`.`orders`\n")
    assert statements[3].startswith("CREATE EXTERNAL TABLE IF NOT EXISTS `dev_raw`.`users` (\n")
    assert map_databases("SELECT * FROM curated.orders", layer_databases(DEV)) == "SELECT * FROM dev_curated.orders"
