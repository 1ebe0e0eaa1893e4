"""Athena SQL two ways: transpiled by sqlglot to Spark SQL on the local catalog, or run on Athena through boto3."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


class QueryError(RuntimeError):
    """The SQL could not be read, or the query failed; the message says which query and why."""


def to_spark_sql(sql: str) -> str:
    """One Athena (Trino) statement as Spark SQL."""
    try:
        import sqlglot
        from sqlglot.errors import SqlglotError
    except ImportError:  # a dev dependency: Glue jobs never transpile
        raise QueryError("running Athena SQL locally needs sqlglot: pip install sqlglot (make install does)") from None

    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except SqlglotError as error:
        raise QueryError(f"cannot read the SQL as Athena SQL: {error}") from None
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, found {len(statements)}")
    return statements[0].sql(dialect="spark")


def run_local(spark, sql: str):
    """The DataFrame of an Athena query run by Spark on the local catalog."""
    return spark.sql(to_spark_sql(sql))


@dataclass(frozen=True)
class AthenaResult:
    query_execution_id: str
    columns: list[str]
    types: list[str]
    rows: list[tuple]
    truncated: bool  # more rows than were fetched


_INTEGERS = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOATS = {"real", "float", "double"}


def _value(text: str | None, athena_type: str) -> Any:
    """Athena returns every value as text; numbers and booleans become Python values again."""
    if text is None:
        return None
    kind = athena_type.lower()
    if kind in _INTEGERS:
        return int(text)
    if kind in _FLOATS:
        return float(text)
    if kind == "decimal":
        return Decimal(text)
    if kind == "boolean":
        return text.lower() == "true"
    return text


def _wait(client, query_id: str, poll_seconds: float, timeout_seconds: float, sleep: Callable) -> None:
    deadline = time.monotonic() + timeout_seconds
    while True:
        status = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        state = status["State"]
        if state == "SUCCEEDED":
            return
        if state in ("FAILED", "CANCELLED"):
            reason = status.get("AthenaError", {}).get("ErrorMessage") or status.get("StateChangeReason") or "no reason"
            raise QueryError(f"Athena query {query_id} {state}: {reason}")
        if time.monotonic() > deadline:
            client.stop_query_execution(QueryExecutionId=query_id)
            raise QueryError(f"Athena query {query_id} still {state} after {timeout_seconds:.0f}s: stopped")
        sleep(poll_seconds)


def _pages(client, query_id: str) -> Iterator[dict]:
    paginator = client.get_paginator("get_query_results")
    yield from paginator.paginate(QueryExecutionId=query_id, PaginationConfig={"PageSize": 1000})


def run_athena(
    sql: str,
    *,
    database: str,
    workgroup: str,
    output_location: str | None,
    client=None,
    limit: int | None = None,
    poll_seconds: float = 1.0,
    timeout_seconds: float = 1800.0,
    sleep: Callable[[float], None] = time.sleep,
) -> AthenaResult:
    """Start the query, wait for it, and page through its results (the SQL goes to Athena as written)."""
    if client is None:
        import boto3

        client = boto3.client("athena")
    request: dict[str, Any] = {
        "QueryString": sql,
        "QueryExecutionContext": {"Database": database},
        "WorkGroup": workgroup,
    }
    if output_location:
        request["ResultConfiguration"] = {"OutputLocation": output_location}
    query_id = client.start_query_execution(**request)["QueryExecutionId"]
    _wait(client, query_id, poll_seconds, timeout_seconds, sleep)
    columns: list[str] = []
    types: list[str] = []
    rows: list[tuple] = []
    truncated = False
    for number, page in enumerate(_pages(client, query_id)):
        result_set = page["ResultSet"]
        if number == 0:
            info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
            columns = [c["Name"] for c in info]
            types = [c["Type"] for c in info]
        page_rows = [[d.get("VarCharValue") for d in r.get("Data", [])] for r in result_set.get("Rows", [])]
        if number == 0 and page_rows and page_rows[0] == columns:
            page_rows = page_rows[1:]  # a SELECT's first row repeats the column names
        for values in page_rows:
            if limit is not None and len(rows) >= limit:
                truncated = True
                break
            rows.append(tuple(_value(v, t) for v, t in zip(values, types, strict=False)))
        if truncated:
            break
    return AthenaResult(query_id, columns, types, rows, truncated)
