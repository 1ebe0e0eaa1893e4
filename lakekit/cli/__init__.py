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
from lakekit.cli import events
from lakekit.cli import features as table_features
from lakekit.cli.output import print_rows
from lakekit.core import registry
from lakekit.core.job import JobError, unlock_job
from lakekit.core.settings import DEFAULT_ENV, ConfigError, load_settings, require_lake_root
from lakekit.core.state import Bookmarks
from lakekit.core.storage import LockedError


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and the command's --help named) instead of the usage text."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.replace("-", "_"), value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lake-root", help="lake root (default: $LAKE_ROOT, else conf/<env>.yaml)")
    parser.add_argument("--env", help="settings from conf/<env>.yaml (default: $LAKE_ENV, else local)")
    parser.add_argument("--verbose", action="store_true", help="show Spark's own warnings and INFO lines")


def _lake(ns):
    """The settings of a command that reads or writes the lake: its root must exist (`lake init` makes it)."""
    return require_lake_root(load_settings(ns.env, ns.lake_root))


class _JobHelp(argparse.Action):
    """`lake run JOB --help`: the job's arguments with their defaults and accepted values."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show this help (with JOB: its arguments)"
        )

    def __call__(self, parser, namespace, values, option_string=None):
        name = getattr(namespace, "job", None)
        if not name:
            parser.print_help()
            parser.exit()
        try:
            job = registry.job(name)
        except registry.UnknownJobError as error:
            parser.exit(2, f"lake: {error}\n")
        print(f"usage: lake run {name} [--lake-root DIR] [--env ENV] [--verbose] [--arg KEY=VALUE ...]\n")
        if job.description:
            print(f"{job.description}\n")
        specs = {k: v for k, v in job.option_specs().items() if k not in ("env", "lake_root")}
        print("arguments (--arg KEY=VALUE):")
        rows = [
            (key, spec.accepts, "-" if spec.default is None else spec.default, spec.help) for key, spec in specs.items()
        ]
        widths = [max(len(r[i]) for r in [("KEY", "VALUES", "DEFAULT", ""), *rows]) for i in range(3)]
        print(f"  {'KEY'.ljust(widths[0])}  {'VALUES'.ljust(widths[1])}  {'DEFAULT'.ljust(widths[2])}  WHAT")
        for row in rows:
            print(f"  {row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2].ljust(widths[2])}  {row[3]}")
        parser.exit()


def cmd_run(ns) -> int:
    args = dict(ns.arg or [])
    registry.check_job_args([ns.job], args, f"job {ns.job}")
    require_lake_root(load_settings(ns.env, ns.lake_root))
    registry.run_job(ns.job, registry.job_argv(ns.job, ns.lake_root, ns.env, args))
    return 0


def cmd_workflow(ns) -> int:
    steps = registry.workflow(ns.name)
    registry.check_job_args([step.job for step in steps], dict(ns.arg or []), f"workflow {ns.name}")
    require_lake_root(load_settings(ns.env, ns.lake_root))
    for number, step in enumerate(steps, 1):
        print(f"== workflow {ns.name}: step {number}/{len(steps)} {step.job}", flush=True)
        try:
            registry.run_job(step.job, registry.job_argv(step, ns.lake_root, ns.env, dict(ns.arg or [])))
        except Exception:
            print(f"== workflow {ns.name}: {step.job} failed; later steps not run", file=sys.stderr, flush=True)
            raise
    print(f"== workflow {ns.name}: {len(steps)} job(s) succeeded", flush=True)
    return 0


def _position_summary(position: dict) -> str:
    """A bookmark's position in a few words: each key with its count (lists, maps) or its value."""
    parts = []
    for key, value in sorted(position.items()):
        if isinstance(value, (list, dict)):
            parts.append(f"{key}: {len(value)}")
        else:
            parts.append(f"{key}: {value}")
    return ", ".join(parts) or "-"


def cmd_bookmarks(ns) -> int:
    settings = _lake(ns)
    marks = Bookmarks(settings)
    if ns.action == "show":
        known = registry.job_names()
        if ns.job and ns.job not in known and ns.job not in marks.jobs():
            raise registry.UnknownJobError(f"unknown job {ns.job!r}; jobs: {', '.join(known)}")
        names = [ns.job] if ns.job else sorted(set(known) | set(marks.jobs()))
        documents = {name: marks.load(name) for name in names}
        if ns.format == "json":
            for name in names:
                document = documents[name]
                print(
                    json.dumps(
                        {"job": name, "updated_at": document.get("updated_at"), "position": document.get("position")}
                    )
                )
            return 0
        rows = [
            (name, documents[name].get("updated_at") or "-", _position_summary(documents[name].get("position") or {}))
            if documents[name]
            else (name, "-", "no bookmark: the next run processes everything")
            for name in names
        ]
        print_rows(["job", "updated_at_utc", "position"], rows, "table")
        return 0
    if not ns.job:
        raise ConfigError(f"`lake bookmarks {ns.action}` needs a JOB")
    if ns.action == "reset":
        marks.delete(ns.job)
        print(f"bookmark of {ns.job} reset: its next run processes everything again")
    else:  # unlock
        try:
            done = unlock_job(settings, ns.job, force=ns.force)
        except LockedError as error:
            raise JobError(f"lock of {ns.job} not removed: {error}") from None
        print(f"lock of {ns.job}: {done}")
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
        database=ns.database or "curated",
        workgroup=ns.workgroup or os.environ.get("LAKE_ATHENA_WORKGROUP") or "primary",
        output_location=output,
        limit=limit,
    )
    print_rows(result.columns, result.rows, ns.format, result.truncated)
    return 0


def _read_sql(ns) -> str:
    if ns.execute:
        return ns.execute
    try:
        return Path(ns.file).read_text()
    except FileNotFoundError:
        raise QueryError(f"no such SQL file: {ns.file}") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise QueryError(f"cannot read {ns.file}: {error.__class__.__name__}") from None


def cmd_query(ns) -> int:
    sql = _read_sql(ns)
    limit = ns.limit if ns.limit > 0 else None
    if _env_name(ns) != DEFAULT_ENV:
        return _query_on_athena(ns, sql, limit)
    from pyspark.errors.exceptions.captured import CapturedException

    from lakekit.catalog.athena import run_spark_sql, to_spark_sql
    from lakekit.core.session import get_spark

    spark_sql = sql if ns.dialect == "spark" else to_spark_sql(sql)
    if ns.show_sql:
        print(spark_sql, file=sys.stderr)
    spark = get_spark(_lake(ns))
    database = ns.database or ("curated" if spark.catalog.databaseExists("curated") else None)
    result_df = run_spark_sql(spark, spark_sql, database, athena=ns.dialect == "athena")
    try:
        rows = (result_df.limit(limit + 1) if limit else result_df).collect()
    except CapturedException as error:  # a failure while running (a cast that fails, an overflow)
        raise QueryError(f"the query failed: {' '.join(str(error).split(chr(10))[0].split())}") from None
    truncated = limit is not None and len(rows) > limit
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

    settings = _lake(ns)
    results = crawl(get_spark(settings), settings, ns.target, ns.database)
    if not results:
        print(f"no table folder with data under {ns.target}")
    for result in results:
        for line in result.report():
            print(line)
    if any(result.error for result in results):
        return 2
    drifted = [result.table for result in results if result.drift]
    if drifted:
        print(f"lake: schema drift in {', '.join(drifted)}: not applied (see above)", file=sys.stderr)
        return 3
    return 0


def cmd_tables(ns) -> int:
    from lakekit.catalog.inventory import describe_tables
    from lakekit.core.session import get_spark

    settings = _lake(ns)
    infos = [info.as_row() for info in describe_tables(get_spark(settings), settings)]
    columns = ["table", "layer", "format", "partitions", "rows", "last_update_utc", "defined_in"]
    print_rows(columns, [tuple(info[c] for c in columns) for info in infos], ns.format)
    return 0


def cmd_init(ns) -> int:
    """Make the lake root (locally a folder, with landing/ for sources to land in); nothing to make on S3."""
    settings = load_settings(ns.env, ns.lake_root)
    if not settings.is_local:
        print(f"{settings.lake_root}: an S3 prefix needs no creating; jobs write under it")
        return 0
    root = Path(settings.lake_root.removeprefix("file://"))
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} exists and is not a folder")
    existed = root.is_dir()
    (root / "landing").mkdir(parents=True, exist_ok=True)
    print(f"lake root {root} {'already exists' if existed else 'created'} (land sources under {root / 'landing'})")
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
    top = _Parser(prog="lake", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)

    init = sub.add_parser("init", help="make the lake root (a folder with landing/; nothing to make on S3)")
    _common(init)
    init.set_defaults(func=cmd_init)

    run = sub.add_parser("run", help="run one job as Glue runs its script", add_help=False)
    run.add_argument("-h", "--help", action=_JobHelp)
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
    flow_sub = flow.add_subparsers(dest="action", required=True, parser_class=_Parser)
    flow_run = flow_sub.add_parser("run")
    flow_run.add_argument("name", help=f"one of: {', '.join(sorted(registry.workflows()))}")
    _common(flow_run)
    flow_run.add_argument("--arg", action="append", type=_key_value, metavar="KEY=VALUE")
    flow_run.set_defaults(func=cmd_workflow)

    marks = sub.add_parser("bookmarks", help="show, reset or unlock job bookmarks")
    marks.add_argument("action", choices=["show", "reset", "unlock"])
    marks.add_argument("job", nargs="?")
    marks.add_argument("--format", choices=["table", "json"], default="table", help="show: a table, or JSON lines")
    marks.add_argument(
        "--force", action="store_true", help="unlock: remove the lock even if another owner's run holds it"
    )
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
    query.add_argument(
        "--database", help="where unqualified table names resolve (default curated), locally and on Athena"
    )
    query.add_argument("--workgroup", help="Athena: workgroup (default $LAKE_ATHENA_WORKGROUP, else primary)")
    query.add_argument(
        "--output-location",
        help="Athena: results location (default $LAKE_ATHENA_OUTPUT, else <lake root>/_athena_results/)",
    )
    _common(query)
    query.set_defaults(func=cmd_query)

    catalog = sub.add_parser("catalog", help="the catalog/ tables as Athena DDL")
    catalog_sub = catalog.add_subparsers(dest="action", required=True, parser_class=_Parser)
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
    jars.add_argument("--verbose", action="store_true", help="show Spark's own warnings and INFO lines")
    jars.add_argument("--s3", action="store_true", help="also hadoop-aws 3.3.4 and its AWS SDK bundle (S3A)")
    jars.set_defaults(func=cmd_jars)

    table_features.add_parser(sub)
    events.add_parsers(sub, _common)
    return top


def main(argv: list[str] | None = None) -> int:
    try:
        ns = parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or a bad command line (2, its one-line message printed)
        return stop.code if isinstance(stop.code, int) else 2
    if getattr(ns, "verbose", False):
        os.environ["LAKE_VERBOSE"] = "1"  # read where the SparkSession is made
    try:
        return ns.func(ns)
    except (JobError, ConfigError, registry.UnknownJobError, QueryError, CatalogError, CrawlError) as error:
        print(f"lake: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
