"""`lake`: run jobs and workflows, look at bookmarks, query the lake."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from lakekit.catalog.athena import QueryError
from lakekit.catalog.crawler import CrawlError
from lakekit.catalog.model import CatalogError
from lakekit.cli.output import plain, print_rows
from lakekit.core import registry
from lakekit.core.job import JobError, lock_path
from lakekit.core.settings import DEFAULT_ENV, ConfigError, load_settings
from lakekit.core.state import Bookmarks
from lakekit.core.storage import storage_for


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.replace("-", "_"), value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lake-root", help="lake root (default: $LAKE_ROOT, else conf/<env>.yaml)")
    parser.add_argument("--env", help="settings from conf/<env>.yaml (default: $LAKE_ENV, else local)")


def cmd_run(ns) -> int:
    args = dict(ns.arg or [])
    registry.run_job(ns.job, registry.job_argv(ns.job, ns.lake_root, ns.env, args))
    return 0


def cmd_workflow(ns) -> int:
    steps = registry.workflow(ns.name)
    for number, step in enumerate(steps, 1):
        print(f"== workflow {ns.name}: step {number}/{len(steps)} {step.job}", flush=True)
        try:
            registry.run_job(step.job, registry.job_argv(step, ns.lake_root, ns.env, dict(ns.arg or [])))
        except Exception:
            print(f"== workflow {ns.name}: {step.job} failed; later steps not run", file=sys.stderr, flush=True)
            raise
    print(f"== workflow {ns.name}: {len(steps)} job(s) succeeded", flush=True)
    return 0


def cmd_bookmarks(ns) -> int:
    settings = load_settings(ns.env, ns.lake_root)
    marks = Bookmarks(settings)
    if ns.action == "show":
        names = [ns.job] if ns.job else marks.jobs()
        if not names:
            print(f"no bookmarks under {settings.path('_state', 'bookmarks')}")
        for name in names:
            document = marks.load(name)
            print(json.dumps({"job": name, **document} if document else {"job": name, "position": None}, indent=1))
        return 0
    if not ns.job:
        raise ConfigError(f"`lake bookmarks {ns.action}` needs a JOB")
    if ns.action == "reset":
        marks.delete(ns.job)
        print(f"bookmark of {ns.job} reset: its next run processes everything again")
    else:  # unlock
        storage_for(settings.lake_root).delete(lock_path(settings, ns.job))
        print(f"lock of {ns.job} removed")
    return 0


def _env_name(ns) -> str:
    return ns.env or os.environ.get("LAKE_ENV") or DEFAULT_ENV


def _query_on_athena(ns, sql: str, limit: int | None) -> int:
    from lakekit.catalog.athena import run_athena

    output = ns.output_location or os.environ.get("LAKE_ATHENA_OUTPUT")
    if not output:
        try:
            output = load_settings(ns.env, ns.lake_root).path("_athena_results") + "/"
        except ConfigError:
            raise ConfigError(
                "Athena needs a result location: pass --output-location s3://…/ or --lake-root s3://… "
                "(or set LAKE_ATHENA_OUTPUT)"
            ) from None
    result = run_athena(
        sql,
        database=ns.database,
        workgroup=ns.workgroup or os.environ.get("LAKE_ATHENA_WORKGROUP") or "primary",
        output_location=output,
        limit=limit,
    )
    print_rows(result.columns, result.rows, ns.format, result.truncated)
    return 0


def cmd_query(ns) -> int:
    sql = ns.execute if ns.execute else Path(ns.file).read_text()
    limit = ns.limit if ns.limit > 0 else None
    if _env_name(ns) != DEFAULT_ENV:
        return _query_on_athena(ns, sql, limit)
    from pyspark.errors import AnalysisException

    from lakekit.catalog.athena import to_spark_sql
    from lakekit.core.session import get_spark

    spark_sql = sql if ns.dialect == "spark" else to_spark_sql(sql)
    if ns.show_sql:
        print(spark_sql, file=sys.stderr)
    spark = get_spark(load_settings(ns.env, ns.lake_root))
    try:
        result_df = spark.sql(spark_sql)
    except AnalysisException as error:
        raise QueryError(f"Spark cannot run the query: {error}\nSpark SQL was:\n{spark_sql}") from None
    rows = (result_df.limit(limit + 1) if limit else result_df).collect()
    truncated = limit is not None and len(rows) > limit
    if ns.format == "json":
        rows = [tuple(plain(v) for v in row) for row in rows]  # structs as objects, not Row reprs
    print_rows(result_df.columns, rows[:limit], ns.format, truncated)
    return 0


def cmd_catalog(ns) -> int:
    from lakekit.catalog.ddl import athena_catalog_ddl
    from lakekit.catalog.model import load_table

    settings = load_settings(ns.env, ns.lake_root)
    tables = [load_table(name) for name in ns.table] if ns.table else None
    statements = athena_catalog_ddl(settings.lake_root, tables, ns.projection_start)
    print("\n\n".join(f"{statement};" for statement in statements))
    return 0


def cmd_crawl(ns) -> int:
    from lakekit.catalog.crawler import crawl
    from lakekit.core.session import get_spark

    settings = load_settings(ns.env, ns.lake_root)
    results = crawl(get_spark(settings), settings, ns.target, ns.database)
    if not results:
        print(f"no table folder with data under {ns.target}")
    for result in results:
        for line in result.report():
            print(line)
    return 2 if any(result.error for result in results) else 0


def cmd_tables(ns) -> int:
    from lakekit.catalog.inventory import describe_tables
    from lakekit.core.session import get_spark

    settings = load_settings(ns.env, ns.lake_root)
    infos = [info.as_row() for info in describe_tables(get_spark(settings), settings)]
    columns = ["table", "layer", "format", "partitions", "rows", "last_update_utc", "defined_in"]
    print_rows(columns, [tuple(info[c] for c in columns) for info in infos], ns.format)
    return 0


def cmd_jars(ns) -> int:
    """Resolve the Delta jars (and with --s3 the S3A ones) once and record them for offline starts."""
    from lakekit.core.session import DELTA_PACKAGE, S3A_PACKAGE, cached_jars, record_jars, resolve_jars

    packages = [DELTA_PACKAGE] + ([S3A_PACKAGE] if ns.s3 else [])
    found: list[str] = []
    for package in packages:
        jars = cached_jars(package)
        if jars and not ns.force:
            found += jars
            continue
        if ns.classpath:
            raise ConfigError(f"no jars cached yet for {package}: run `lake jars{' --s3' if ns.s3 else ''}` first")
        jars = resolve_jars(package)
        found += jars
        if not ns.classpath:
            print(f"cached {len(jars)} jar(s) of {package} listed in {record_jars(package, jars)}")
    print(",".join(found) if ns.classpath else f"jars cached: {', '.join(found)}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="lake", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one job as Glue runs its script")
    run.add_argument("job", help=f"one of: {', '.join(registry.job_names())}")
    _common(run)
    run.add_argument(
        "--arg",
        action="append",
        type=_key_value,
        metavar="KEY=VALUE",
        help="a job argument, passed as --KEY VALUE (e.g. job-bookmark-option=job-bookmark-pause)",
    )
    run.set_defaults(func=cmd_run)

    flow = sub.add_parser("workflow", help="run a workflow's jobs in order")
    flow_sub = flow.add_subparsers(dest="action", required=True)
    flow_run = flow_sub.add_parser("run")
    flow_run.add_argument("name", help=f"one of: {', '.join(sorted(registry.workflows()))}")
    _common(flow_run)
    flow_run.add_argument("--arg", action="append", type=_key_value, metavar="KEY=VALUE")
    flow_run.set_defaults(func=cmd_workflow)

    marks = sub.add_parser("bookmarks", help="show, reset or unlock job bookmarks")
    marks.add_argument("action", choices=["show", "reset", "unlock"])
    marks.add_argument("job", nargs="?")
    _common(marks)
    marks.set_defaults(func=cmd_bookmarks)

    query = sub.add_parser(
        "query", help="run Athena SQL: locally transpiled to Spark SQL on the lake's catalog; with --env aws on Athena"
    )
    source = query.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", help="a .sql file")
    source.add_argument("-e", "--execute", help="SQL text")
    query.add_argument("--format", choices=["table", "csv", "json"], default="table")
    query.add_argument("--limit", type=int, default=20, help="rows to print (0: all)")
    query.add_argument(
        "--dialect", choices=["athena", "spark"], default="athena", help="locally: the SQL's dialect (default athena)"
    )
    query.add_argument("--show-sql", action="store_true", help="locally: print the Spark SQL to stderr")
    query.add_argument("--database", default="curated", help="Athena: default database (default curated)")
    query.add_argument("--workgroup", help="Athena: workgroup (default $LAKE_ATHENA_WORKGROUP, else primary)")
    query.add_argument(
        "--output-location",
        help="Athena: results location (default $LAKE_ATHENA_OUTPUT, else <lake root>/_athena_results/)",
    )
    _common(query)
    query.set_defaults(func=cmd_query)

    catalog = sub.add_parser("catalog", help="the catalog/ tables as Athena DDL")
    catalog_sub = catalog.add_subparsers(dest="action", required=True)
    ddl = catalog_sub.add_parser("ddl", help="print CREATE statements for Athena (default: every catalog/ table)")
    ddl.add_argument("table", nargs="*", help="layer.name of the tables (default: all)")
    ddl.add_argument(
        "--projection-start", default="2024-01-01", help="first p_date Athena projects (yyyy-MM-dd; default 2024-01-01)"
    )
    _common(ddl)
    ddl.set_defaults(func=cmd_catalog)

    crawl = sub.add_parser(
        "crawl", help="register the tables of Parquet/JSON/Delta folders, their partitions, report schema drift"
    )
    crawl.add_argument("target", help="a layer (folder under the lake root, e.g. raw) or a path to a folder")
    crawl.add_argument("--database", help="database of the tables (default: the layer or parent folder name)")
    _common(crawl)
    crawl.set_defaults(func=cmd_crawl)

    tables = sub.add_parser("tables", help="every table: layer, format, partitions, rows, last update")
    tables.add_argument("--format", choices=["table", "csv", "json"], default="table")
    _common(tables)
    tables.set_defaults(func=cmd_tables)

    jars = sub.add_parser("jars", help="resolve and cache the jars Spark needs (Delta)")
    jars.add_argument("--force", action="store_true", help="resolve again even if cached")
    jars.add_argument("--classpath", action="store_true", help="print the cached jars comma-separated (for --jars)")
    jars.add_argument("--s3", action="store_true", help="also hadoop-aws 3.3.4 and its AWS SDK bundle (S3A)")
    jars.set_defaults(func=cmd_jars)
    return top


def main(argv: list[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    try:
        return ns.func(ns)
    except (JobError, ConfigError, registry.UnknownJobError, QueryError, CatalogError, CrawlError) as error:
        print(f"lake: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
