"""What makes the same code run on Glue, on S3 and on a cluster: Glue's arguments, S3 roots, S3A settings."""

from __future__ import annotations

import boto3
import pytest

from lakekit.core import state as bm
from lakekit.core.job import resolve_args
from lakekit.core.session import check_delta, metastore_dir, s3a_conf
from lakekit.core.settings import ConfigError, load_settings
from lakekit.core.storage import S3_REQUESTS, LocalStorage, S3Storage, StorageError, storage_for
from tests.helpers import run_job

DELTA_CONF = (
    "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension --conf "
    "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog"
)
# A Glue 5.1 job run's command line: Glue's own arguments around the job's defaults.
GLUE_ARGV = [
    "script.py",
    "--JOB_ID",
    "j_0123",
    "--JOB_RUN_ID",
    "jr_0123",
    "--JOB_NAME",
    "curated_users",
    "--TempDir",
    "s3://aws-glue-assets/temporary/",
    "--job-bookmark-option",
    "job-bookmark-disable",
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
    "--job-language",
    "python",
    "--env",
    "aws",
    "--lake_root",
    "s3://lake/prod",
    "--date",
    "ingested",
]


def test_every_argument_glue_passes_is_accepted_and_the_jobs_own_are_read():
    args = resolve_args(GLUE_ARGV, {"date": None, "catch_up": "false"})
    assert {k: args[k] for k in ("JOB_NAME", "env", "lake_root", "job_bookmark_option", "date", "catch_up")} == {
        "JOB_NAME": "curated_users",
        "env": "aws",
        "lake_root": "s3://lake/prod",
        "job_bookmark_option": bm.DISABLE,
        "date": "ingested",
        "catch_up": "false",
    }


def test_glues_default_bookmark_option_is_announced_loudly_and_changes_nothing_it_should_not(lake_root, capsys):
    run_job(lake_root, "raw_user_campaign", **{"job-bookmark-option": bm.DISABLE})
    out = capsys.readouterr().out
    assert (
        "[raw_user_campaign] lake root "
        f"{lake_root}; BOOKMARK DISABLED (--job-bookmark-option job-bookmark-disable, the default of a new Glue job): "
        "this run REPROCESSES EVERYTHING from the start (idempotently: the tables end the same) and does NOT advance "
        "the bookmark, so every run costs a full reprocess; for incremental runs set --job-bookmark-option "
        "job-bookmark-enable\n"
    ) in out
    assert bm.Bookmarks(load_settings("local", lake_root)).position("raw_user_campaign") == {}


def test_a_local_lake_root_in_a_folder_that_does_not_exist_is_refused_in_one_line(tmp_path):
    root = tmp_path / "no" / "such" / "lake"
    with pytest.raises(ConfigError) as raised:
        run_job(str(root), "raw_user_campaign")
    assert str(raised.value) == (
        f"lake root {root} does not exist: make it with `lake init --lake-root {root}`, "
        "or point --lake-root / LAKE_ROOT at an existing lake"
    )
    assert not (tmp_path / "no").exists()


def test_the_suites_session_has_deltas_extension_and_catalog(spark):
    check_delta(spark)  # raises, naming the --conf to add, when either is missing (make test-aws shows it)


def test_the_standard_aws_variables_become_s3a_settings():
    env = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
    }
    assert s3a_conf(env) == {
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.committer.magic.enabled": "false",
        "spark.hadoop.fs.s3a.directory.marker.retention": "keep",
        "spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:5000",
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
        "spark.hadoop.fs.s3a.endpoint.region": "eu-west-1",
        "spark.hadoop.fs.s3a.access.key": "AKIA",
        "spark.hadoop.fs.s3a.secret.key": "secret",
        "spark.hadoop.fs.s3a.session.token": "token",
        "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider",
    }
    # The S3-specific endpoint wins over the general one; without keys S3A keeps its default chain.
    assert s3a_conf({"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_S3": "https://s3.example"}) == {
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.committer.magic.enabled": "false",
        "spark.hadoop.fs.s3a.directory.marker.retention": "keep",
        "spark.hadoop.fs.s3a.endpoint": "https://s3.example",
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "true",
    }


def test_s3_and_s3a_roots_keep_state_on_s3_and_derby_off_the_lake(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for root in ("s3://lake/prod", "s3a://lake/prod"):
        assert isinstance(storage_for(root), S3Storage)
        settings = load_settings("local", root)
        assert metastore_dir(settings).is_relative_to(tmp_path / ".cache" / "lakekit" / "metastore")
    assert isinstance(storage_for(str(tmp_path)), LocalStorage)
    assert metastore_dir(load_settings("local", str(tmp_path))) == tmp_path / "_metastore"


@pytest.fixture(scope="module")
def s3():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket="lake")
    yield client
    server.stop()


def test_s3a_listings_keep_their_scheme_list_after_a_name_and_are_counted(s3):
    storage = S3Storage(s3)
    for name in ("00000000000000000000.json", "00000000000000000001.json", "00000000000000000002.json"):
        storage.write_text(f"s3a://lake/t/_delta_log/{name}", "{}")
    S3_REQUESTS.clear()
    assert storage.list_files("s3a://lake/t/_delta_log", start_after="00000000000000000001.json") == [
        "s3a://lake/t/_delta_log/00000000000000000002.json"
    ]
    assert storage.list_dirs("s3a://lake/t") == ["s3a://lake/t/_delta_log"]
    assert dict(S3_REQUESTS) == {"ListObjectsV2": 2}


def test_a_missing_bucket_is_one_line_naming_the_setting(s3):
    with pytest.raises(StorageError) as raised:
        S3Storage(s3).check_root("s3a://no-such-bucket/lake")
    assert str(raised.value) == (
        "lake root s3a://no-such-bucket/lake: bucket no-such-bucket does not exist; fix --lake_root "
        "(--lake-root, LAKE_ROOT) or create the bucket"
    )
    S3Storage(s3).check_root("s3a://lake/anything")


def test_glues_own_arguments_pass_silently_and_a_misspelt_one_is_named(lake_root, capsys):
    glue = {"JOB_ID": "j_1", "JOB_RUN_ID": "jr_1", "TempDir": "s3://tmp/", "enable-glue-datacatalog": "true"}
    run_job(lake_root, "raw_user_campaign", **glue, lake_roto="/elsewhere")
    notes = [line for line in capsys.readouterr().out.splitlines() if "does not read" in line]
    assert notes == ["[raw_user_campaign] argument(s) this job does not read, ignored: --lake_roto"]
