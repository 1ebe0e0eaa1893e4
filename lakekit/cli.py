"""`lake`: run jobs and workflows, look at bookmarks, query the lake."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lakekit import workflows
from lakekit.bookmarks import Bookmarks
from lakekit.config import ConfigError, load_settings
from lakekit.job import JobError, lock_path
from lakekit.storage import storage_for


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
    workflows.run_job(ns.job, workflows.job_argv(ns.job, ns.lake_root, ns.env, args))
    return 0


def cmd_workflow(ns) -> int:
    if ns.name not in workflows.WORKFLOWS:
        raise workflows.UnknownJobError(f"unknown workflow {ns.name!r}; workflows: {', '.join(workflows.WORKFLOWS)}")
    steps = workflows.WORKFLOWS[ns.name]
    for number, job in enumerate(steps, 1):
        print(f"== workflow {ns.name}: step {number}/{len(steps)} {job}", flush=True)
        try:
            workflows.run_job(job, workflows.job_argv(job, ns.lake_root, ns.env, dict(ns.arg or [])))
        except Exception:
            print(f"== workflow {ns.name}: {job} failed; later steps not run", file=sys.stderr, flush=True)
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


def cmd_query(ns) -> int:
    from lakekit.session import get_spark

    settings = load_settings(ns.env, ns.lake_root)
    spark = get_spark(settings)
    sql = ns.execute if ns.execute else Path(ns.file).read_text()
    result_df = spark.sql(sql)
    if ns.format == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(result_df.columns)
        writer.writerows(result_df.limit(ns.limit).collect())
    elif ns.format == "json":
        for row in result_df.limit(ns.limit).collect():
            print(json.dumps(row.asDict(recursive=True), default=str))
    else:
        result_df.show(ns.limit, truncate=False)
    return 0


def cmd_jars(ns) -> int:
    """Resolve the Delta jars once through Spark's package mechanism and record them for offline starts."""
    from pyspark.sql import SparkSession

    from lakekit.session import DELTA_PACKAGE, cached_jars, ivy_dir, record_jars

    if cached_jars(DELTA_PACKAGE) and not ns.force:
        jars = cached_jars(DELTA_PACKAGE)
        print(",".join(jars) if ns.classpath else f"jars cached: {', '.join(jars)}")
        return 0
    if ns.classpath:
        raise ConfigError("no jars cached yet: run `lake jars` (make install does) first")
    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.jars.packages", DELTA_PACKAGE)
        .config("spark.jars.ivy", str(ivy_dir()))
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.stop()
    jars = sorted(str(p) for p in (ivy_dir() / "jars").glob("*.jar"))
    if not jars:
        raise RuntimeError(f"Spark resolved {DELTA_PACKAGE} but no jar is in {ivy_dir() / 'jars'}")
    print(f"cached {len(jars)} jar(s) listed in {record_jars(DELTA_PACKAGE, jars)}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="lake", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one job as Glue runs its script")
    run.add_argument("job", help=f"one of: {', '.join(workflows.job_names())}")
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
    flow_run.add_argument("name", help=f"one of: {', '.join(workflows.WORKFLOWS)}")
    _common(flow_run)
    flow_run.add_argument("--arg", action="append", type=_key_value, metavar="KEY=VALUE")
    flow_run.set_defaults(func=cmd_workflow)

    marks = sub.add_parser("bookmarks", help="show, reset or unlock job bookmarks")
    marks.add_argument("action", choices=["show", "reset", "unlock"])
    marks.add_argument("job", nargs="?")
    _common(marks)
    marks.set_defaults(func=cmd_bookmarks)

    query = sub.add_parser("query", help="run Spark SQL on the lake's catalog")
    source = query.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", help="a .sql file")
    source.add_argument("-e", "--execute", help="SQL text")
    query.add_argument("--format", choices=["table", "csv", "json"], default="table")
    query.add_argument("--limit", type=int, default=20)
    _common(query)
    query.set_defaults(func=cmd_query)

    jars = sub.add_parser("jars", help="resolve and cache the jars Spark needs (Delta)")
    jars.add_argument("--force", action="store_true", help="resolve again even if cached")
    jars.add_argument("--classpath", action="store_true", help="print the cached jars comma-separated (for --jars)")
    jars.set_defaults(func=cmd_jars)
    return top


def main(argv: list[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    try:
        return ns.func(ns)
    except (JobError, ConfigError, workflows.UnknownJobError) as error:
        print(f"lake: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
