"""A Delta table's log read without Spark: the newest version and the latest checksum's detail, against what Spark's
Delta says (DESCRIBE HISTORY, DESCRIBE DETAIL) on the same tables."""

from __future__ import annotations

import os

import pytest
from delta.tables import DeltaTable

from lakekit.sinks.delta_features import detail_from_spark, table_detail
from lakekit.sinks.delta_log import checksum, latest_version


def spark_version(spark, path: str) -> int:
    return DeltaTable.forPath(spark, path).history(1).select("version").first()["version"]


def make_table(spark, path: str, properties: str = "") -> None:
    spark.sql(
        f"CREATE TABLE delta.`{path}` (id INT, day STRING) USING delta PARTITIONED BY (day)"
        + (f" TBLPROPERTIES ({properties})" if properties else "")
    )


def test_no_table_no_version(tmp_path):
    assert latest_version(str(tmp_path / "nothing")) is None
    (tmp_path / "empty" / "_delta_log").mkdir(parents=True)
    assert latest_version(str(tmp_path / "empty")) is None


def test_the_newest_version_is_the_one_spark_sees_before_and_after_checkpoints(spark, tmp_path):
    path = str(tmp_path / "t")
    # A checkpoint every 2 commits: the listing starts after the last one (_last_checkpoint).
    make_table(spark, path, "'delta.checkpointInterval' = '2'")
    assert latest_version(path) == spark_version(spark, path) == 0
    for number in range(1, 4):
        spark.sql(f"INSERT INTO delta.`{path}` VALUES ({number}, 'd{number % 2}')")
        assert latest_version(path) == spark_version(spark, path) == number
    assert (tmp_path / "t" / "_delta_log" / "00000000000000000002.checkpoint.parquet").exists()
    # Commits before the checkpoint gone (log cleanup): the version still comes from the checkpoint on.
    for name in os.listdir(tmp_path / "t" / "_delta_log"):
        if name.endswith(".json") and int(name[:20]) < 2:
            os.remove(tmp_path / "t" / "_delta_log" / name)
    assert latest_version(path) == 3


@pytest.mark.parametrize(
    "properties",
    [
        # table features (reader 3, writer 7), as deletion vectors make it
        "'delta.enableChangeDataFeed' = 'true', 'delta.enableDeletionVectors' = 'true'",
        # legacy protocols: features implied by the versions
        "",
        "'delta.enableChangeDataFeed' = 'true'",
        "'delta.minReaderVersion' = '2', 'delta.minWriterVersion' = '5', 'delta.columnMapping.mode' = 'name'",
        "'delta.minWriterVersion' = '6'",
        # writer features listed, reader version below 3
        "'delta.minWriterVersion' = '7', 'delta.enableChangeDataFeed' = 'true'",
    ],
)
def test_detail_from_the_checksum_is_describe_detail(spark, tmp_path, properties):
    path = str(tmp_path / "t")
    make_table(spark, path, properties)
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (1, 'a'), (2, 'b'), (3, NULL)")
    spark.sql(f"DELETE FROM delta.`{path}` WHERE id = 2")

    assert checksum(path, latest_version(path)) is not None  # answered from the log, not from Spark
    assert table_detail(spark, path) == detail_from_spark(spark, path)
    assert table_detail(spark, path).files == 2


def test_without_a_checksum_the_detail_comes_from_spark(spark, tmp_path):
    path = str(tmp_path / "t")
    make_table(spark, path)
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (1, 'a')")
    version = latest_version(path)
    os.remove(tmp_path / "t" / "_delta_log" / f"{version:020d}.crc")  # as after a crash between commit and checksum

    assert checksum(path, version) is None
    assert table_detail(spark, path) == detail_from_spark(spark, path)
    assert table_detail(spark, path).files == 1
