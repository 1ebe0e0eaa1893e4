"""The campaign and users workflows on a Spark standalone cluster (a master and two workers, each its own JVM,
from pyspark's own bin/spark-class on 127.0.0.1) with the lake on a local S3 API: the same tables, row for row,
as the local run; and a worker killed with SIGKILL in the middle of a job, after which a rerun ends with the
same tables. Slow: `make test-cluster`, run from .ci/run after `make test`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from chispa import assert_df_equality

from lakekit.core.session import DELTA_PACKAGE, S3A_PACKAGE, cached_jars
from tests.cloud import REPO, aws_env, base_env, client, download_tree, run, upload_tree
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
CAMPAIGN_TABLES = TABLES[:4]
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
    processes: list[subprocess.Popen] = [
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
        yield {
            "master": f"spark://127.0.0.1:{port}",
            "spark_home": spark_home,
            "work": work,
            "workers": {1: processes[1], 2: processes[2]},
        }
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _driver_env(cluster, moto, home: Path) -> dict[str, str]:
    return {
        **base_env(home),
        **aws_env(moto.endpoint),
        "SPARK_HOME": str(cluster["spark_home"]),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "PYTHONUNBUFFERED": "1",  # the kill test follows the driver's output line by line
    }


def _submit_argv(cluster, root: str, *workflows: str) -> list[str]:
    """spark-submit of tests/cluster/driver.py: the workflows (both if none named) with the lake at `root`."""
    jars = (cached_jars(DELTA_PACKAGE) or []) + (cached_jars(S3A_PACKAGE) or [])
    assert len(jars) >= 6, "run `lake jars --s3` first (make test-cluster does)"
    return [
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
        root,
        RANDOMUSER,
        *workflows,
    ]


@pytest.fixture(scope="module")
def cluster_lake(cluster, moto, tmp_path_factory):
    s3 = client(moto.endpoint, "s3")
    s3.create_bucket(Bucket="lake")
    upload_tree(s3, REPO / "samples" / "landing", "lake", "cluster/landing")
    home, cwd = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("cwd")
    started = time.monotonic()
    argv = _submit_argv(cluster, ROOT)
    result = subprocess.run(
        argv, env=_driver_env(cluster, moto, home), cwd=cwd, capture_output=True, text=True, timeout=1500
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    print(f"cluster run: {time.monotonic() - started:.0f}s")
    return {"s3": s3, "home": home, "cwd": cwd, "out": result.stdout}


@pytest.fixture(scope="module")
def local_lake(spark, tmp_path_factory) -> Path:
    """The same inputs run locally, in this process: what the cluster runs must leave."""
    local = tmp_path_factory.mktemp("local")
    shutil.copytree(REPO / "samples" / "landing", local / "landing")
    run_campaign(str(local))
    run_job(str(local), "ingest_users", url=RANDOMUSER, requests="2")
    run_job(str(local), "curated_users", date="ingested")
    return local


def assert_same_tables(spark, expected_root: Path, actual_root: Path, names: list[str]) -> None:
    for name in names:
        expected = read_table(spark, str(expected_root), name)
        actual = read_table(spark, str(actual_root), name)
        drop = [c for c in RUN_COLUMNS if c in expected.columns]
        assert not expected.isEmpty(), name
        assert_df_equality(actual.drop(*drop), expected.drop(*drop), ignore_row_order=True, ignore_nullable=True)


def test_both_workflows_on_the_cluster_equal_the_local_run_row_for_row(cluster_lake, local_lake, spark, tmp_path):
    copy = tmp_path / "from_s3"
    download_tree(cluster_lake["s3"], "lake", "cluster", copy)
    assert_same_tables(spark, local_lake, copy, TABLES)


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


def _running_tasks(worker_dir: Path) -> int:
    """Tasks the executors of this worker have started so far (their stderr logs at Spark's default INFO)."""
    return sum(p.read_text(errors="replace").count("Running task") for p in worker_dir.glob("app-*/*/stderr"))


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while being read
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the worker's JVM and the executor JVMs it launched: no shutdown hook, no goodbye to the master."""
    executors = _children(worker.pid)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    for pid in executors:
        with contextlib.suppress(ProcessLookupError):  # it may have gone with its worker
            os.kill(pid, signal.SIGKILL)


# Runs last: it leaves the cluster one worker short.
def test_a_worker_killed_mid_job_then_a_rerun_end_with_the_local_tables(cluster, moto, local_lake, spark, tmp_path):
    s3 = client(moto.endpoint, "s3")
    upload_tree(s3, REPO / "samples" / "landing", "lake", "killed/landing")
    env = _driver_env(cluster, moto, tmp_path / "home")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    driver = subprocess.Popen(
        _submit_argv(cluster, "s3a://lake/killed", "campaign"),
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(driver.stdout), daemon=True)
    reader.start()
    try:
        # The last step, curated_campaign_task_progress (reads both raw tables, joins, loads Delta): kill the
        # worker whose executor starts a task of it, so that task and the shuffle output on it are lost.
        deadline = time.monotonic() + 1200
        while not any("step 4/4" in line for line in lines):
            assert driver.poll() is None and time.monotonic() < deadline, "".join(lines)[-5000:]
            time.sleep(0.2)
        workers = {n: cluster["work"] / f"worker{n}" for n in (1, 2)}
        before = {n: _running_tasks(d) for n, d in workers.items()}
        victim = None
        while victim is None:
            assert driver.poll() is None and time.monotonic() < deadline, "the step ended before a task started"
            victim = next((n for n, d in workers.items() if _running_tasks(d) > before[n]), None)
            time.sleep(0.1)
        _kill_worker(cluster["workers"][victim])
        killed_status = driver.wait(timeout=1200)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        reader.join(timeout=10)
    print(f"worker{victim} killed in step 4/4; that run ended with status {killed_status}")

    run(_submit_argv(cluster, "s3a://lake/killed", "campaign"), env, cwd, timeout=1500)
    copy = tmp_path / "from_s3"
    keys = download_tree(s3, "lake", "killed", copy)
    assert not [k for k in keys if k.startswith(("_staging/", "_state/locks/"))]
    assert_same_tables(spark, local_lake, copy, CAMPAIGN_TABLES)
