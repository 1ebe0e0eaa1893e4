"""Smoke tests: every job script runs as Glue runs it (the file as __main__, Glue-style argv)."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from lakekit.catalog.model import load_table
from lakekit.core import registry
from lakekit.core.job import JobError, resolve_args
from tests.helpers import CAMPAIGN_JOBS, read_table

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "landing"

# What Glue 5 puts on a job's command line besides the job's own default arguments.
GLUE_ARGS = [
    "--job-bookmark-option",
    "job-bookmark-enable",
    "--TempDir",
    "s3://aws-glue-temp/tmp",
    "--enable-glue-datacatalog",
    "true",
    "--JOB_ID",
    "j_0123",
    "--JOB_RUN_ID",
    "jr_0123",
]


def run_script(job: str, lake_root: str, monkeypatch) -> None:
    argv = [str(REPO / "jobs" / f"{job}.py"), "--JOB_NAME", job, "--lake_root", lake_root, *GLUE_ARGS]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(argv[0], run_name="__main__")


def test_every_job_script_runs_as_glue_runs_it(spark, lake_root, monkeypatch):
    import shutil

    shutil.copytree(SAMPLES, Path(lake_root) / "landing")
    for job in CAMPAIGN_JOBS:
        run_script(job, lake_root, monkeypatch)
    for name in ("raw.user_campaign", "raw.campaign_info", "curated.campaign_tasks", "curated.campaign_task_progress"):
        table = load_table(name)
        written = read_table(spark, lake_root, name)
        # What each job writes is exactly the catalog's schema: names, order and types.
        assert [(f.name, f.dataType.simpleString()) for f in written.schema.fields] == [
            (f.name, f.dataType.simpleString()) for f in table.schema.fields
        ], name
        assert not written.isEmpty(), name


def test_every_script_is_a_registered_job_and_every_job_is_in_a_workflow():
    scripts = sorted(p.stem for p in (REPO / "jobs").glob("*.py") if not p.name.startswith("_"))
    assert scripts == registry.job_names()
    in_workflows = {step.job for steps in registry.workflows().values() for step in steps}
    assert in_workflows == set(scripts)


def test_importing_a_job_script_runs_nothing_and_starts_no_spark(tmp_path):
    """What Glue (or a test runner) imports must not run the job: nothing printed, no lake made, no pyspark."""
    scripts = sorted(p.stem for p in (REPO / "jobs").glob("*.py") if not p.name.startswith("_"))
    probe = (
        "import json, sys\n"
        f"for name in {scripts!r}:\n"
        "    module = __import__(f'jobs.{name}', fromlist=['main'])\n"
        "    assert callable(module.main), name\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j', 'delta'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True, env={"PATH": ""}
    )
    assert json.loads(result.stdout) == []
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []  # no lake folder, no metastore, no state


@pytest.mark.parametrize("script", sorted(p.stem for p in (REPO / "jobs").glob("*.py") if not p.name.startswith("_")))
def test_each_script_runs_the_registered_job_of_its_own_name(script, monkeypatch):
    calls = []
    monkeypatch.setattr(registry, "run_job", lambda name, argv: calls.append((name, argv)))
    argv = [f"jobs/{script}.py", "--JOB_NAME", "whatever-glue-calls-it"]
    runpy.run_path(str(REPO / "jobs" / f"{script}.py"), run_name="not_main")["main"](argv)
    assert calls == [(script, argv)]


def test_glue_arguments_resolve_with_optional_ones_read_explicitly():
    args = resolve_args(["script.py", "--JOB_NAME", "raw_user_campaign", *GLUE_ARGS], {"extra": "default"})
    assert (args["JOB_NAME"], args["job_bookmark_option"], args["lake_root"], args["extra"], args["rebuild"]) == (
        "raw_user_campaign",
        "job-bookmark-enable",
        None,
        "default",
        "false",
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["s.py"], "missing --JOB_NAME"),
        (
            ["s.py", "--JOB_NAME", "x", "--job-bookmark-option", "job-bookmark-sometimes"],
            "argument job_bookmark_option: expected job-bookmark-enable|job-bookmark-disable|job-bookmark-pause, "
            "got 'job-bookmark-sometimes'",
        ),
        (["s.py", "--JOB_NAME", "x", "--rebuild", "maybe"], "argument rebuild: expected true|false, got 'maybe'"),
    ],
)
def test_bad_arguments_give_a_clear_error(argv, message):
    with pytest.raises(JobError) as raised:
        resolve_args(argv, {})
    assert str(raised.value) == message
