"""The `lake` CLI's own logic: argument mapping, workflow order and stopping at the first failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakekit import cli
from lakekit.core import registry


@pytest.fixture
def root(tmp_path) -> str:
    (tmp_path / "lake").mkdir()
    return str(tmp_path / "lake")


def test_run_passes_glue_style_arguments_to_the_job(monkeypatch, root):
    calls = []
    monkeypatch.setattr(registry, "run_job", lambda job, argv: calls.append((job, argv)))
    assert (
        cli.main(
            [
                "run",
                "raw_user_campaign",
                "--lake-root",
                root,
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
                root,
                "--job_bookmark_option",
                "job-bookmark-pause",
                "--rebuild",
                "true",
            ],
        )
    ]


def test_workflow_runs_jobs_in_order_and_stops_at_the_first_failure(monkeypatch, capsys, root):
    ran = []

    def fake_run(job, argv):
        ran.append(job)
        if job == "raw_campaign_info":
            raise RuntimeError("boom")

    monkeypatch.setattr(registry, "run_job", fake_run)
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["workflow", "run", "campaign", "--lake-root", root])
    assert ran == ["raw_user_campaign", "raw_campaign_info"]
    assert "raw_campaign_info failed; later steps not run" in capsys.readouterr().err


def test_unknown_job_and_workflow_are_clear_errors(capsys, root):
    assert cli.main(["run", "no_such_job", "--lake-root", root]) == 2
    assert cli.main(["workflow", "run", "nightly", "--lake-root", root]) == 2
    err = capsys.readouterr().err
    assert "unknown job 'no_such_job'; jobs: curated_campaign_task_progress" in err
    assert "unknown workflow 'nightly'; workflows: campaign" in err


# --- every command with a bad input: one line on stderr, `lake: …`, and exit status 2 ------------------


BAD_INPUTS = [
    (["init", "--lake-root", "{file}"], "lake: {file} exists and is not a folder"),
    (["run", "no_such_job", "--lake-root", "{root}"], "lake: unknown job 'no_such_job'; jobs: curated_campaign_task"),
    (
        ["run", "raw_user_campaign", "--lake-root", "{root}", "--arg", "foo=bar"],
        "lake: job raw_user_campaign has no argument 'foo'; valid: job_bookmark_option, rebuild",
    ),
    (
        ["run", "curated_campaign_tasks", "--lake-root", "{root}", "--arg", "rebuild=maybe"],
        "lake: argument rebuild: expected true|false, got 'maybe'",
    ),
    (
        ["run", "raw_user_campaign", "--lake-root", "{root}", "--arg", "job-bookmark-option=job-bookmark-stop"],
        "lake: argument job_bookmark_option: expected job-bookmark-enable|job-bookmark-disable|job-bookmark-pause",
    ),
    (
        ["run", "ingest_users", "--lake-root", "{root}", "--arg", "requests=0"],
        "lake: argument requests: expected an integer >= 1, got '0'",
    ),
    (["run", "users_daily", "--lake-root", "{root}", "--arg", "date=2026-13-01"], "lake: argument date: expected "),
    (["run", "raw_user_campaign", "--lake-root", "{root}/missing"], "lake: lake root {root}/missing does not exist: "),
    (["run", "raw_user_campaign", "--arg", "novalue"], "lake run: argument --arg: expected KEY=VALUE, got 'novalue'"),
    (["workflow", "run", "nightly", "--lake-root", "{root}"], "lake: unknown workflow 'nightly'; workflows: campaign"),
    (
        ["workflow", "run", "users", "--lake-root", "{root}", "--arg", "colour=red"],
        "lake: workflow users has no argument 'colour'; valid: attempts, backoff_seconds, catch_up, date,",
    ),
    (["workflow", "stop", "campaign"], "lake workflow: argument action: invalid choice: 'stop'"),
    (["bookmarks", "show", "no_such_job", "--lake-root", "{root}"], "lake: unknown job 'no_such_job'; jobs: "),
    (["bookmarks", "reset", "--lake-root", "{root}"], "lake: `lake bookmarks reset` needs a JOB"),
    (["bookmarks", "show", "--lake-root", "{root}/missing"], "lake: lake root {root}/missing does not exist: "),
    (["query", "queries/nope.sql", "--lake-root", "{root}"], "lake: no such SQL file: queries/nope.sql"),
    (["query", "--lake-root", "{root}", "-e", "SELECT avg(x) FROM t"], "lake: avg() answers differently on Spark"),
    (["query", "--lake-root", "{root}", "-e", "SELECT FROM WHERE ("], "lake: cannot read the SQL as Athena SQL"),
    (["query", "--limit", "many", "-e", "SELECT 1"], "lake query: argument --limit: invalid int value: 'many'"),
    (["catalog", "ddl", "raw.nope"], "lake: "),
    (["crawl", "partners", "--lake-root", "{root}/missing"], "lake: lake root {root}/missing does not exist: "),
    (["tables", "--lake-root", "{root}/missing"], "lake: lake root {root}/missing does not exist: "),
    (["tables", "--format", "xml"], "lake tables: argument --format: invalid choice: 'xml'"),
    (["jars", "--fast"], "lake: unrecognized arguments: --fast"),
    (["frobnicate"], "lake: argument command: invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize(
    "argv, message", BAD_INPUTS, ids=[" ".join(a[:2]) + f" #{i}" for i, (a, _) in enumerate(BAD_INPUTS)]
)
def test_a_bad_input_is_one_line_and_exit_status_2(argv, message, root, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LAKE_ROOT", raising=False)
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    fill = {"root": root, "file": str(a_file)}
    capsys.readouterr()
    assert cli.main([arg.format(**fill) for arg in argv]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(message.format(**fill)), err
    assert err.count("\n") == 1, err
    assert out == ""


def test_a_bad_input_stops_before_spark_starts(root, monkeypatch, capsys):
    """Arguments are checked before the job's lock and session: no SparkSession, no lake files."""
    from pyspark.sql import SparkSession

    monkeypatch.setattr(SparkSession.Builder, "getOrCreate", lambda self: pytest.fail("Spark started"))
    assert cli.main(["run", "raw_user_campaign", "--lake-root", root, "--arg", "rebuild=maybe"]) == 2
    assert list(Path(root).iterdir()) == []


def test_lake_run_job_help_lists_the_jobs_arguments_with_defaults(capsys):
    assert cli.main(["run", "users_daily", "--help"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "usage: lake run users_daily [--lake-root DIR] [--env ENV] [--verbose] [--arg KEY=VALUE ...]"
    rows = {line.split()[0]: line.split()[1:3] for line in out[out.index("arguments (--arg KEY=VALUE):") + 2 :]}
    assert rows == {
        "job_bookmark_option": ["job-bookmark-enable|job-bookmark-disable|job-bookmark-pause", "job-bookmark-enable"],
        "rebuild": ["true|false", "false"],
        "date": ["YYYY-MM-DD|yesterday|ingested", "-"],
        "catch_up": ["true|false", "false"],
    }


def test_lake_init_makes_the_lake_root_and_says_so(tmp_path, capsys):
    root = tmp_path / "new" / "lake"
    assert cli.main(["init", "--lake-root", str(root)]) == 0
    assert capsys.readouterr().out == f"lake root {root} created (land sources under {root / 'landing'})\n"
    assert sorted(p.name for p in root.iterdir()) == ["landing"]
    assert cli.main(["init", "--lake-root", str(root)]) == 0
    assert capsys.readouterr().out.startswith(f"lake root {root} already exists")
