"""One SparkSession for the whole suite (local, Delta, Derby metastore in a temporary lake root)."""

from __future__ import annotations

import os
import time

import pytest

os.environ.setdefault("LAKE_SPARK_LOG_LEVEL", "ERROR")
# The suite's data is tiny and every `lake` subprocess starts a new JVM: the C1 compiler alone gets
# short runs going sooner (about 20% less wall time) than tiered compilation, whose C2 only pays off
# on long runs. Inherited by the subprocesses; the suite's own long-lived session (below) and the
# benchmark run with the JVM's defaults.
os.environ.setdefault("LAKE_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")
# PySpark turns timestamps into naive datetimes in the process's zone: pin it so expected rows are UTC.
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from lakekit.core.session import get_spark
    from lakekit.core.settings import load_settings

    settings = load_settings("local", str(tmp_path_factory.mktemp("session_lake")))
    subprocess_options = os.environ.pop("LAKE_JAVA_OPTIONS", None)
    try:
        session = get_spark(settings, {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"})
    finally:
        if subprocess_options is not None:
            os.environ["LAKE_JAVA_OPTIONS"] = subprocess_options
    yield session
    session.stop()


@pytest.fixture
def lake_root(tmp_path, spark) -> str:
    """An empty lake root for one test (jobs in this process share the suite's SparkSession)."""
    root = tmp_path / "lake"
    root.mkdir()
    return str(root)
