"""`lake job run|list|show` and `lake workflow run|list|show`: the registry's jobs, run as Glue runs them."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
import traceback

from lakekit.catalog.model import CatalogError, load_table
from lakekit.cli.output import print_rows
from lakekit.core import registry
from lakekit.core.job import JobError
from lakekit.core.settings import ConfigError, Settings, load_settings, require_lake_root
from lakekit.core.storage import StorageError


class UsageError(ValueError):
    """A command line that asks for something that is not there (a job argument, a table): exit status 2."""


# Errors a command reports in one line (`lake: …`) with exit status 1: the run failed for a reason it states.
HANDLED = (JobError, ConfigError, CatalogError, StorageError)


class _Tee(io.TextIOBase):
    """What a job prints, passed on to `out` as it comes and kept line by line for the run's summary."""

    def __init__(self, out):
        self.out, self.lines, self._partial = out, [], ""

    def write(self, text: str) -> int:
        self.out.write(text)
        *done, self._partial = (self._partial + text).split("\n")
        self.lines += done
        return len(text)

    def flush(self) -> None:
        self.out.flush()


def current_job(name: str) -> str:
    """The job's current name; an old name of a renamed job says its new one on stderr (one line) and stands for it."""
    new = registry.current_name(name)
    if new != name:
        print(f"job {name} is now {new}; the old name goes in the next release", file=sys.stderr)
    return new


def _delta_tables(job: registry.Job, settings: Settings) -> dict[str, str]:
    """The Delta tables a job declares it writes, each with its folder under the lake root."""
    found = {}
    for entry in job.writes:
        if "/" in entry:  # a lake folder (landing/...), not a table
            continue
        table = load_table(entry)
        if table.format == "delta":
            found[entry] = table.location_under(settings.lake_root)
    return found


def _versions(tables: dict[str, str]) -> dict[str, int | None]:
    from lakekit.sinks.delta_log import latest_version

    versions: dict[str, int | None] = {}
    for name, path in tables.items():
        try:
            versions[name] = latest_version(path)
        except (OSError, StorageError):  # not readable from here: the summary leaves it out
            continue
    return versions


def run_summarized(name: str, argv: list[str], settings: Settings, fmt: str) -> dict:
    """Run one job; its summary (status, duration, what it said, the Delta versions it wrote) whatever the outcome.

    With --format json the job's own lines go to stderr, so stdout holds the summary alone. Only then are the
    tables' Delta logs read before and after (two S3 requests a table that a text run, like a Glue run, never makes).
    """
    job = registry.job(name)
    tables = _delta_tables(job, settings) if fmt == "json" else {}
    before = _versions(tables)
    tee = _Tee(sys.stderr if fmt == "json" else sys.stdout)
    summary: dict = {"job": name, "status": "succeeded"}
    started = time.monotonic()
    try:
        with contextlib.redirect_stdout(tee):
            registry.run_job(name, argv)
    except HANDLED as error:
        summary.update(status="failed", error=str(error))
    except Exception as error:  # the job's own failure: its traceback for whoever debugs it
        traceback.print_exc(file=sys.stderr)
        summary.update(status="failed", error=f"{error.__class__.__name__}: {error}")
    summary["duration_seconds"] = round(time.monotonic() - started, 3)
    prefix = f"[{name}] "
    summary["messages"] = [line.removeprefix(prefix) for line in [*tee.lines, tee._partial] if line.strip()]
    if fmt == "json":
        after = _versions(tables)
        summary["versions_written"] = {t: v for t, v in after.items() if v is not None and v != before.get(t)}
    return summary


def _check_args(names: list[str], args: dict[str, str], what: str) -> None:
    try:
        registry.check_job_args(names, args, what)
    except JobError as error:  # an argument the jobs do not read, or a value they cannot read: the command line
        raise UsageError(str(error)) from None


def cmd_job_run(ns) -> int:
    args = dict(ns.arg or [])
    registry.job(ns.job)
    _check_args([ns.job], args, f"job {ns.job}")
    settings = require_lake_root(load_settings(ns.env, ns.lake_root))
    summary = run_summarized(ns.job, registry.job_argv(ns.job, ns.lake_root, ns.env, args), settings, ns.format)
    if ns.format == "json":
        print(json.dumps(summary))
    elif summary["status"] == "failed":
        print(f"lake: {summary['error']}", file=sys.stderr)
    return 0 if summary["status"] == "succeeded" else 1


def cmd_workflow_run(ns) -> int:
    steps = registry.workflow(ns.name)
    args = dict(ns.arg or [])
    _check_args([step.job for step in steps], args, f"workflow {ns.name}")
    settings = require_lake_root(load_settings(ns.env, ns.lake_root))
    say = (lambda text: print(text, file=sys.stderr, flush=True)) if ns.format == "json" else print
    started = time.monotonic()
    summaries = []
    for number, step in enumerate(steps, 1):
        say(f"== workflow {ns.name}: step {number}/{len(steps)} {step.job}")
        summary = run_summarized(step.job, registry.job_argv(step, ns.lake_root, ns.env, args), settings, ns.format)
        summaries.append(summary)
        if summary["status"] == "failed":
            print(f"lake: {summary['error']}", file=sys.stderr)
            print(f"== workflow {ns.name}: {step.job} failed; later steps not run", file=sys.stderr, flush=True)
            break
    else:
        say(f"== workflow {ns.name}: {len(steps)} job(s) succeeded")
    failed = summaries[-1]["status"] == "failed"
    if ns.format == "json":
        print(
            json.dumps(
                {
                    "workflow": ns.name,
                    "status": "failed" if failed else "succeeded",
                    "duration_seconds": round(time.monotonic() - started, 3),
                    "jobs": summaries,
                    "not_run": [step.job for step in steps[len(summaries) :]],
                }
            )
        )
    return 1 if failed else 0


def _pipeline_of() -> dict[str, str]:
    return {job.name: pipeline.name for pipeline in registry.pipelines() for job in pipeline.jobs}


def cmd_job_list(ns) -> int:
    pipeline_of = _pipeline_of()
    jobs = registry.jobs()
    rows = [(name, pipeline_of[name], jobs[name].description) for name in registry.job_names()]
    print_rows(["job", "pipeline", "description"], rows, ns.format)
    return 0


def _arguments(job: registry.Job) -> list[dict]:
    specs = {k: v for k, v in job.option_specs().items() if k not in ("env", "lake_root")}
    return [{"key": k, "accepts": s.accepts, "default": s.default, "help": s.help} for k, s in specs.items()]


def job_help(name: str) -> None:
    """`lake job run JOB --help`: the job's arguments with their defaults and accepted values."""
    job = registry.job(name)
    print(f"usage: lake job run {name} [--lake-root DIR] [--env ENV] [--verbose] [--arg KEY=VALUE ...]\n")
    if job.description:
        print(f"{job.description}\n")
    _print_arguments(job)


def _print_arguments(job: registry.Job) -> None:
    print("arguments (--arg KEY=VALUE):")
    rows = [(a["key"], a["accepts"], "-" if a["default"] is None else a["default"], a["help"]) for a in _arguments(job)]
    widths = [max(len(r[i]) for r in [("KEY", "VALUES", "DEFAULT", ""), *rows]) for i in range(3)]
    print(f"  {'KEY'.ljust(widths[0])}  {'VALUES'.ljust(widths[1])}  {'DEFAULT'.ljust(widths[2])}  WHAT")
    for row in rows:
        print(f"  {row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2].ljust(widths[2])}  {row[3]}")


def cmd_job_show(ns) -> int:
    job = registry.job(ns.job)
    workflows = sorted(name for name, steps in registry.workflows().items() if any(s.job == ns.job for s in steps))
    shown = {
        "job": job.name,
        "pipeline": _pipeline_of()[job.name],
        "description": job.description,
        "reads": list(job.reads),
        "writes": list(job.writes),
        "workflows": workflows,
        "arguments": _arguments(job),
    }
    if ns.format == "json":
        print(json.dumps(shown))
        return 0
    print(f"job {job.name} (pipeline {shown['pipeline']})")
    if job.description:
        print(job.description)
    for key in ("reads", "writes", "workflows"):
        print(f"{key}: {', '.join(shown[key]) or '-'}")
    _print_arguments(job)
    return 0


def cmd_workflow_list(ns) -> int:
    workflows = sorted(registry.workflows().items())
    if ns.format == "json":
        for name, steps in workflows:
            print(json.dumps({"workflow": name, "jobs": [s.job for s in steps]}))
        return 0
    print_rows(
        ["workflow", "jobs"], [(name, " -> ".join(s.job for s in steps)) for name, steps in workflows], ns.format
    )
    return 0


def cmd_workflow_show(ns) -> int:
    steps = registry.workflow(ns.name)
    shown = {"workflow": ns.name, "steps": [{"job": s.job, "args": dict(s.args)} for s in steps]}
    if ns.format == "json":
        print(json.dumps(shown))
        return 0
    rows = [
        (str(number), s.job, " ".join(f"{k}={v}" for k, v in s.args.items()) or "-")
        for number, s in enumerate(steps, 1)
    ]
    print(f"workflow {ns.name}: its jobs in order, stopping at the first that fails")
    print_rows(["step", "job", "arguments it gives"], rows, "table")
    return 0


class JobHelp(argparse.Action):
    """`--help` after a job name shows the job's own arguments."""

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
            job_help(current_job(name))
        except registry.UnknownJobError as error:
            parser.exit(2, f"lake: {error}\n")
        parser.exit()
