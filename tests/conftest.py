"""One SparkSession for the whole suite (local, Delta, Derby metastore in a temporary lake root)."""

from __future__ import annotations

import os
import time

import pytest

os.environ.setdefault("LAKE_SPARK_LOG_LEVEL", "ERROR")
# PySpark turns timestamps into naive datetimes in the process's zone: pin it so expected rows are UTC.
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from lakekit.config import load_settings
    from lakekit.session import get_spark

    settings = load_settings("local", str(tmp_path_factory.mktemp("session_lake")))
    session = get_spark(settings, {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"})
    yield session
    session.stop()


@pytest.fixture
def lake_root(tmp_path, spark) -> str:
    """An empty lake root for one test (jobs in this process share the suite's SparkSession)."""
    root = tmp_path / "lake"
    root.mkdir()
    return str(root)
