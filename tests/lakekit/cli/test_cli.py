"""The `lake` CLI's own logic: argument mapping, workflow order and stopping at the first failure."""

from __future__ import annotations

import pytest

from lakekit import cli
from lakekit.core import registry


def test_run_passes_glue_style_arguments_to_the_job(monkeypatch):
    calls = []
    monkeypatch.setattr(registry, "run_job", lambda job, argv: calls.append((job, argv)))
    assert (
        cli.main(
            [
                "run",
                "raw_user_campaign",
                "--lake-root",
                "/tmp/x",
                "--arg",
                "job-bookmark-option=job-bookmark-pause",
                "--arg",
                "rebuild=true",
            ]
        )
        == 0
    )
    assert calls == [
        (
            "raw_user_campaign",
            [
                "jobs/raw_user_campaign.py",
                "--JOB_NAME",
                "raw_user_campaign",
                "--lake_root",
                "/tmp/x",
                "--job_bookmark_option",
                "job-bookmark-pause",
                "--rebuild",
                "true",
            ],
        )
    ]


def test_workflow_runs_jobs_in_order_and_stops_at_the_first_failure(monkeypatch, capsys):
    ran = []

    def fake_run(job, argv):
        ran.append(job)
        if job == "raw_campaign_info":
            raise RuntimeError("boom")

    monkeypatch.setattr(registry, "run_job", fake_run)
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["workflow", "run", "campaign", "--lake-root", "/tmp/x"])
    assert ran == ["raw_user_campaign", "raw_campaign_info"]
    assert "raw_campaign_info failed; later steps not run" in capsys.readouterr().err


def test_unknown_job_and_workflow_are_clear_errors(capsys):
    assert cli.main(["run", "no_such_job", "--lake-root", "/tmp/x"]) == 2
    assert cli.main(["workflow", "run", "nightly", "--lake-root", "/tmp/x"]) == 2
    err = capsys.readouterr().err
    assert "unknown job 'no_such_job'; jobs: curated_campaign_task_progress" in err
    assert "unknown workflow 'nightly'; workflows: campaign" in err


def test_bad_key_value_is_rejected_by_the_parser():
    with pytest.raises(SystemExit):
        cli.main(["run", "raw_user_campaign", "--arg", "novalue"])
