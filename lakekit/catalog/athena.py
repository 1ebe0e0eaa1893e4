"""Athena SQL two ways: transpiled by sqlglot to Spark SQL on the local catalog, or run on Athena through boto3."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lakekit.core.session import session_conf


class QueryError(RuntimeError):
    """The SQL could not be read, or the query failed; the message says which query and why."""


# The functions of Athena SQL whose Spark translation (sqlglot's, with the session settings of
# `_ATHENA_CONF`) was checked against Trino's documented semantics, nulls and edge cases included:
# sqlglot expression class -> what was checked. Any other function is refused (an allow-list), so a
# local answer is never silently different from Athena's.
SAME_AS_ATHENA: dict[str, tuple[str, str]] = {
    "Count": ("count", "count(*), count(x), count(DISTINCT x): nulls not counted"),
    "CountIf": ("count_if", "rows where the condition is true; NULL is not true"),
    "Sum": ("sum", "nulls skipped; all-null or no rows: NULL; a decimal keeps its scale; overflow fails (ANSI)"),
    "Min": ("min", "nulls skipped; no rows: NULL"),
    "Max": ("max", "nulls skipped; no rows: NULL"),
    "Coalesce": ("coalesce", "the first non-null argument"),
    "Nullif": ("nullif", "NULL when equal, else the first argument"),
    "If": ("if", "if(p, a[, b]): b (or NULL) when p is false or NULL"),
    "Case": ("CASE", "the ELSE (or NULL) when no branch is true"),
    "Cast": ("CAST", "ANSI casts: a value that cannot be converted fails the query, as on Athena"),
    "TryCast": ("try_cast", "NULL when the value cannot be converted"),
    "Lower": ("lower", "NULL stays NULL"),
    "Upper": ("upper", "NULL stays NULL"),
    "Length": ("length", "characters (code points); NULL stays NULL"),
    "Concat": ("concat", "NULL if any argument is NULL"),
    "Array": ("ARRAY[...]", "the array of its arguments, NULLs kept"),
    "ArraySize": ("cardinality", "NULL for a NULL array (spark.sql.legacy.sizeOfNull=false; Spark's legacy is -1)"),
    "ArrayContains": ("contains", "NULL when the array holds a NULL and no match, or is NULL"),
    "ArraySort": ("array_sort", "array_sort(a): ascending, NULLs last"),
    "ArrayToString": ("array_join", "NULL elements skipped unless a null_replacement is given"),
    "ArrayAgg": ("array_agg", "NULLs kept, no rows: NULL (rewritten: Spark's collect_list drops NULLs)"),
    "DateDiff": ("date_diff", "units millisecond to week: whole units between, truncated toward zero"),
    "TimestampTrunc": ("date_trunc", "weeks start on Monday; the session's time zone is UTC"),
    "Year": ("year", "NULL stays NULL"),
    "Month": ("month", "NULL stays NULL"),
    "Day": ("day", "NULL stays NULL"),
    "Hour": ("hour", "NULL stays NULL"),
    "RowNumber": ("row_number", "window function"),
    "Rank": ("rank", "window function: ties share a rank, gaps after"),
    "DenseRank": ("dense_rank", "window function: ties share a rank, no gaps"),
}
# Functions Spark runs but answers differently: refused with Athena's behaviour named.
DIFFERENT_ON_SPARK: dict[str, str] = {
    "Avg": "Athena averages a decimal at its own scale (avg of 1.0, 0.0, 0.0 is 0.3) and sums integers exactly; "
    "Spark adds four decimal places and sums as double. Write CAST(SUM(x) AS DOUBLE) / COUNT(x)",
    "Round": "Athena keeps the argument's type (a decimal keeps its scale) and rounds a double's binary value "
    "(round(1.005, 2) is 1.0); Spark changes the scale and rounds the decimal text (1.01)",
    "Greatest": "Athena's greatest is NULL when any argument is NULL; Spark skips NULLs",
    "Least": "Athena's least is NULL when any argument is NULL; Spark skips NULLs",
    "Trim": "Athena trims every whitespace character; Spark only spaces",
    "Substring": "substr(s, 0) is '' on Athena and the whole string on Spark",
    "ApproxDistinct": "approximate, with a different error on each engine; count(DISTINCT x) is exact on both",
}
_DATE_DIFF_UNITS = {"MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK"}
# Session settings that make Spark answer as Athena does, applied while a query is analysed.
_ATHENA_CONF = {"spark.sql.legacy.sizeOfNull": "false", "spark.sql.ansi.enabled": "true"}


def _function_name(node) -> str:
    """The function as the SQL names it on Athena (greatest, substr, mystery...)."""
    text = node.sql(dialect="athena")
    return text.split("(", 1)[0].strip().lower() or type(node).__name__.lower()


def check_functions(statement) -> None:
    """Refuse a statement that uses a function not known to give Athena's answer on Spark (see SAME_AS_ATHENA)."""
    from sqlglot import exp

    for node in statement.find_all(exp.Func):
        if isinstance(node, (exp.Binary, exp.Connector, exp.Unary)):
            continue  # operators, not functions
        kind = type(node).__name__
        name = _function_name(node)
        if kind in DIFFERENT_ON_SPARK:
            raise QueryError(
                f"{name}() answers differently on Spark: {DIFFERENT_ON_SPARK[kind]}. "
                "Run it on Athena (--env aws) or as Spark SQL (--dialect spark)"
            )
        if kind not in SAME_AS_ATHENA:
            checked = ", ".join(sorted(_checked_names()))
            raise QueryError(
                f"{name}() is not among the functions checked to give Athena's answer locally ({checked}). "
                "Run it on Athena (--env aws) or as Spark SQL (--dialect spark)"
            )
        if kind == "DateDiff":
            unit = str(node.args.get("unit") or "DAY").strip("'").upper()
            if unit not in _DATE_DIFF_UNITS:
                raise QueryError(
                    f"date_diff('{unit.lower()}', …) is not checked against Athena locally (only "
                    f"{', '.join(u.lower() for u in sorted(_DATE_DIFF_UNITS))}). Run it on Athena (--env aws)"
                )
        if kind == "ArraySort" and node.args.get("expression") is not None:
            raise QueryError("array_sort with a comparator is not checked against Athena locally; run it on Athena")
        if kind == "ArrayAgg" and (
            isinstance(node.this, (exp.Distinct, exp.Order)) or isinstance(node.parent, exp.Window)
        ):
            raise QueryError(
                "array_agg with DISTINCT, ORDER BY or OVER is not checked against Athena locally; run it on Athena"
            )


def _checked_names() -> list[str]:
    return [name for name, _ in SAME_AS_ATHENA.values()]


def _as_athena_answers(statement):
    """Rewrites where sqlglot's Spark SQL would answer differently or not at all.

    array_agg keeps NULLs and gives NULL over no rows on Athena, where Spark's collect_list drops NULLs;
    if(p, a) is NULL when p is not true on Athena, where Spark's if needs its third argument.
    """
    import sqlglot
    from sqlglot import exp

    for node in list(statement.find_all(exp.ArrayAgg)):
        value = node.this.sql(dialect="athena")
        replacement = sqlglot.parse_one(
            f"IF(COUNT(1) = 0, NULL, TRANSFORM(COLLECT_LIST(STRUCT({value} AS v)), e -> e.v))", read="spark"
        )
        node.replace(replacement)
    for node in list(statement.find_all(exp.If)):
        if node.args.get("false") is None:
            node.set("false", exp.Null())
    return statement


def map_databases(sql: str, databases: Mapping[str, str], dialect: str = "athena") -> str:
    """The SQL with each database a table or column names (`<layer>.<table>`) renamed by `databases`
    ({layer: the environment's database}), and nothing else changed: comments, layout and every other
    identifier stay as written. An identity mapping returns the text as it is."""
    wanted = {k.lower(): v for k, v in databases.items() if k.lower() != v.lower()}
    if not wanted:
        return sql
    try:
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import SqlglotError
    except ImportError:
        raise QueryError("mapping database names needs sqlglot: pip install sqlglot (make install does)") from None
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as error:
        raise QueryError(f"cannot read the SQL as {dialect} SQL: {error}".splitlines()[0]) from None
    spans: dict[int, tuple[int, str]] = {}
    for statement in statements:
        for node in [*statement.find_all(exp.Table), *statement.find_all(exp.Column)]:
            identifier = node.args.get("db")
            if not isinstance(identifier, exp.Identifier) or identifier.name.lower() not in wanted:
                continue
            start, end = identifier.meta.get("start"), identifier.meta.get("end")
            if start is None or end is None:
                raise QueryError(f"cannot locate database {identifier.name!r} in the SQL to rename it")
            name = wanted[identifier.name.lower()]
            spans[start] = (end, f"{sql[start]}{name}{sql[end]}" if identifier.quoted else name)
    for start in sorted(spans, reverse=True):
        end, text = spans[start]
        sql = sql[:start] + text + sql[end + 1 :]
    return sql


def layer_databases(names) -> dict[str, str]:
    """{layer: the environment's database} for every layer of catalog/ (`names`: lakekit.core.names.Names)."""
    from lakekit.catalog.model import all_tables

    return {layer: names.database(layer) for layer in sorted({t.layer for t in all_tables()})}


def to_spark_sql(sql: str) -> str:
    """One Athena (Trino) statement as Spark SQL; refused when it uses a function Spark would answer differently."""
    try:
        import sqlglot
        from sqlglot.errors import SqlglotError
    except ImportError:  # a dev dependency: Glue jobs never transpile
        raise QueryError("running Athena SQL locally needs sqlglot: pip install sqlglot (make install does)") from None

    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except SqlglotError as error:
        raise QueryError(f"cannot read the SQL as Athena SQL: {error}".splitlines()[0]) from None
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, found {len(statements)}")
    check_functions(statements[0])
    return _as_athena_answers(statements[0]).sql(dialect="spark")


@contextlib.contextmanager
def _session_for(spark, database: str | None, conf: dict[str, str]) -> Iterator[None]:
    """While a query is analysed: unqualified names resolve in `database`, and `conf` is set; both restored after."""
    saved_database = spark.catalog.currentDatabase()
    if database:
        if not spark.catalog.databaseExists(database):
            known = sorted(d.name for d in spark.catalog.listDatabases())
            raise QueryError(f"database {database!r} does not exist locally; databases: {', '.join(known)}")
        spark.catalog.setCurrentDatabase(database)
    try:
        with session_conf(spark, conf):
            yield
    finally:
        spark.catalog.setCurrentDatabase(saved_database)


def run_spark_sql(spark, spark_sql: str, database: str | None = None, athena: bool = True):
    """The DataFrame of Spark SQL, analysed now: names resolved in `database`, Athena's settings when `athena`."""
    from pyspark.errors import AnalysisException

    try:
        with _session_for(spark, database, _ATHENA_CONF if athena else {}):
            return spark.sql(spark_sql)
    except AnalysisException as error:
        message = " ".join(str(error).split("\n")[0].split())
        raise QueryError(f"Spark cannot run the query: {message}") from None


def run_local(spark, sql: str, database: str | None = None):
    """The DataFrame of an Athena query run by Spark on the local catalog, as Athena would answer it."""
    return run_spark_sql(spark, to_spark_sql(sql), database)


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
    try:
        query_id = client.start_query_execution(**request)["QueryExecutionId"]
    except client.exceptions.InvalidRequestException as error:
        hint = ""
        if "workgroup" in str(error).lower():
            hint = f" (workgroup {workgroup!r}: the environment's stack deploys it; --workgroup names another)"
        raise QueryError(f"Athena refused the query: {error.response['Error'].get('Message', error)}{hint}") from None
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
