"""The `lake` CLI's own logic: argument mapping, workflow order and stopping at the first failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakekit import cli
from lakekit.core import registry


@pytest.fixture
def root(tmp_path) -> str:
    (tmp_path / "lake").mkdir()
    return str(tmp_path / "lake")


def test_job_run_passes_glue_style_arguments_to_the_job(monkeypatch, root):
    calls = []
    monkeypatch.setattr(registry, "run_job", lambda job, argv: calls.append((job, argv)))
    argv = ["raw_user_campaign", "--lake-root", root, "--arg", "job-bookmark-option=job-bookmark-pause"]
    assert cli.main(["job", "run", *argv, "--arg", "rebuild=true"]) == 0
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
    assert cli.main(["workflow", "run", "campaign", "--lake-root", root]) == 1  # a failed job: handled, 1
    assert ran == ["raw_user_campaign", "raw_campaign_info"]
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err  # the traceback, for whoever debugs the job
    assert err.endswith(
        "lake: RuntimeError: boom\n== workflow campaign: raw_campaign_info failed; later steps not run\n"
    )


def test_workflow_summary_as_json_names_each_job_its_status_and_what_was_not_run(monkeypatch, capsys, root):
    def fake_run(job, argv):
        print(f"[{job}] did its part")
        if job == "raw_campaign_info":
            raise RuntimeError("boom")

    monkeypatch.setattr(registry, "run_job", fake_run)
    assert cli.main(["workflow", "run", "campaign", "--lake-root", root, "--format", "json"]) == 1
    out, err = capsys.readouterr()
    summary = json.loads(out)  # stdout holds the summary alone: the jobs' lines went to stderr
    for job in summary["jobs"]:
        assert job.pop("duration_seconds") >= 0
    assert summary.pop("duration_seconds") >= 0
    assert summary == {
        "workflow": "campaign",
        "status": "failed",
        "jobs": [
            {"job": "raw_user_campaign", "status": "succeeded", "messages": ["did its part"], "versions_written": {}},
            {
                "job": "raw_campaign_info",
                "status": "failed",
                "error": "RuntimeError: boom",
                "messages": ["did its part"],
                "versions_written": {},
            },
        ],
        "not_run": ["curated_campaign_tasks", "curated_campaign_task_progress"],
    }
    assert "[raw_user_campaign] did its part" in err


def test_unknown_job_and_workflow_are_usage_errors(capsys, root):
    assert cli.main(["job", "run", "no_such_job", "--lake-root", root]) == 2
    assert cli.main(["workflow", "run", "nightly", "--lake-root", root]) == 2
    assert cli.main(["job", "show", "no_such_job"]) == 2
    assert cli.main(["workflow", "show", "nightly"]) == 2
    err = capsys.readouterr().err
    assert "unknown job 'no_such_job'; jobs: curated_campaign_task_progress" in err
    assert "unknown workflow 'nightly'; workflows: campaign" in err


# --- every command with a bad input: one line on stderr, `lake: …`; 2 for the command line, 1 for the rest ---


USAGE_ERRORS = [
    (["job", "run", "no_such_job", "--lake-root", "{root}"], "lake: unknown job 'no_such_job'; jobs: curated_campaign"),
    (
        ["job", "run", "raw_user_campaign", "--lake-root", "{root}", "--arg", "foo=bar"],
        "lake: job raw_user_campaign has no argument 'foo'; valid: job_bookmark_option, names, rebuild",
    ),
    (
        ["job", "run", "curated_campaign_tasks", "--lake-root", "{root}", "--arg", "rebuild=maybe"],
        "lake: argument rebuild: expected true|false, got 'maybe'",
    ),
    (
        ["job", "run", "raw_user_campaign", "--lake-root", "{root}", "--arg", "job-bookmark-option=job-bookmark-stop"],
        "lake: argument job_bookmark_option: expected job-bookmark-enable|job-bookmark-disable|job-bookmark-pause",
    ),
    (
        ["job", "run", "ingest_users", "--lake-root", "{root}", "--arg", "requests=0"],
        "lake: argument requests: expected an integer >= 1, got '0'",
    ),
    (["job", "run", "curated_users", "--lake-root", "{root}", "--arg", "date=2026-13-01"], "lake: argument date: "),
    (
        ["job", "run", "raw_user_campaign", "--arg", "novalue"],
        "lake job run: argument --arg: expected KEY=VALUE, got 'novalue'",
    ),
    (["job", "frobnicate"], "lake job: argument action: invalid choice: 'frobnicate'"),
    (["workflow", "run", "nightly", "--lake-root", "{root}"], "lake: unknown workflow 'nightly'; workflows: campaign"),
    (
        ["workflow", "run", "users", "--lake-root", "{root}", "--arg", "colour=red"],
        "lake: workflow users has no argument 'colour'; valid: attempts, backoff_seconds, catch_up, date,",
    ),
    (["workflow", "stop", "campaign"], "lake workflow: argument action: invalid choice: 'stop'"),
    (["bookmark", "show", "no_such_job", "--lake-root", "{root}"], "lake: unknown job 'no_such_job'; jobs: "),
    (["bookmark", "reset", "--lake-root", "{root}"], "lake bookmark reset: the following arguments are required: job"),
    (["query", "--limit", "many", "-e", "SELECT 1"], "lake query: argument --limit: invalid int value: 'many'"),
    (["catalog", "ddl", "raw.nope"], "lake: unknown table 'raw.nope'; tables: curated."),
    (["table", "features", "raw.nope"], "lake: unknown table 'raw.nope'; tables: curated."),
    (["table", "list", "--format", "xml"], "lake table list: argument --format: invalid choice: 'xml'"),
    (["jars", "--fast"], "lake: unrecognized arguments: --fast"),
    (["frobnicate"], "lake: argument COMMAND: invalid choice: 'frobnicate'"),
]

HANDLED_FAILURES = [
    (["init", "--lake-root", "{file}"], "lake: {file} exists and is not a folder"),
    (["job", "run", "raw_user_campaign", "--lake-root", "{root}/missing"], "lake: lake root {root}/missing does not"),
    (["bookmark", "show", "--lake-root", "{root}/missing"], "lake: lake root {root}/missing does not exist: "),
    (["query", "queries/nope.sql", "--lake-root", "{root}"], "lake: no such SQL file: queries/nope.sql"),
    (["query", "--lake-root", "{root}", "-e", "SELECT avg(x) FROM t"], "lake: avg() answers differently on Spark"),
    (["query", "--lake-root", "{root}", "-e", "SELECT FROM WHERE ("], "lake: cannot read the SQL as Athena SQL"),
    (["catalog", "crawl", "partners", "--lake-root", "{root}/missing"], "lake: lake root {root}/missing does not "),
    (["table", "list", "--lake-root", "{root}/missing"], "lake: lake root {root}/missing does not exist: "),
]


def _bad_input(argv, root, tmp_path, capsys, monkeypatch) -> tuple[int, str, str, dict]:
    monkeypatch.delenv("LAKE_ROOT", raising=False)
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    fill = {"root": root, "file": str(a_file)}
    capsys.readouterr()
    code = cli.main([arg.format(**fill) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err, fill


@pytest.mark.parametrize(
    "argv, message", USAGE_ERRORS, ids=[" ".join(a[:2]) + f" #{i}" for i, (a, _) in enumerate(USAGE_ERRORS)]
)
def test_a_usage_error_is_one_line_and_exit_status_2(argv, message, root, tmp_path, capsys, monkeypatch):
    code, out, err, fill = _bad_input(argv, root, tmp_path, capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert err.startswith(message.format(**fill)), err
    assert err.count("\n") == 1, err


@pytest.mark.parametrize(
    "argv, message", HANDLED_FAILURES, ids=[" ".join(a[:2]) + f" #{i}" for i, (a, _) in enumerate(HANDLED_FAILURES)]
)
def test_a_handled_failure_is_one_line_and_exit_status_1(argv, message, root, tmp_path, capsys, monkeypatch):
    code, out, err, fill = _bad_input(argv, root, tmp_path, capsys, monkeypatch)
    assert (code, out) == (1, "")
    assert err.startswith(message.format(**fill)), err
    assert err.count("\n") == 1, err


# Each old spelling, the same command line in the new one, and the exit status both give (here: failures,
# which need no lake; the end-to-end test runs a job by its old spelling).
OLD_SPELLINGS = [
    (["run", "no_such_job"], ["job", "run", "no_such_job"], 2),
    (["tables", "--format", "xml"], ["table", "list", "--format", "xml"], 2),
    (["crawl", "raw", "--lake-root", "{root}/m"], ["catalog", "crawl", "raw", "--lake-root", "{root}/m"], 1),
    (["bookmarks", "show", "nope", "--lake-root", "{root}"], ["bookmark", "show", "nope", "--lake-root", "{root}"], 2),
    (
        ["produce", "nope", "--url", "u", "--api-key", "k"],
        ["stream", "produce", "nope", "--url", "u", "--api-key", "k"],
        2,
    ),
]


@pytest.mark.parametrize("old, new, code", OLD_SPELLINGS, ids=[o[0] for o, _, _ in OLD_SPELLINGS])
def test_an_old_spelling_names_its_new_one_and_behaves_as_it(old, new, code, root, capsys):
    old, new = ([a.format(root=root) for a in argv] for argv in (old, new))
    assert cli.main(old) == code
    old_out, old_err = capsys.readouterr()
    assert cli.main(new) == code
    new_out, new_err = capsys.readouterr()
    spelt = " ".join(new[: len(new) - len(old) + 1])
    notice = f"lake {old[0]} is now `lake {spelt}`; the old spelling goes in the next release\n"
    assert (old_out, old_err) == (new_out, notice + new_err)
    assert new_err.startswith("lake")  # the failure's own line follows the notice


RENAMED_NOTICE = "job users_daily is now curated_users; the old name goes in the next release\n"


# A renamed job's old name on each command that names one job, the same command with its new name, and the exit
# status both give (here: no run that needs Spark; the users pipeline's tests run the job on a lake written by it).
RENAMED_JOB = [
    (["job", "show", "users_daily", "--format", "json"], 0),
    (["job", "run", "users_daily", "--lake-root", "{root}", "--arg", "date=2026-13-01"], 2),
    (["bookmark", "show", "users_daily", "--lake-root", "{root}"], 0),
    (["bookmark", "reset", "users_daily", "--lake-root", "{root}"], 0),
    (["bookmark", "unlock", "users_daily", "--lake-root", "{root}"], 0),
]


@pytest.mark.parametrize("old, code", RENAMED_JOB, ids=[" ".join(o[:2]) for o, _ in RENAMED_JOB])
def test_a_renamed_jobs_old_name_names_its_new_one_and_acts_on_it(old, code, root, capsys):
    old = [a.format(root=root) for a in old]
    new = [a.replace("users_daily", "curated_users") for a in old]
    assert cli.main(old) == code
    old_out, old_err = capsys.readouterr()
    assert cli.main(new) == code
    new_out, new_err = capsys.readouterr()
    assert (old_out.replace("users_daily", "curated_users"), old_err) == (new_out, RENAMED_NOTICE + new_err)


def test_a_renamed_job_is_one_job_its_old_name_only_finds_it(capsys):
    assert registry.renamed() == {"users_daily": "curated_users"}
    assert "users_daily" not in registry.jobs()
    assert registry.job("users_daily") is registry.job("curated_users")
    assert registry.job_argv("users_daily", "/lake") == registry.job_argv("curated_users", "/lake")
    assert registry.job("curated_users").state_name == "users_daily"
    assert registry.job("ingest_users").state_name == "ingest_users"  # a job's state is under its name by default
    assert cli.main(["job", "run", "users_daily", "--help"]) == 0
    out, err = capsys.readouterr()
    assert err == RENAMED_NOTICE
    assert out.startswith("usage: lake job run curated_users ")


def test_a_renamed_jobs_bookmark_is_the_one_under_its_state_name(root, capsys):
    state = Path(root, "_state")
    (state / "bookmarks").mkdir(parents=True)
    (state / "bookmarks" / "users_daily.json").write_text(
        json.dumps({"job": "users_daily", "updated_at": "2026-11-20T01:30:00+00:00", "position": {"days": {}}})
    )
    assert cli.main(["bookmark", "show", "--lake-root", root, "--format", "json"]) == 0
    shown = {m["job"]: m for m in map(json.loads, capsys.readouterr().out.splitlines())}
    assert "users_daily" not in shown  # the bookmark is curated_users', not a job of its own
    assert shown["curated_users"] == {
        "job": "curated_users",
        "updated_at": "2026-11-20T01:30:00+00:00",
        "position": {"days": {}},
    }
    assert cli.main(["bookmark", "reset", "curated_users", "--lake-root", root]) == 0
    assert not (state / "bookmarks" / "users_daily.json").exists()


def test_version_is_the_installed_distributions(capsys):
    from importlib.metadata import packages_distributions, version

    (distribution,) = set(packages_distributions()["lakekit"])
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"lake {version(distribution)} (distribution {distribution})\n"


def test_job_and_workflow_list_and_show(capsys):
    assert cli.main(["workflow", "show", "users", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "workflow": "users",
        "steps": [{"job": "ingest_users", "args": {}}, {"job": "curated_users", "args": {"date": "ingested"}}],
    }
    assert cli.main(["workflow", "list", "--format", "json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed == [
        {"workflow": n, "jobs": [s.job for s in registry.workflow(n)]} for n in sorted(registry.workflows())
    ]
    assert {"workflow": "users", "jobs": ["ingest_users", "curated_users"]} in listed
    assert cli.main(["job", "list", "--format", "json"]) == 0
    jobs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [j["job"] for j in jobs] == registry.job_names()
    assert {
        "job": "curated_users",
        "pipeline": "users",
        "description": registry.job("curated_users").description,
    } in jobs
    assert cli.main(["job", "show", "curated_users", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {k: shown[k] for k in ("job", "pipeline", "reads", "writes", "workflows")} == {
        "job": "curated_users",
        "pipeline": "users",
        "reads": ["raw.users", "_state/ingested/ingest_users.json"],
        "writes": ["curated.users", "curated.user_locations"],
        "workflows": ["users"],
    }
    assert [a["key"] for a in shown["arguments"]] == ["names", "job_bookmark_option", "rebuild", "date", "catch_up"]
    assert cli.main(["workflow", "show", "users"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "step | job           | arguments it gives",
        "-----+---------------+-------------------",
        "1    | ingest_users  | -",
        "2    | curated_users | date=ingested",
        "(2 rows)",
    ]


def test_a_bad_input_stops_before_spark_starts(root, monkeypatch, capsys):
    """Arguments are checked before the job's lock and session: no SparkSession, no lake files."""
    from pyspark.sql import SparkSession

    monkeypatch.setattr(SparkSession.Builder, "getOrCreate", lambda self: pytest.fail("Spark started"))
    assert cli.main(["job", "run", "raw_user_campaign", "--lake-root", root, "--arg", "rebuild=maybe"]) == 2
    assert list(Path(root).iterdir()) == []


def test_lake_job_run_job_help_lists_the_jobs_arguments_with_defaults(capsys):
    assert cli.main(["job", "run", "curated_users", "--help"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "usage: lake job run curated_users [--lake-root DIR] [--env ENV] [--verbose] [--arg KEY=VALUE ...]"
    rows = {line.split()[0]: line.split()[1:3] for line in out[out.index("arguments (--arg KEY=VALUE):") + 2 :]}
    assert rows == {
        "names": ["text", "-"],  # the deployment's physical names (the stack passes --names)
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


def _command_paths(parser, prefix=()) -> list[tuple[str, ...]]:
    """Every command of the parser as its words (("job", "run"), ("init",), ...)."""
    import argparse

    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _command_paths(sub, (*prefix, name)) or [(*prefix, name)]
    return found


def test_docs_cli_names_every_command_and_every_old_spelling():
    doc = (Path(__file__).resolve().parents[3] / "docs" / "cli.md").read_text()
    paths = _command_paths(cli.parser())
    assert sorted(" ".join(p) for p in paths) == [
        "bookmark reset",
        "bookmark show",
        "bookmark unlock",
        "catalog crawl",
        "catalog ddl",
        "init",
        "jars",
        "job list",
        "job run",
        "job show",
        "query",
        "serve",
        "stream produce",
        "table features",
        "table list",
        "workflow list",
        "workflow run",
        "workflow show",
    ]
    missing = [" ".join(p) for p in paths if f"`lake {' '.join(p)}" not in doc]
    assert missing == []
    for old, new in cli.OLD_SPELLINGS.items():
        assert f"| `lake {' '.join(old)}" in doc and f"| `lake {' '.join(new)}" in doc
