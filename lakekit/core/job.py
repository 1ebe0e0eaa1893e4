"""What every job script shares: Glue-style arguments, the lock, the session, the bookmark, Job.init/commit."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lakekit.core import state as bm
from lakekit.core.failpoints import failpoint, set_job
from lakekit.core.options import Option, as_option
from lakekit.core.options import flag as flag
from lakekit.core.session import SessionError, check_delta, get_spark, glue_context, launched
from lakekit.core.settings import Settings, load_settings, require_lake_root
from lakekit.core.storage import DEFAULT_TIMEOUT_MINUTES, LockedError, StorageError, lock_owner, storage_for

log = logging.getLogger(__name__)

# Optional arguments every job understands; Glue's getResolvedOptions would make them required.
COMMON_OPTIONS: dict[str, Option] = {
    "env": Option(None, "settings from conf/<env>.yaml (default: $LAKE_ENV, else local)"),
    "lake_root": Option(None, "the lake root (default: $LAKE_ROOT, else the conf's)"),
    "names": Option(
        None, "physical names, JSON {kind: {name: physical}} over the conf's names: (the deployment sets it)"
    ),
    "job_bookmark_option": Option(
        bm.ENABLE,
        "enable: process what is new and advance; disable: everything again, bookmark left; pause: new, not advanced",
        "choice",
        bm.OPTIONS,
    ),
    "rebuild": Option(
        "false", "recompute everything from raw (as job-bookmark-disable, but the bookmark advances)", "boolean"
    ),
}

# What Glue itself passes to every job script (special parameters and run ids): accepted, and read by
# Glue's runtime or by awsglue's Job, not by the jobs. `lake` lists them in docs/glue.md.
GLUE_ARGUMENTS = (
    "JOB_ID",
    "JOB_RUN_ID",
    "JOB_NAME",
    "TempDir",
    "RedshiftTempDir",
    "job_bookmark_option",
    "job_bookmark_from",
    "job_bookmark_to",
    "continuation_option",
    "enable_glue_datacatalog",
    "additional_python_modules",
    "python_modules_installer_option",
    "extra_py_files",
    "extra_jars",
    "extra_files",
    "datalake_formats",
    "conf",
    "job_language",
    "enable_metrics",
    "enable_observability_metrics",
    "enable_continuous_cloudwatch_log",
    "enable_continuous_log_filter",
    "continuous_log_logGroup",
    "enable_spark_ui",
    "spark_event_logs_path",
    "enable_job_insights",
    "enable_auto_scaling",
    "encryption_type",
    "security_configuration",
    "user_jars_first",
    "scriptLocation",
)

BOOKMARK_NOTICES = {
    bm.ENABLE: "bookmark ENABLED (--job-bookmark-option job-bookmark-enable): processes only what is new since "
    "the bookmark, then advances it",
    bm.PAUSE: "bookmark PAUSED (--job-bookmark-option job-bookmark-pause): processes what is new since the "
    "bookmark and does NOT advance it; the next enabled run applies it again (idempotently)",
    bm.DISABLE: "BOOKMARK DISABLED (--job-bookmark-option job-bookmark-disable, the default of a new Glue job): "
    "this run REPROCESSES EVERYTHING from the start (idempotently: the tables end the same) and does NOT advance "
    "the bookmark, so every run costs a full reprocess; for incremental runs set --job-bookmark-option "
    "job-bookmark-enable",
}


class JobError(RuntimeError):
    """A job cannot run as asked; the message says why."""


def parse_argv(argv: list[str]) -> dict[str, str]:
    """Glue passes `--key value` pairs; `--key=value` is accepted too. Dashes in keys become underscores."""
    args: dict[str, str] = {}
    items = list(argv)
    i = 0
    while i < len(items):
        item = items[i]
        if item.startswith("--"):
            key, eq, value = item[2:].partition("=")
            if not eq:
                if i + 1 < len(items) and not items[i + 1].startswith("--"):
                    value = items[i + 1]
                    i += 1
                else:
                    value = "true"
            args[key.replace("-", "_")] = value
        i += 1
    return args


def job_options(options: dict[str, Option | str | None] | None = None) -> dict[str, Option]:
    """Every argument a job reads: the common ones, then its own."""
    return {**COMMON_OPTIONS, **{key: as_option(spec) for key, spec in (options or {}).items()}}


def check_values(args: dict[str, str], options: dict[str, Option]) -> None:
    """Refuse a malformed value of a known argument, naming what it accepts (before any lock or Spark)."""
    for key, value in args.items():
        option = options.get(key)
        problem = option.problem(value) if option is not None else None
        if problem:
            raise JobError(f"argument {key}: {problem}")


def resolve_args(argv: list[str], options: dict[str, Option | str | None]) -> dict[str, Any]:
    """JOB_NAME (required, as Glue resolves it) plus each optional argument or its default.

    Arguments the job does not read are left alone: Glue passes its own (--TempDir, --JOB_RUN_ID, ...).
    """
    given = parse_argv(argv[1:])
    if "JOB_NAME" not in given:
        raise JobError("missing --JOB_NAME")
    known = job_options(options)
    check_values(given, known)
    try:
        from awsglue.utils import getResolvedOptions

        resolved = dict(getResolvedOptions(argv, ["JOB_NAME"]))
    except ImportError:  # pragma: no cover - awsglue is installed with the project
        resolved = {}
    resolved.update({k: given.get(k, option.default) for k, option in known.items()})
    resolved["JOB_NAME"] = given["JOB_NAME"]
    return resolved


@dataclass
class JobRun:
    """One run of a job: its arguments, settings, session and bookmark.

    The SparkSession starts on first use of `spark`: a run that finds nothing new from the lake's state
    never starts a JVM (under a launcher such as Glue the JVM is already there and is used at once).
    """

    name: str
    args: dict[str, Any]
    settings: Settings
    bookmarks: bm.Bookmarks
    state_name: str = ""  # the name of its own state in the lake (bookmark, lock, staging): default its name
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _spark: Any = None
    glue_job: Any = None

    def __post_init__(self) -> None:
        self.state_name = self.state_name or self.name

    @property
    def spark(self):
        if self._spark is None:
            from pyspark.sql import SparkSession

            had_session = SparkSession.getActiveSession() is not None
            spark = get_spark(self.settings)
            try:
                check_delta(spark)
            except SessionError as error:
                raise JobError(str(error)) from None
            if not had_session:
                self.say(f"SparkSession started in {time.monotonic() - self.started:.1f}s")
            glue = glue_context(spark)
            if glue is not None:
                from awsglue.job import Job

                self.glue_job = Job(glue)
                self.glue_job.init(self.args.get("JOB_NAME", self.name), self.args)
            self._spark = spark
        return self._spark

    @property
    def bookmark_option(self) -> str:
        return self.args["job_bookmark_option"]

    @property
    def reprocess_all(self) -> bool:
        """job-bookmark-disable or rebuild=true: everything again, idempotently."""
        return self.bookmark_option == bm.DISABLE or flag(self.args.get("rebuild"))

    def position(self) -> dict[str, Any]:
        return {} if self.reprocess_all else self.bookmarks.position(self.state_name)

    def advance(self, position: dict[str, Any]) -> None:
        """Record progress; with job-bookmark-pause or -disable the bookmark stays where it was."""
        if self.bookmark_option == bm.ENABLE:
            self.bookmarks.advance(self.state_name, position)
            failpoint("bookmark.after_write")

    def say(self, message: str) -> None:
        print(f"[{self.name}] {message}", flush=True)


def lock_path(settings: Settings, job: str) -> str:
    """The lock of the job whose state has this name (a renamed job's is its old name's)."""
    return settings.path("_state", "locks", f"{job}.lock")


def job_timeout_minutes(settings: Settings, job: str) -> float:
    """How long a run may hold its job's lock: jobs.<job>.timeout_minutes in conf (on AWS, the Glue job's Timeout)."""
    value = settings.job_setting(job, "timeout_minutes", DEFAULT_TIMEOUT_MINUTES)
    try:
        minutes = float(value)
    except (TypeError, ValueError):
        raise JobError(f"jobs.{job}.timeout_minutes must be a number of minutes, got {value!r}") from None
    if minutes <= 0:
        raise JobError(f"jobs.{job}.timeout_minutes must be positive, got {value!r}")
    return minutes


def unlock_job(settings: Settings, job: str, force: bool = False) -> str:
    """Remove a job's lock left behind (`job`: its state name).

    Raises LockedError for a lock in force that is not the caller's.
    """
    return storage_for(settings.lake_root).unlock(lock_path(settings, job), force=force)


@contextlib.contextmanager
def job_run(
    argv: list[str],
    options: dict[str, Option | str | None] | None = None,
    name: str | None = None,
    state_name: str | None = None,
) -> Iterator[JobRun]:
    """Resolve arguments, check the lake root, take the job's lock; Spark starts when the job first needs it.

    `name` is the job's own (the registry's): its lock, bookmark and settings keep it whatever Glue calls
    the deployed job (--JOB_NAME is the environment's physical name, given to Glue's Job.init). Its lock and
    bookmark are under `state_name` (default: `name`), the name a renamed job's state kept.
    """
    args = resolve_args(argv, options or {})
    name = name or args["JOB_NAME"]
    state_name = state_name or name
    settings = require_lake_root(load_settings(args.get("env"), args.get("lake_root"), args.get("names")))
    storage = storage_for(settings.lake_root)
    set_job(name)
    try:
        storage.check_root(settings.lake_root)
    except StorageError as error:
        raise JobError(f"{error}; this run did nothing") from None
    try:
        lock = storage.lock(lock_path(settings, state_name), lock_owner(name, job_timeout_minutes(settings, name)))
        lock.__enter__()
    except LockedError as error:
        raise JobError(f"job {name} is {error}; this run did nothing") from None
    try:
        run = JobRun(name=name, args=args, settings=settings, bookmarks=bm.Bookmarks(settings), state_name=state_name)
        run.say(f"lake root {settings.lake_root}; {BOOKMARK_NOTICES[run.bookmark_option]}")
        known = {*GLUE_ARGUMENTS, *COMMON_OPTIONS, *(options or {})}
        unused = sorted(set(parse_argv(argv[1:])) - known)
        if unused:  # a misspelt option would otherwise be ignored without a word
            run.say(f"argument(s) this job does not read, ignored: {', '.join('--' + u for u in unused)}")
        if launched():  # spark-submit or Glue: the JVM is running anyway; Glue's Job.init wants it now
            _ = run.spark
        yield run
        if run.glue_job is not None:
            run.glue_job.commit()
        run.say(f"done in {time.monotonic() - run.started:.1f}s")
    finally:
        lock.__exit__(*sys.exc_info())
        set_job(None)
