"""Athena SQL run locally answers as Athena does: each function on the allow-list is checked on NULLs and
edge cases against Trino's documented answer (written here by hand); the others are refused by name."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from lakekit.catalog.athena import DIFFERENT_ON_SPARK, SAME_AS_ATHENA, QueryError, run_local, to_spark_sql

# (Athena SQL, the row Athena returns). Each function of SAME_AS_ATHENA appears at least once.
ATHENA_ANSWERS = [
    ("SELECT count(*), count(x), count(DISTINCT x) FROM (VALUES 1, NULL, 1) AS t(x)", (3, 2, 1)),
    ("SELECT count_if(x > 1), count_if(x IS NULL) FROM (VALUES 1, 2, NULL) AS t(x)", (1, 1)),
    ("SELECT sum(x), min(x), max(x) FROM (VALUES CAST(NULL AS INTEGER)) AS t(x)", (None, None, None)),
    (
        "SELECT sum(x), min(x), max(x) FROM (VALUES 1.50, NULL, 2.25) AS t(x)",
        (Decimal("3.75"), Decimal("1.50"), Decimal("2.25")),
    ),
    ("SELECT count(*), sum(x), max(x) FROM (VALUES 1) AS t(x) WHERE x > 1", (0, None, None)),
    ("SELECT coalesce(NULL, 2, 3), nullif(1, 1), nullif(1, 2), if(NULL, 1, 2), if(false, 1)", (2, None, 1, 2, None)),
    (
        "SELECT CASE WHEN b THEN 'a' END, CASE 1 WHEN 2 THEN 'b' ELSE 'c' END "
        "FROM (VALUES CAST(NULL AS BOOLEAN)) AS t(b)",
        (None, "c"),
    ),
    ("SELECT CAST('12' AS INTEGER), try_cast('abc' AS INTEGER), CAST(NULL AS VARCHAR)", (12, None, None)),
    ("SELECT lower(NULL), upper('ab'), length('é'), length(NULL)", (None, "AB", 1, None)),
    ("SELECT concat('a', NULL), concat('a', 'b')", (None, "ab")),
    ("SELECT cardinality(CAST(NULL AS ARRAY(INTEGER))), cardinality(ARRAY[]), cardinality(ARRAY[NULL])", (None, 0, 1)),
    (
        "SELECT contains(ARRAY[1, NULL], 2), contains(ARRAY[1, NULL], 1), contains(ARRAY[1], CAST(NULL AS INTEGER))",
        (None, True, None),
    ),
    ("SELECT array_sort(ARRAY[3, NULL, 1])", ([1, 3, None],)),
    ("SELECT array_join(ARRAY['a', NULL, 'b'], ','), array_join(ARRAY['a', NULL], ',', 'x')", ("a,b", "a,x")),
    ("SELECT array_sort(array_agg(x)) FROM (VALUES 'b', NULL, 'a') AS t(x)", (["a", "b", None],)),
    ("SELECT array_agg(x) FROM (VALUES 1) AS t(x) WHERE x > 5", (None,)),
    (
        "SELECT date_diff('hour', TIMESTAMP '2026-01-01 00:00:00', TIMESTAMP '2026-01-01 02:59:59'), "
        "date_diff('hour', TIMESTAMP '2026-01-01 02:59:59', TIMESTAMP '2026-01-01 00:00:00'), "
        "date_diff('day', TIMESTAMP '2026-01-01 23:00:00', TIMESTAMP '2026-01-02 01:00:00'), "
        "date_diff('day', NULL, TIMESTAMP '2026-01-02 01:00:00')",
        (2, -2, 0, None),
    ),
    (
        "SELECT date_trunc('week', TIMESTAMP '2026-11-19 10:00:00'), "
        "date_trunc('day', TIMESTAMP '2026-11-19 10:00:00')",
        (datetime(2026, 11, 16), datetime(2026, 11, 19)),  # 2026-11-19 is a Thursday: its week began Monday 16
    ),
    (
        "SELECT year(t), month(t), day(t), hour(t), year(NULL) FROM (VALUES TIMESTAMP '2026-11-19 10:00:00') AS v(t)",
        (2026, 11, 19, 10, None),
    ),
]
WINDOW_SQL = (
    "SELECT x, row_number() OVER (ORDER BY x) AS n, rank() OVER (ORDER BY x) AS r, "
    "dense_rank() OVER (ORDER BY x) AS d FROM (VALUES 1, 1, 2) AS t(x) ORDER BY n"
)


def test_every_checked_function_is_exercised_below():
    import sqlglot
    from sqlglot import exp

    used = {
        type(node).__name__
        for sql, _ in [*ATHENA_ANSWERS, (WINDOW_SQL, None)]
        for node in sqlglot.parse_one(sql, read="athena").find_all(exp.Func)
    }
    assert set(SAME_AS_ATHENA) <= used


@pytest.mark.parametrize("sql, expected", ATHENA_ANSWERS, ids=[sql[7:40] for sql, _ in ATHENA_ANSWERS])
def test_a_checked_function_gives_athenas_answer(spark, sql, expected):
    assert tuple(run_local(spark, sql).collect()[0]) == expected


def test_window_functions_rank_ties_as_athena(spark):
    assert [tuple(r) for r in run_local(spark, WINDOW_SQL).collect()] == [(1, 1, 1, 1), (1, 2, 1, 1), (2, 3, 3, 2)]


def test_a_cast_that_fails_on_athena_fails_locally(spark):
    with pytest.raises(Exception, match="CAST_INVALID_INPUT"):
        run_local(spark, "SELECT CAST('abc' AS INTEGER)").collect()


def test_the_session_is_left_as_it_was(spark):
    """Athena's settings apply while a query is analysed only: the jobs' own session keeps Spark's."""
    run_local(spark, "SELECT cardinality(ARRAY[1])")
    assert spark.conf.get("spark.sql.ansi.enabled") == "false"
    assert spark.sql("SELECT size(CAST(NULL AS ARRAY<INT>))").collect()[0][0] == -1
    assert spark.catalog.currentDatabase() == "default"


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT avg(x) FROM t", "avg() answers differently on Spark: Athena averages a decimal at its own scale"),
        ("SELECT round(x, 2) FROM t", "round() answers differently on Spark"),
        ("SELECT greatest(a, b) FROM t", "greatest() answers differently on Spark: Athena's greatest is NULL"),
        ("SELECT least(a, b) FROM t", "least() answers differently on Spark"),
        ("SELECT trim(a) FROM t", "trim() answers differently on Spark"),
        ("SELECT substr(a, 0) FROM t", "substr() answers differently on Spark"),
        ("SELECT approx_distinct(a) FROM t", "approx_distinct() answers differently on Spark"),
        ("SELECT mystery(a) FROM t", "mystery() is not among the functions checked to give Athena's answer locally"),
        ("SELECT strpos(a, 'b') FROM t", "strpos() is not among the functions checked"),
        ("SELECT date_diff('month', a, b) FROM t", "date_diff('month', …) is not checked against Athena locally"),
        ("SELECT array_agg(DISTINCT a) FROM t", "array_agg with DISTINCT, ORDER BY or OVER is not checked"),
    ],
)
def test_a_function_spark_answers_differently_is_refused_by_name(sql, message):
    with pytest.raises(QueryError) as raised:
        to_spark_sql(sql)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_every_refused_function_has_a_reason():
    assert set(DIFFERENT_ON_SPARK) == {"Avg", "Round", "Greatest", "Least", "Trim", "Substring", "ApproxDistinct"}
    assert not set(DIFFERENT_ON_SPARK) & set(SAME_AS_ATHENA)
