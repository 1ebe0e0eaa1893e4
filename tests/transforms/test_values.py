"""transforms.values: the ISO 8601 parse curated uses is the one the raw checks use (same texts kept, same values)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.values import is_inexact_number, is_unparseable, to_iso_date, to_iso_timestamp

TEXTS = T.StructType([T.StructField("text", T.StringType())])


def test_timestamps_parse_exactly_or_are_unparseable(spark):
    cases = [
        # (text, timestamp, unparseable)
        ("2024-03-02T12:00:00Z", datetime(2024, 3, 2, 12, tzinfo=UTC), False),
        ("2024-03-02T12:00:00+05:30", datetime(2024, 3, 2, 6, 30, tzinfo=UTC), False),
        ("2024-03-01T23:30:00-02:00", datetime(2024, 3, 2, 1, 30, tzinfo=UTC), False),
        ("2024-03-02T12:00:00.250Z", datetime(2024, 3, 2, 12, 0, 0, 250000, tzinfo=UTC), False),
        ("2024-03-02T12:00:00.123456000Z", datetime(2024, 3, 2, 12, 0, 0, 123456, tzinfo=UTC), False),
        ("2024-03-02T12:00:00", datetime(2024, 3, 2, 12, tzinfo=UTC), False),  # no offset: UTC
        ("2024-03-02T12:00:00.1234567Z", None, True),  # a timestamp holds microseconds: the 7th digit would go
        ("2026-13-45T00:00:00Z", None, True),
        ("2024-02-30T00:00:00Z", None, True),
        ("2024-03-02T24:00:00Z", None, True),
        ("yesterday", None, True),
        ("12:00:00", None, True),  # Spark's cast: today at noon
        ("2024", None, True),  # Spark's cast: 2024-01-01
        ("2024-03-02", None, True),  # a date is not a timestamp
        ("2024-03-02 12:00:00Z", None, True),
        (" 2024-03-02T12:00:00Z", None, True),
        ("2024-03-02T12:00:00 UTC", None, True),
        ("2024-03-02T12:00:00+0530", None, True),
        ("", None, False),  # "none yet"
        (None, None, False),
        ("yesterday", None, True),  # duplicate
    ]
    texts = spark.createDataFrame([(c[0],) for c in cases], TEXTS)

    actual = texts.select(
        "text",
        to_iso_timestamp(F.col("text")).alias("at"),
        is_unparseable(F.col("text"), "timestamp").alias("unparseable"),
    )

    schema = T.StructType(
        TEXTS.fields + [T.StructField("at", T.TimestampType()), T.StructField("unparseable", T.BooleanType())]
    )
    assert_df_equality(actual, spark.createDataFrame(cases, schema), ignore_row_order=True, ignore_nullable=True)


def test_dates_parse_exactly_or_are_unparseable(spark):
    cases = [
        ("2024-02-29", date(2024, 2, 29), False),
        ("2023-02-29", None, True),
        ("2024-3-2", None, True),
        ("2024-03-02T00:00:00Z", None, True),
        ("today", None, True),
        ("", None, False),
        (None, None, False),
        ("2024-02-29", date(2024, 2, 29), False),
    ]
    texts = spark.createDataFrame([(c[0],) for c in cases], TEXTS)

    actual = texts.select(
        "text", to_iso_date(F.col("text")).alias("day"), is_unparseable(F.col("text"), "date").alias("unparseable")
    )

    schema = T.StructType(
        TEXTS.fields + [T.StructField("day", T.DateType()), T.StructField("unparseable", T.BooleanType())]
    )
    assert_df_equality(actual, spark.createDataFrame(cases, schema), ignore_row_order=True, ignore_nullable=True)


def test_doubles_out_of_range_or_not_finite_are_inexact(spark):
    cases = [
        ("-69.8246", False),
        ("1e308", False),
        ("1e400", True),
        ("Infinity", True),
        ("-Infinity", True),
        ("NaN", True),
        ("north", True),
        ("", True),
        (None, False),
        ("1e400", True),
    ]
    texts = spark.createDataFrame([(c[0],) for c in cases], TEXTS)

    actual = texts.select("text", is_inexact_number(F.col("text"), T.DoubleType()).alias("inexact"))

    schema = T.StructType(TEXTS.fields + [T.StructField("inexact", T.BooleanType())])
    assert_df_equality(actual, spark.createDataFrame(cases, schema), ignore_row_order=True, ignore_nullable=True)
