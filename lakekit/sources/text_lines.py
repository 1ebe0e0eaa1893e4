"""Landed text files (JSON lines, gzip or not) read line by line, each line with its file and number."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def read_lines(spark, files: list[str]) -> DataFrame:
    """Every non-blank line of the (gzip) text files: see read_counted_lines."""
    return read_counted_lines(spark, files)[0]


def read_counted_lines(spark, files: list[str]) -> tuple[DataFrame, dict[str, int]]:
    """Every non-blank line of the (gzip) text files, with its file (relative to the lake root) and line number.

    Lines are read by Spark's line reader, which streams. A line's number comes from its row id
    (`monotonically_increasing_id`: partition in the upper bits, position in the partition below),
    made relative to the first row of its file split and offset by the lines of the file's earlier
    splits, which one light pass over the files counts (a gzip file is one split). That pass also
    gives the second value: the non-blank lines of each file that has any, by the file's URI as Spark
    names it (`input_file_name()`, e.g. file:///... or s3://...); a file with no line is not in it.
    """
    scan_df = spark.read.text(list(files)).select(
        F.input_file_name().alias("_file"),
        F.input_file_block_start().alias("_block"),
        F.monotonically_increasing_id().alias("_id"),
        F.col("value").alias("_text"),
    )
    splits = (
        scan_df.groupBy("_file", "_block")
        .agg(
            F.min("_id").alias("_first"),
            F.count("*").alias("_n"),
            F.count(F.when(F.trim("_text") != "", 1)).alias("_lines"),
        )
        .collect()
    )
    offsets, seen, counts = [], {}, {}
    for split in sorted(splits, key=lambda s: (s["_file"], s["_block"])):
        before = seen.get(split["_file"], 0)
        offsets.append((split["_file"], split["_block"], split["_first"] - before))
        seen[split["_file"]] = before + split["_n"]
        counts[split["_file"]] = counts.get(split["_file"], 0) + split["_lines"]
    offsets_df = spark.createDataFrame(offsets or [], "_file string, _block long, _base long")
    lines_df = scan_df.join(F.broadcast(offsets_df), ["_file", "_block"]).select(
        F.regexp_extract("_file", r".*/(landing/.*)$", 1).alias("_source_file"),
        (F.col("_id") - F.col("_base") + 1).alias("_line_number"),
        "_text",  # the line reader ends a line at \n, \r\n or \r and drops the terminator
    )
    return lines_df.filter(F.trim("_text") != "").select("_text", "_source_file", "_line_number"), counts
