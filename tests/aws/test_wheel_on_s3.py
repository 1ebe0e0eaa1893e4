"""The wheel alone, installed in a fresh virtualenv, runs the campaign with --env aws on a local S3 and Glue API.

Slow (three JVMs and a venv): `make test-aws`, run from .ci/run after `make test`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from chispa import assert_df_equality

from scripts.export_writer import Change, write_incremental_export
from tests.cloud import (
    ENVIRONMENT,
    REPO,
    aws_env,
    base_env,
    client,
    download_tree,
    environment_aliases,
    environment_names,
    job_key,
    make_stack_resources,
    run,
    run_workflow,
    upload_tree,
)
from tests.helpers import read_table, run_campaign
from tests.iam_recording import check_recording

pytestmark = pytest.mark.aws

ROOT = "s3a://lake/w"
NAMES = environment_names()
CAMPAIGN_TABLES = ["raw.user_campaign", "raw.campaign_info", "curated.campaign_tasks", "curated.campaign_task_progress"]
# When and from which file the raw job read a record: they differ between any two runs.
RUN_COLUMNS = ["_source_file", "_ingested_at"]
DELTA_CONF = (
    "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension --conf "
    "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog"
)
# Everything Glue 5.1 puts on a job's command line for a job made with its defaults plus ours.
GLUE_ARGS = [
    "--JOB_ID",
    "j_0123",
    "--JOB_RUN_ID",
    "jr_0123",
    "--TempDir",
    "s3://aws-glue-assets/temporary/",
    "--job-bookmark-option",
    "job-bookmark-enable",
    "--enable-glue-datacatalog",
    "true",
    "--datalake-formats",
    "delta",
    "--conf",
    DELTA_CONF,
    "--additional-python-modules",
    "s3://artifacts/lakekit-0.1.0-py3-none-any.whl",
    "--enable-metrics",
    "true",
    "--enable-continuous-cloudwatch-log",
    "true",
    "--job-language",
    "python",
]


@pytest.fixture(scope="module")
def lake(moto, venv, tmp_path_factory):
    """The campaign, from the wheel: one job script as Glue runs it, then the workflow (`lake` from the wheel), each
    job in its own process signing with its own key, in the environment's Glue databases the stack makes."""
    s3 = client(moto.endpoint, "s3")
    s3.create_bucket(Bucket="lake")
    make_stack_resources(moto.endpoint)
    upload_tree(s3, REPO / "samples" / "landing", "lake", "w/landing")
    home, cwd = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("cwd")
    env = {**base_env(home), **aws_env(moto.endpoint), "PATH": f"{venv / 'bin'}:{base_env(home)['PATH']}"}
    env["LAKE_ENVIRONMENT"] = ENVIRONMENT
    site = next((venv / "lib").glob("python3*/site-packages"))
    script = site / "jobs" / "raw_user_campaign.py"
    argv = [str(script), "--JOB_NAME", "raw_user_campaign", "--env", "aws", "--lake_root", ROOT, *GLUE_ARGS]
    first = run([str(venv / "bin" / "python"), *argv], {**env, "AWS_ACCESS_KEY_ID": job_key("raw_user_campaign")}, cwd)
    workflow = run_workflow(venv, env, cwd, "campaign", ROOT)
    return {
        "s3": s3,
        "env": env,
        "cwd": cwd,
        "home": home,
        "venv": venv,
        "site": site,
        "out": first.stdout + workflow.stdout,
    }


def test_the_installed_wheel_is_what_runs(lake):
    probe = (
        "import json, sys, lakekit, transforms, jobs, catalog; "
        "print(json.dumps([m.__file__ for m in (lakekit, transforms, jobs, catalog)] + [sys.path]))"
    )
    result = run([str(lake["venv"] / "bin" / "python"), "-c", probe], lake["env"], lake["cwd"])
    *files, path = json.loads(result.stdout)
    assert all(f.startswith(str(lake["site"])) for f in files), files
    assert not any(p.startswith(str(REPO)) and "site-packages" not in p for p in path)


def test_the_campaign_on_s3_equals_the_local_run_row_for_row(lake, spark, tmp_path):
    local = tmp_path / "local"
    shutil.copytree(REPO / "samples" / "landing", local / "landing")
    run_campaign(str(local))
    copy = tmp_path / "from_s3"
    download_tree(lake["s3"], "lake", "w", copy)
    for name in CAMPAIGN_TABLES:
        expected = read_table(spark, str(local), name)
        actual = read_table(spark, str(copy), name)
        drop = [c for c in RUN_COLUMNS if c in expected.columns]
        assert_df_equality(actual.drop(*drop), expected.drop(*drop), ignore_row_order=True, ignore_nullable=True)


def test_every_piece_of_state_is_on_s3_and_nothing_on_the_driver(lake, tmp_path):
    keys = download_tree(lake["s3"], "lake", "w", tmp_path / "copy")
    state = sorted(k for k in keys if k.startswith("_state/"))
    assert state == [
        "_state/bookmarks/curated_campaign_task_progress.json",
        "_state/bookmarks/curated_campaign_tasks.json",
        "_state/bookmarks/raw_campaign_info.json",
        "_state/bookmarks/raw_user_campaign.json",
        "_state/exports/raw_campaign_info.json",
        "_state/exports/raw_user_campaign.json",
    ]  # locks removed at the end of each run
    # No _staging left; _warehouse holds only the folder marker Spark's in-memory catalog makes at start.
    assert {k.split("/")[0] for k in keys} == {"landing", "raw", "curated", "quarantine", "_state", "_warehouse"}
    assert [k for k in keys if k.startswith("_warehouse")] == ["_warehouse/"]
    assert list(lake["cwd"].iterdir()) == []  # no metastore, derby.log, warehouse or lake on the driver
    assert f"Glue Data Catalog: {NAMES.database('raw')}.user_campaign created" in lake["out"]


def test_the_jobs_registered_the_tables_in_glue_for_athena_and_spark(lake, moto):
    glue = client(moto.endpoint, "glue")
    raw = glue.get_table(DatabaseName=NAMES.database("raw"), Name="user_campaign")["Table"]
    assert raw["StorageDescriptor"]["Location"] == "s3a://lake/w/raw/user_campaign/"
    assert raw["Parameters"]["projection.enabled"] == "true"
    assert raw["Parameters"]["storage.location.template"] == "s3a://lake/w/raw/user_campaign/p_date=${p_date}/"
    today = datetime.now(UTC).date().isoformat()
    partitions = glue.get_partitions(DatabaseName=NAMES.database("raw"), TableName="user_campaign")["Partitions"]
    assert [p["Values"] for p in partitions] == [[today]]
    for name in ("campaign_tasks", "campaign_task_progress"):
        table = glue.get_table(DatabaseName=NAMES.database("curated"), Name=name)["Table"]
        assert table["Parameters"]["table_type"] == "DELTA"
        assert table["StorageDescriptor"]["Location"] == f"s3a://lake/w/curated/{name}/"


def _noop_reads(lake, moto) -> tuple[dict[str, int], str]:
    moto.counts.clear()
    result = run_workflow(lake["venv"], lake["env"], lake["cwd"], "campaign", ROOT)
    return moto.reads(), result.stdout


def _land_incrementals(lake, tmp_path, count: int) -> None:
    landing = tmp_path / "landing"
    start = datetime(2026, 11, 20, 12, tzinfo=UTC)
    for n in range(count):
        keys = {"userID": f"USER#n{n}", "campaignID": "CAMP#spring"}
        item = {**keys, "userCampaignProgressState": "IN_PROGRESS", "totalTaskRewardsEarned": Decimal(n)}
        frm, to = start + timedelta(hours=n), start + timedelta(hours=n + 1)
        write_incremental_export(landing, "user_Campaign", frm, to, [Change(keys, item, None, frm)])
    upload_tree(lake["s3"], landing, "lake", "w/landing")


def test_a_run_with_nothing_new_makes_the_same_s3_reads_after_3_exports_as_after_30(lake, moto, tmp_path):
    after_3, out = _noop_reads(lake, moto)
    assert "SparkSession started" not in out  # known from the lake's state: no JVM at all
    _land_incrementals(lake, tmp_path, 27)
    applied = run_workflow(lake["venv"], lake["env"], lake["cwd"], "campaign", ROOT)
    assert "export 27/27" in applied.stdout
    after_30, out = _noop_reads(lake, moto)
    assert "SparkSession started" not in out
    print(f"S3 reads of a no-op campaign workflow: after 3 exports {after_3}, after 30 {after_30}")
    assert after_30 == after_3
    assert sum(after_3.values()) < 30


@pytest.mark.parametrize(
    ("root", "env_change", "message"),
    [
        (
            "s3a://no-such-bucket/w",
            {},
            "lake: lake root s3a://no-such-bucket/w: bucket no-such-bucket does not exist; fix --lake_root",
        ),
        (
            ROOT,
            {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_EC2_METADATA_DISABLED": "true"},
            "lake: lake root s3a://lake/w: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ),
    ],
    ids=["missing-bucket", "no-credentials"],
)
def test_a_lake_root_that_cannot_be_used_is_one_line_and_nothing_is_written(lake, root, env_change, message):
    env = {k: v for k, v in {**lake["env"], **env_change}.items() if v is not None}
    before = download_tree(lake["s3"], "lake", "w", Path(lake["home"]) / "before")
    result = subprocess.run(
        [str(lake["venv"] / "bin" / "lake"), "job", "run", "raw_user_campaign", "--env", "aws", "--lake-root", root],
        env=env,
        cwd=lake["cwd"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1  # a handled failure: the lake root cannot be used
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(message)
    assert download_tree(lake["s3"], "lake", "w", Path(lake["home"]) / "after") == before


def test_spark_without_delta_fails_at_start_naming_the_conf_to_add(venv, moto, tmp_path):
    """What Glue does with --datalake-formats delta alone: a session without Delta's extension and catalog."""
    spark_submit = Path(__import__("pyspark").__file__).parent / "bin" / "spark-submit"
    python = str(venv / "bin" / "python")
    script = next((venv / "lib").glob("python3*/site-packages")) / "jobs" / "curated_campaign_tasks.py"
    argv = [str(spark_submit), "--master", "local[1]", str(script), "--JOB_NAME", "curated_campaign_tasks"]
    env = {**base_env(tmp_path), **aws_env(moto.endpoint), "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python}
    client(moto.endpoint, "s3").create_bucket(Bucket="nodelta")
    result = subprocess.run(
        [*argv, "--env", "aws", "--lake_root", "s3a://nodelta/w", "--job-bookmark-option", "job-bookmark-disable"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # spark-submit's PythonRunner merges the script's stderr into its stdout.
    lines = [line for line in result.stdout.splitlines() if line.startswith(("[", "lakekit."))]
    assert result.returncode != 0
    assert (
        "BOOKMARK DISABLED (--job-bookmark-option job-bookmark-disable, the default of a new Glue job)" in result.stdout
    )
    assert (
        "lakekit.core.job.JobError: Delta is not active in this Spark session (spark.sql.extensions and "
        "spark.sql.catalog.spark_catalog not set): add the job parameter --conf with the value "
        f"'{DELTA_CONF}'"
    ) in lines[-1], result.stdout[-3000:]


def test_every_request_a_job_made_is_in_the_recording_deploy_check_evaluates(lake, moto):
    """Last in this file: every request of the jobs above is a known IAM request in deploy/iam/calls.jsonl."""
    check_recording(moto.requests, bucket="lake", lake_prefix="w", aliases=environment_aliases())
