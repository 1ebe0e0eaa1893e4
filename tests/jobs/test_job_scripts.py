"""Smoke tests: every job script runs as Glue runs it (the file as __main__, Glue-style argv)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from lakekit import workflows
from lakekit.catalog import load_table
from lakekit.job import JobError, resolve_args
from tests.helpers import read_table

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
    for job in workflows.WORKFLOWS["campaign"]:
        run_script(job, lake_root, monkeypatch)
    for name in ("raw.user_campaign", "raw.campaign_info", "curated.campaign_tasks", "curated.campaign_task_progress"):
        table = load_table(name)
        written = read_table(spark, lake_root, name)
        # What each job writes is exactly the catalog's schema: names, order and types.
        assert [(f.name, f.dataType.simpleString()) for f in written.schema.fields] == [
            (f.name, f.dataType.simpleString()) for f in table.schema.fields
        ], name
        assert not written.isEmpty(), name


def test_every_job_is_in_a_workflow_and_imports_nothing_at_import_time():
    scripts = sorted(p.stem for p in (REPO / "jobs").glob("*.py") if not p.name.startswith("_"))
    assert scripts == workflows.job_names()
    assert set().union(*workflows.WORKFLOWS.values()) == set(scripts)


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
        (["s.py", "--JOB_NAME", "x", "--job-bookmark-option", "job-bookmark-sometimes"], "must be one of"),
    ],
)
def test_bad_arguments_give_a_clear_error(argv, message):
    with pytest.raises(JobError, match=message):
        resolve_args(argv, {})
