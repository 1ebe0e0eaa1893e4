"""`lake`: run jobs and workflows, look at bookmarks and tables, query the lake.

One grammar: noun then verb (`lake job run JOB`, `lake table list`), and three commands on the lake as a
whole (`lake init`, `lake query`, `lake serve`) plus `lake jars` for Spark's own set-up. Exit status: 0
done, 1 a handled failure (a job or check failed, a conf error: the message says why), 2 a usage error
(the command line itself: argparse's errors, an unknown job, workflow, table or argument). docs/cli.md
has the full reference.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from lakekit.catalog.athena import QueryError
from lakekit.catalog.crawler import CrawlError
from lakekit.catalog.model import CatalogError
from lakekit.cli import events, jobs
from lakekit.cli import features as table_features
from lakekit.cli.jobs import UsageError, current_job
from lakekit.cli.output import print_rows
from lakekit.core import registry
from lakekit.core.job import JobError, unlock_job
from lakekit.core.settings import DEFAULT_ENV, ConfigError, load_names, load_settings, require_lake_root
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
    # A job's bookmark and lock are under its state name (a renamed job's old name); a bookmark of no job
    # declared is shown under its own name.
    state = {name: job.state_name for name, job in registry.jobs().items()}
    if ns.action == "show":
        known = registry.job_names()
        if ns.job and ns.job not in known and ns.job not in marks.jobs():
            raise registry.UnknownJobError(f"unknown job {ns.job!r}; jobs: {', '.join(known)}")
        kept = set(state.values())
        names = [ns.job] if ns.job else sorted(set(known) | {name for name in marks.jobs() if name not in kept})
        documents = {name: marks.load(state.get(name, name)) for name in names}
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
        raise UsageError(f"`lake bookmark {ns.action}` needs a JOB")
    if ns.action == "reset":
        marks.delete(state.get(ns.job, ns.job))
        done = "reset: its next run processes everything again"
        text = f"bookmark of {ns.job} {done}"
    else:  # unlock
        try:
            done = unlock_job(settings, state.get(ns.job, ns.job), force=ns.force)
        except LockedError as error:
            raise JobError(f"lock of {ns.job} not removed: {error}") from None
        text = f"lock of {ns.job}: {done}"
    print(json.dumps({"job": ns.job, "action": ns.action, "result": done}) if ns.format == "json" else text)
    return 0


def _env_name(ns) -> str:
    return ns.env or os.environ.get("LAKE_ENV") or DEFAULT_ENV


def _query_on_athena(ns, sql: str, limit: int | None) -> int:
    from lakekit.catalog.athena import layer_databases, map_databases, run_athena

    output = ns.output_location or os.environ.get("LAKE_ATHENA_OUTPUT")
    if not output:
        try:
            output = load_settings(ns.env, ns.lake_root).path("_athena_results") + "/"
        except ConfigError as error:
            if "lake root" not in str(error):
                raise
            raise ConfigError(
                "Athena needs a result location: pass --output-location s3://…/ or --lake-root s3://… "
                "(or set LAKE_ATHENA_OUTPUT)"
            ) from None
    names = load_names(ns.env)
    # queries/ say curated.x and raw.x: the environment's databases, as the deployed named queries have them.
    result = run_athena(
        map_databases(sql, layer_databases(names)),
        database=ns.database or names.database("curated"),
        workgroup=ns.workgroup or os.environ.get("LAKE_ATHENA_WORKGROUP") or names.workgroup(),
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

    from lakekit.catalog.athena import layer_databases, map_databases, run_spark_sql, to_spark_sql
    from lakekit.core.session import get_spark

    settings = _lake(ns)
    sql = map_databases(sql, layer_databases(settings.names), ns.dialect)
    spark_sql = sql if ns.dialect == "spark" else to_spark_sql(sql)
    if ns.show_sql:
        print(spark_sql, file=sys.stderr)
    spark = get_spark(settings)
    curated = settings.names.database("curated")
    database = ns.database or (curated if spark.catalog.databaseExists(curated) else None)
    result_df = run_spark_sql(spark, spark_sql, database, athena=ns.dialect == "athena")
    try:
        rows = (result_df.limit(limit + 1) if limit else result_df).collect()
    except CapturedException as error:  # a failure while running (a cast that fails, an overflow)
        raise QueryError(f"the query failed: {' '.join(str(error).split(chr(10))[0].split())}") from None
    truncated = limit is not None and len(rows) > limit
    print_rows(result_df.columns, rows[:limit], ns.format, truncated)
    return 0


def _tables(names: list[str]):
    """The catalog/ tables named on the command line; a name catalog/ does not define is a usage error."""
    from lakekit.catalog.model import all_tables

    known = {table.qualified_name: table for table in all_tables()}
    for name in names:
        if name not in known:
            raise UsageError(f"unknown table {name!r}; tables: {', '.join(sorted(known))}")
    return [known[name] for name in names]


def cmd_catalog(ns) -> int:
    from lakekit.catalog.ddl import athena_catalog_ddl

    settings = load_settings(ns.env, ns.lake_root)
    tables = _tables(ns.table) if ns.table else None
    statements = athena_catalog_ddl(settings.lake_root, tables, ns.projection_start, settings.names)
    print("\n\n".join(f"{statement};" for statement in statements))
    return 0


def cmd_crawl(ns) -> int:
    from lakekit.catalog.crawler import crawl
    from lakekit.core.session import get_spark

    settings = _lake(ns)
    results = crawl(get_spark(settings), settings, ns.target, ns.database)
    if ns.format == "json":
        for result in results:
            print(json.dumps(dataclasses.asdict(result), default=str))
    else:
        if not results:
            print(f"no table folder with data under {ns.target}")
        for result in results:
            for line in result.report():
                print(line)
    failed = [result.table for result in results if result.error]
    if failed:
        print(f"lake: not crawled: {', '.join(failed)} (see above)", file=sys.stderr)
        return 1
    drifted = [result.table for result in results if result.drift]
    if drifted:
        print(f"lake: schema drift in {', '.join(drifted)}: not applied (see above)", file=sys.stderr)
        return 1
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
        text = f"{settings.lake_root}: an S3 prefix needs no creating; jobs write under it"
        _report(ns, text, {"lake_root": settings.lake_root, "created": False, "existed": None})
        return 0
    root = Path(settings.lake_root.removeprefix("file://"))
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} exists and is not a folder")
    existed = root.is_dir()
    (root / "landing").mkdir(parents=True, exist_ok=True)
    text = f"lake root {root} {'already exists' if existed else 'created'} (land sources under {root / 'landing'})"
    _report(ns, text, {"lake_root": str(root), "created": not existed, "existed": existed})
    return 0


def _report(ns, text: str, shown: dict) -> None:
    """A command's one-line report, or with --format json the same as one object."""
    print(json.dumps(shown) if getattr(ns, "format", "table") == "json" else text)


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
        listed = record_jars(package, jars)
        if ns.format != "json":
            print(f"cached {len(jars)} jar(s) of {package} listed in {listed}")
    if ns.classpath:
        print(",".join(found))
    else:
        _report(ns, f"jars cached: {', '.join(found)}", {"packages": packages, "jars": found})
    return 0


def _format(parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json")) -> None:
    parser.add_argument(
        "--format", choices=choices, default="table", help="what to print: for a person (default) or JSON"
    )


def _args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--arg",
        action="append",
        type=_key_value,
        metavar="KEY=VALUE",
        help="a job argument, passed as --KEY VALUE (e.g. job-bookmark-option=job-bookmark-pause)",
    )


def version() -> str:
    """The installed distribution of the package lakekit and its version, from the distribution's metadata."""
    from importlib.metadata import PackageNotFoundError, packages_distributions
    from importlib.metadata import version as installed

    for name in packages_distributions().get(__name__.partition(".")[0], []):
        try:
            return f"{installed(name)} (distribution {name})"
        except PackageNotFoundError:
            continue
    return "unknown (no installed distribution holds the package lakekit)"


def _group(sub, name: str, help_text: str):
    group = sub.add_parser(name, help=help_text)
    return group.add_subparsers(dest="action", required=True, parser_class=_Parser)


def _job_parsers(sub) -> None:
    job = _group(sub, "job", "the jobs: run one as Glue runs its script, list them, show one's arguments")
    run = job.add_parser("run", help="run one job as Glue runs its script", add_help=False)
    run.add_argument("-h", "--help", action=jobs.JobHelp)
    run.add_argument("job", help=f"one of: {', '.join(registry.job_names())}")
    _common(run)
    _args(run)
    _format(run)
    run.set_defaults(func=jobs.cmd_job_run)
    listed = job.add_parser("list", help="every job with its pipeline")
    _format(listed, ("table", "csv", "json"))
    listed.set_defaults(func=jobs.cmd_job_list)
    show = job.add_parser("show", help="one job: what it reads and writes, its arguments and their defaults")
    show.add_argument("job")
    _format(show)
    show.set_defaults(func=jobs.cmd_job_show)

    flow = _group(sub, "workflow", "the workflows: run one's jobs in order, list them, show one's steps")
    flow_run = flow.add_parser("run", help="run a workflow's jobs in order, stopping at the first that fails")
    flow_run.add_argument("name", help=f"one of: {', '.join(sorted(registry.workflows()))}")
    _common(flow_run)
    _args(flow_run)
    _format(flow_run)
    flow_run.set_defaults(func=jobs.cmd_workflow_run)
    flow_list = flow.add_parser("list", help="every workflow with its jobs in order")
    _format(flow_list, ("table", "csv", "json"))
    flow_list.set_defaults(func=jobs.cmd_workflow_list)
    flow_show = flow.add_parser("show", help="one workflow's steps and the arguments each gives its job")
    flow_show.add_argument("name")
    _format(flow_show)
    flow_show.set_defaults(func=jobs.cmd_workflow_show)


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="lake", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    init = sub.add_parser("init", help="make the lake root (a folder with landing/; nothing to make on S3)")
    _common(init)
    _format(init)
    init.set_defaults(func=cmd_init)

    _job_parsers(sub)

    marks = _group(sub, "bookmark", "show, reset or unlock job bookmarks")
    for action, text in (
        ("show", "each job's bookmark (default: every job)"),
        ("reset", "forget a job's bookmark: its next run processes everything"),
        ("unlock", "remove a job's lock left behind by a run that died"),
    ):
        verb = marks.add_parser(action, help=text)
        verb.add_argument("job", nargs="?" if action == "show" else None)
        if action == "unlock":
            verb.add_argument(
                "--force", action="store_true", help="remove the lock even if another owner's run holds it"
            )
        _format(verb)
        _common(verb)
        verb.set_defaults(func=cmd_bookmarks, action=action)

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
        "--database",
        help="where unqualified table names resolve (default: the environment's curated database), locally and on "
        "Athena; curated.x and raw.x name the environment's databases (conf names:)",
    )
    query.add_argument(
        "--workgroup", help="Athena: workgroup (default $LAKE_ATHENA_WORKGROUP, else the environment's: conf names:)"
    )
    query.add_argument(
        "--output-location",
        help="Athena: results location (default $LAKE_ATHENA_OUTPUT, else <lake root>/_athena_results/)",
    )
    _common(query)
    query.set_defaults(func=cmd_query)

    catalog = _group(sub, "catalog", "the catalog: Athena DDL of catalog/, registering folders found in the lake")
    ddl = catalog.add_parser("ddl", help="print CREATE statements for Athena (default: every catalog/ table)")
    ddl.add_argument("table", nargs="*", help="layer.name of the tables (default: all)")
    ddl.add_argument(
        "--projection-start", default="2024-01-01", help="first p_date Athena projects (yyyy-MM-dd; default 2024-01-01)"
    )
    _common(ddl)
    ddl.set_defaults(func=cmd_catalog)
    crawl = catalog.add_parser(
        "crawl", help="register the tables of Parquet/JSON/Delta folders, their partitions, report schema drift"
    )
    crawl.add_argument("target", help="a layer (folder under the lake root, e.g. raw) or a path to a folder")
    crawl.add_argument("--database", help="database of the tables (default: the layer or parent folder name)")
    _format(crawl)
    _common(crawl)
    crawl.set_defaults(func=cmd_crawl)

    table = _group(sub, "table", "the tables: list them with their state, align a Delta table's features")
    tables = table.add_parser("list", help="every table: layer, format, partitions, rows, last update")
    tables.add_argument("--format", choices=["table", "csv", "json"], default="table")
    _common(tables)
    tables.set_defaults(func=cmd_tables)
    table_features.add_parser(table, _common)

    jars = sub.add_parser("jars", help="resolve and cache the jars Spark needs (Delta)")
    jars.add_argument("--force", action="store_true", help="resolve again even if cached")
    jars.add_argument("--classpath", action="store_true", help="print the cached jars comma-separated (for --jars)")
    jars.add_argument("--verbose", action="store_true", help="show Spark's own warnings and INFO lines")
    jars.add_argument("--s3", action="store_true", help="also hadoop-aws 3.3.4 and its AWS SDK bundle (S3A)")
    _format(jars)
    jars.set_defaults(func=cmd_jars)

    events.add_parsers(sub, _group, _common, _format)
    return top


# The spellings of the release before noun-then-verb, each with its new one: kept for one more release.
OLD_SPELLINGS = {
    ("run",): ("job", "run"),
    ("tables",): ("table", "list"),
    ("crawl",): ("catalog", "crawl"),
    ("bookmarks",): ("bookmark",),
    ("produce",): ("stream", "produce"),
}


def new_spelling(argv: list[str]) -> list[str]:
    """argv in the new grammar; an old spelling says its new one on stderr (one line) and runs as it."""
    for old, new in OLD_SPELLINGS.items():
        if tuple(argv[: len(old)]) == old:
            print(
                f"lake {' '.join(old)} is now `lake {' '.join(new)}`; the old spelling goes in the next release",
                file=sys.stderr,
            )
            return [*new, *argv[len(old) :]]
    return argv


def main(argv: list[str] | None = None) -> int:
    argv = new_spelling(list(sys.argv[1:] if argv is None else argv))
    try:
        ns = parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version (0) or a bad command line (2, its one-line message printed)
        return stop.code if isinstance(stop.code, int) else 2
    if getattr(ns, "verbose", False):
        os.environ["LAKE_VERBOSE"] = "1"  # read where the SparkSession is made
    try:
        if getattr(ns, "job", None):  # lake job run|show JOB, lake bookmark ACTION JOB: a renamed job's old name too
            ns.job = current_job(ns.job)
        return ns.func(ns)
    except (UsageError, registry.UnknownJobError) as error:
        print(f"lake: {error}", file=sys.stderr)
        return 2
    except (JobError, ConfigError, QueryError, CatalogError, CrawlError, LockedError) as error:
        print(f"lake: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
