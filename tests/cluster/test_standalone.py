"""The campaign and users workflows on a Spark standalone cluster (a master and two workers, each its own JVM,
from pyspark's own bin/spark-class on 127.0.0.1) with the lake on a local S3 API: the same tables, row for row,
as the local run. Slow: `make test-cluster`, run from .ci/run after `make test`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from chispa import assert_df_equality

from lakekit.core.session import DELTA_PACKAGE, S3A_PACKAGE, cached_jars
from tests.cloud import REPO, aws_env, base_env, client, download_tree, upload_tree
from tests.helpers import read_table, run_campaign, run_job

pytestmark = pytest.mark.cluster

ROOT = "s3a://lake/cluster"
RANDOMUSER = f"file://{REPO / 'samples' / 'randomuser'}"
TABLES = [
    "raw.user_campaign",
    "raw.campaign_info",
    "curated.campaign_tasks",
    "curated.campaign_task_progress",
    "raw.users",
    "curated.users",
    "curated.user_locations",
]
# When and from which file a record was fetched or read: they differ between any two runs.
RUN_COLUMNS = ["_source_file", "_ingested_at", "_fetched_at"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive_workers(ui_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as answer:
            return sum(1 for w in json.load(answer)["workers"] if w["state"] == "ALIVE")
    except OSError:
        return 0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """spark://127.0.0.1:PORT with two workers of 1 core and 1 GiB each; every JVM stopped at the end."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    work = tmp_path_factory.mktemp("cluster")
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": "256m",
        "SPARK_LOG_DIR": str(work / "logs"),
    }
    port, ui_port = _free_port(), _free_port()
    spark_class = str(spark_home / "bin" / "spark-class")
    master_argv = ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port)]
    processes = [
        subprocess.Popen(
            [spark_class, *master_argv, "--webui-port", str(ui_port)],
            env=env,
            stdout=open(work / "master.log", "w"),  # noqa: SIM115 - closed with the process
            stderr=subprocess.STDOUT,
        )
    ]
    for number in (1, 2):
        worker_dir = work / f"worker{number}"
        worker_dir.mkdir()
        processes.append(
            subprocess.Popen(
                [
                    spark_class,
                    "org.apache.spark.deploy.worker.Worker",
                    "--host",
                    "127.0.0.1",
                    "--cores",
                    "1",
                    "--memory",
                    "1g",
                    "--webui-port",
                    str(_free_port()),
                    "--work-dir",
                    str(worker_dir),
                    f"spark://127.0.0.1:{port}",
                ],
                env=env,
                stdout=open(work / f"worker{number}.log", "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
        )
    try:
        deadline = time.monotonic() + 120
        while _alive_workers(ui_port) < 2:
            assert time.monotonic() < deadline, (work / "master.log").read_text()[-3000:]
            assert all(p.poll() is None for p in processes), "a cluster JVM exited"
            time.sleep(1)
        yield {"master": f"spark://127.0.0.1:{port}", "spark_home": spark_home, "work": work}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def cluster_lake(cluster, moto, tmp_path_factory):
    s3 = client(moto.endpoint, "s3")
    s3.create_bucket(Bucket="lake")
    upload_tree(s3, REPO / "samples" / "landing", "lake", "cluster/landing")
    home, cwd = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("cwd")
    jars = (cached_jars(DELTA_PACKAGE) or []) + (cached_jars(S3A_PACKAGE) or [])
    assert len(jars) >= 6, "run `lake jars --s3` first (make test-cluster does)"
    env = {
        **base_env(home),
        **aws_env(moto.endpoint),
        "SPARK_HOME": str(cluster["spark_home"]),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }
    argv = [
        str(cluster["spark_home"] / "bin" / "spark-submit"),
        "--master",
        cluster["master"],
        "--jars",
        ",".join(jars),
        "--driver-memory",
        "1g",
        "--conf",
        "spark.executor.memory=768m",
        "--conf",
        "spark.executor.cores=1",
        "--conf",
        "spark.ui.enabled=false",
        str(REPO / "tests" / "cluster" / "driver.py"),
        ROOT,
        RANDOMUSER,
    ]
    started = time.monotonic()
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    print(f"cluster run: {time.monotonic() - started:.0f}s")
    return {"s3": s3, "home": home, "cwd": cwd, "out": result.stdout}


def test_both_workflows_on_the_cluster_equal_the_local_run_row_for_row(cluster_lake, spark, tmp_path):
    local = tmp_path / "local"
    shutil.copytree(REPO / "samples" / "landing", local / "landing")
    run_campaign(str(local))
    run_job(str(local), "ingest_users", url=RANDOMUSER, requests="2")
    run_job(str(local), "users_daily", date="ingested")
    copy = tmp_path / "from_s3"
    download_tree(cluster_lake["s3"], "lake", "cluster", copy)
    for name in TABLES:
        expected = read_table(spark, str(local), name)
        actual = read_table(spark, str(copy), name)
        drop = [c for c in RUN_COLUMNS if c in expected.columns]
        assert not expected.isEmpty(), name
        assert_df_equality(actual.drop(*drop), expected.drop(*drop), ignore_row_order=True, ignore_nullable=True)


def test_the_executors_did_the_work_and_the_driver_kept_only_the_catalog(cluster_lake, cluster, tmp_path):
    keys = download_tree(cluster_lake["s3"], "lake", "cluster", tmp_path / "copy")
    assert {k.split("/")[0] for k in keys} <= {"landing", "raw", "curated", "quarantine", "_state", "_warehouse"}
    assert not [k for k in keys if k.startswith(("_staging/", "_state/locks/"))]
    assert list(cluster_lake["cwd"].iterdir()) == []
    # On the driver, only the Derby catalog (table names and locations, rebuilt from the lake on demand).
    driver_files = {
        p.relative_to(cluster_lake["home"]).parts[:3] for p in cluster_lake["home"].rglob("*") if p.is_file()
    }
    assert driver_files <= {(".cache", "lakekit", "metastore")}, driver_files
    # Each worker ran executors of the application (their folders under the worker's work dir).
    for number in (1, 2):
        assert list((cluster["work"] / f"worker{number}").glob("app-*/*/stderr")), f"worker{number} ran nothing"
