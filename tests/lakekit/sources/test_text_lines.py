"""Lines of landed export files, numbered as a text editor numbers them, whatever Spark's file splits."""

from __future__ import annotations

import gzip
from contextlib import contextmanager

from pyspark.sql import functions as F

from lakekit.sources.text_lines import read_lines


@contextmanager
def conf(spark, key: str, value: str):
    previous = spark.conf.get(key)
    spark.conf.set(key, value)
    try:
        yield
    finally:
        spark.conf.set(key, previous)


def rows(frame) -> list[tuple]:
    return sorted((r["_source_file"], r["_line_number"], r["_text"]) for r in frame.collect())


def test_gzip_lines_keep_their_numbers_across_blank_lines_and_crlf(spark, tmp_path):
    data = tmp_path / "landing" / "dynamodb" / "t" / "data"
    data.mkdir(parents=True)
    with gzip.open(data / "a.json.gz", "wt", newline="") as handle:
        handle.write('{"a":1}\r\n\r\n{"a":3}\n   \n{"a":5}')
    with gzip.open(data / "b.json.gz", "wt") as handle:
        handle.write('{"b":1}\n')

    actual = rows(read_lines(spark, [str(data / "a.json.gz"), str(data / "b.json.gz")]))

    a, b = "landing/dynamodb/t/data/a.json.gz", "landing/dynamodb/t/data/b.json.gz"
    assert actual == [(a, 1, '{"a":1}'), (a, 3, '{"a":3}'), (a, 5, '{"a":5}'), (b, 1, '{"b":1}')]


def test_a_plain_file_split_into_many_partitions_is_numbered_from_its_first_line(spark, tmp_path):
    path = tmp_path / "landing" / "big.json"
    path.parent.mkdir(parents=True)
    path.write_text("".join("\n" if n % 7 == 0 else f"line {n}\n" for n in range(1, 20_001)))

    with conf(spark, "spark.sql.files.maxPartitionBytes", "20000"), conf(spark, "spark.sql.files.openCostInBytes", "0"):
        lines_df = read_lines(spark, [str(path)])
        assert lines_df.rdd.getNumPartitions() > 5  # the file really is read in several splits
        actual = rows(lines_df)

    expected = [("landing/big.json", n, f"line {n}") for n in range(1, 20_001) if n % 7]
    assert actual == sorted(expected)
    assert lines_df.filter(F.col("_text") == "").count() == 0
