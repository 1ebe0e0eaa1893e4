"""The registry of jobs and workflows: each pipeline under lakekit.pipelines declares its own.

The runtime names no pipeline: it finds them by listing the `lakekit.pipelines` package, where each
module or subpackage holds a `PIPELINE` (a `Pipeline`), and `lakekit.jobs`, whose modules declare the
generic jobs (raw ingestion of any declared stream) the same way; a pipeline installed as a distribution of its
own names its module under the entry point group `lakekit.pipelines`. `lake job run JOB`, `lake workflow run
NAME` and the thin scripts under jobs/ all look jobs up here, so a job runs the same way from each of them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from lakekit.core.options import Option

# Where PIPELINE declarations are found, listed together by module name (a name in both packages is an error).
PACKAGES = ("lakekit.jobs", "lakekit.pipelines")
# A pipeline shipped in a distribution of its own declares its module here (`name = module`, the module holding
# PIPELINE); its tables come with it through lakekit.catalog.model's entry points.
ENTRY_POINTS = "lakekit.pipelines"


class UnknownJobError(LookupError):
    """A job or workflow name that no pipeline declares; the message lists the known ones."""


@dataclass(frozen=True)
class Job:
    """A job: its name (the script jobs/<name>.py and the Glue job), what it runs, and its own arguments.

    `options` maps each argument the job reads (besides the common ones: lakekit.core.job.COMMON_OPTIONS)
    to an Option (default, description, accepted values), or to a plain default (None: unset, or the
    conf's setting), which accepts any text.
    `has_work`, if given, tells from the lake's state alone (a few small reads, no Spark) whether the run
    has anything to do; when it says no, the run ends there without starting a JVM. It is not asked when
    the run reprocesses everything (job-bookmark-disable, rebuild=true).
    `reads` and `writes` say what of the lake the job uses beyond its own state (_state/*/<state>.*, _staging/<state>/,
    quarantine/<state>/): catalog tables as "layer.table" (its folder and its catalog entry) and other lake
    folders as paths ("landing/cfpb"). The deployed job's role grants exactly these (deploy/stack.py); the
    recorded calls of `make test-aws` prove them sufficient (deploy/iam).
    `state_name` is the name its own state has in the lake (default: its name): a renamed job keeps its old one,
    so it goes on from the bookmark, lock and staging the job wrote under that name, with no migration.
    """

    name: str
    run: Callable[[Any], None]  # called with the JobRun
    options: dict[str, Option | str | None] = field(default_factory=dict)
    description: str = ""
    has_work: Callable[[Any], bool] | None = None  # called with the JobRun, before its SparkSession exists
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    state_name: str = ""

    def __post_init__(self) -> None:
        if not self.state_name:
            object.__setattr__(self, "state_name", self.name)

    def option_specs(self) -> dict[str, Option]:
        """Every argument the job reads, common ones first, each as an Option."""
        from lakekit.core.job import job_options

        return job_options(self.options)


@dataclass(frozen=True)
class Step:
    """A workflow step: a job with the arguments the workflow gives it (a Glue trigger action's Arguments).

    Arguments given on the command line win over them.
    """

    job: str
    args: dict[str, str] = field(default_factory=dict)


class FileReadError(ValueError):
    """A file a producer cannot read at all (a missing column, dates in no one format): the message says why."""


@dataclass
class FileRead:
    """What a pipeline's file producer found in a file (`lake stream produce STREAM --csv FILE`), read lazily.

    `notes` say how the file was read (its encoding, the date format it was found to use), one line each;
    `rows` is how many data rows it holds (the progress bar's total); `events` yields (the row's line in
    the file, its event) in file order, and appends (line, reason) to `unreadable` for each row it skips.
    """

    notes: list[str]
    rows: int
    events: Iterator[tuple[int, Any]]
    unreadable: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Pipeline:
    """What one pipeline module declares: its jobs, and its workflows (jobs in order, stopping at a failure)."""

    name: str
    jobs: tuple[Job, ...]
    workflows: dict[str, tuple[Step, ...]]
    # Test-event makers by stream (`lake stream produce STREAM`): (random.Random, sequence number) -> one event.
    producers: dict[str, Callable[[Any, int], Any]] = field(default_factory=dict)
    # File readers by stream (`lake stream produce STREAM --csv FILE`): (path, options) -> FileRead, where options
    # holds the reader options given on the command line (date_format); FileReadError when it cannot read it.
    file_producers: dict[str, Callable[[str, dict[str, str]], FileRead]] = field(default_factory=dict)
    # Read APIs the pipeline serves on `lake serve` beside the ingest API: settings -> a FastAPI APIRouter,
    # mounted behind the service's x-api-key check.
    routes: tuple[Callable[[Any], Any], ...] = ()
    # Jobs renamed, {old name: new name}: the old name still finds the job when one job is asked for by name
    # (`lake job run|show`, `lake bookmark`, a step), for a release; it is no job of its own (jobs() leaves it out).
    renamed: dict[str, str] = field(default_factory=dict)


@cache
def pipelines() -> tuple[Pipeline, ...]:
    """Every pipeline declared under lakekit.jobs and lakekit.pipelines or by an entry point, by module name."""
    modules: dict[str, str] = {}

    def add(name: str, module: str) -> None:
        if name in modules:
            raise ValueError(f"{module} has the name of {modules[name]}")
        modules[name] = module

    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                add(module.name, f"{package_name}.{module.name}")
    for point in entry_points(group=ENTRY_POINTS):
        add(point.name, point.value)
    found = []
    for name in sorted(modules):
        declared = getattr(importlib.import_module(modules[name]), "PIPELINE", None)
        if isinstance(declared, Pipeline):
            found.append(declared)
    return tuple(found)


def jobs() -> dict[str, Job]:
    found: dict[str, Job] = {}
    for pipeline in pipelines():
        for job in pipeline.jobs:
            if job.name in found:
                raise ValueError(f"job {job.name} is declared twice (pipeline {pipeline.name})")
            found[job.name] = job
    return found


def job_names() -> list[str]:
    return sorted(jobs())


def renamed() -> dict[str, str]:
    """{old name: current name} of every job renamed, checked: an old name is no job's name, a new one is a job's."""
    known = jobs()
    found: dict[str, str] = {}
    for pipeline in pipelines():
        for old, new in pipeline.renamed.items():
            if old in known or old in found:
                raise ValueError(f"renamed job {old} is still declared (pipeline {pipeline.name})")
            if new not in known:
                raise ValueError(
                    f"job {old} is renamed to {new}, which no pipeline declares (pipeline {pipeline.name})"
                )
            found[old] = new
    return found


def current_name(name: str) -> str:
    """The job's name now: `name` itself, or the new name of a job renamed."""
    return renamed().get(name, name)


def workflows() -> dict[str, tuple[Step, ...]]:
    found: dict[str, tuple[Step, ...]] = {}
    for pipeline in pipelines():
        found.update(pipeline.workflows)
    return found


def producers() -> dict[str, Callable[[Any, int], Any]]:
    found: dict[str, Callable[[Any, int], Any]] = {}
    for pipeline in pipelines():
        found.update(pipeline.producers)
    return found


def producer(stream: str) -> Callable[[Any, int], Any]:
    known = producers()
    if stream not in known:
        raise UnknownJobError(f"no event producer for stream {stream!r}; producers: {', '.join(sorted(known))}")
    return known[stream]


def file_producers() -> dict[str, Callable[[str, dict[str, str]], FileRead]]:
    found: dict[str, Callable[[str, dict[str, str]], FileRead]] = {}
    for pipeline in pipelines():
        found.update(pipeline.file_producers)
    return found


def file_producer(stream: str) -> Callable[[str, dict[str, str]], FileRead]:
    known = file_producers()
    if stream not in known:
        raise UnknownJobError(f"no file producer for stream {stream!r}; file producers: {', '.join(sorted(known))}")
    return known[stream]


def routes() -> list[Callable[[Any], Any]]:
    """Every read API the pipelines declare (each: settings -> a FastAPI APIRouter), by pipeline."""
    return [route for pipeline in pipelines() for route in pipeline.routes]


def job(name: str) -> Job:
    """The job of this name, or of this old name of a job renamed."""
    known = jobs()
    name = current_name(name)
    if name not in known:
        raise UnknownJobError(f"unknown job {name!r}; jobs: {', '.join(sorted(known))}")
    return known[name]


def workflow(name: str) -> tuple[Step, ...]:
    known = workflows()
    if name not in known:
        raise UnknownJobError(f"unknown workflow {name!r}; workflows: {', '.join(sorted(known))}")
    return known[name]


def check_job_args(names: list[str], args: dict[str, str], what: str) -> None:
    """Refuse, before anything runs, an argument none of these jobs reads or a value it cannot read.

    `what` names the job or workflow in the message, which lists the arguments that are valid.
    """
    from lakekit.core.job import JobError, check_values

    specs = [job(name).option_specs() for name in names]
    valid = sorted({key for spec in specs for key in spec if key not in ("env", "lake_root")})
    for key in args:
        if not any(key in spec for spec in specs) or key in ("env", "lake_root"):
            hint = " (use --env / --lake-root)" if key in ("env", "lake_root") else ""
            raise JobError(f"{what} has no argument {key!r}{hint}; valid: {', '.join(valid)}")
    for spec in specs:
        check_values({k: v for k, v in args.items() if k in spec}, spec)


def job_argv(
    step: Step | str,
    lake_root: str | None = None,
    env: str | None = None,
    args: dict[str, str] | None = None,
) -> list[str]:
    """The argv Glue gives a job script: the script, then --KEY VALUE pairs (the step's, then `args`)."""
    step = step if isinstance(step, Step) else Step(step)
    name = current_name(step.job)
    argv = [f"jobs/{name}.py", "--JOB_NAME", name]
    for key, value in {"lake_root": lake_root, "env": env, **step.args, **(args or {})}.items():
        if value is not None:
            argv += [f"--{key}", str(value)]
    return argv


def run_job(name: str, argv: list[str]) -> None:
    """Run a job with Glue-style `argv` in this process: what its script under jobs/ does."""
    from lakekit.core.job import job_run
    from lakekit.core.progress import spark_progress

    declared = job(name)
    with job_run(argv, declared.options, name=declared.name, state_name=declared.state_name) as run:
        if declared.has_work is not None and not run.reprocess_all and not declared.has_work(run):
            run.say("nothing new since the bookmark (from the lake's state; Spark not started)")
            return
        # There is work: Spark starts here (the job may build columns before it first reads).
        with spark_progress(run.spark, run.name):
            declared.run(run)
