"""Workflows: jobs run in order, stopping at the first failure (a Glue workflow's triggers, locally)."""

from __future__ import annotations

import importlib
import pkgutil

import jobs


class Step(str):
    """A workflow step: a job name with the arguments the workflow gives it (a Glue trigger action's Arguments).

    Arguments given on the command line win over them.
    """

    args: dict[str, str]

    def __new__(cls, job: str, **args: str) -> Step:
        step = super().__new__(cls, job)
        step.args = args
        return step


WORKFLOWS: dict[str, list[str]] = {
    "campaign": [
        "raw_user_campaign",
        "raw_campaign_info",
        "curated_campaign_tasks",
        "curated_campaign_task_progress",
    ],
    # The daily transform runs for the day the ingestion just landed (whatever the clock says by then).
    "users": ["ingest_users", Step("users_daily", date="ingested")],
}


class UnknownJobError(LookupError):
    pass


def job_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(jobs.__path__) if not m.name.startswith("_"))


def job_argv(
    job: str, lake_root: str | None = None, env: str | None = None, args: dict[str, str] | None = None
) -> list[str]:
    """The argv Glue gives a job script: the script, then --KEY VALUE pairs."""
    argv = [f"jobs/{job}.py", "--JOB_NAME", str(job)]
    step_args = getattr(job, "args", {})
    for key, value in {"lake_root": lake_root, "env": env, **step_args, **(args or {})}.items():
        if value is not None:
            argv += [f"--{key}", str(value)]
    return argv


def run_job(job: str, argv: list[str]) -> None:
    """Run a job script's main(argv) in this process, exactly as its `__main__` would."""
    if job not in job_names():
        raise UnknownJobError(f"unknown job {job!r}; jobs: {', '.join(job_names())}")
    importlib.import_module(f"jobs.{job}").main(argv)
