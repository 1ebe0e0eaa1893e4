"""The change set (upserts and deletes) that turns old rows into new ones for a MERGE."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.changes import DELETE, UPSERT, build_changes

ROWS = T.StructType(
    [
        T.StructField("user_id", T.StringType()),
        T.StructField("task_id", T.StringType()),
        T.StructField("state", T.StringType()),
        T.StructField("amount", T.DecimalType(38, 6)),
        T.StructField("created_date", T.DateType()),
    ]
)
CHANGES = T.StructType(ROWS.fields + [T.StructField("_action", T.StringType(), False)])
MATCH_ON = ["user_id", "task_id", "created_date"]  # key plus partition column, as the curated jobs pass it
DAY1, DAY2 = date(2024, 3, 1), date(2024, 3, 2)


def test_changes_hold_inserts_updates_deletes_and_partition_moves(spark):
    old = spark.createDataFrame(
        [
            ("u1", "t1", "open", Decimal("1"), DAY1),  # unchanged
            ("u1", "t2", "open", Decimal("1"), DAY1),  # updated
            ("u1", "t3", "open", Decimal("1"), DAY1),  # deleted
            ("u2", "t1", "open", None, DAY1),  # unchanged, with a null value
            ("u2", "t2", "open", None, DAY1),  # null -> value
            ("u2", "t3", "open", Decimal("3"), DAY1),  # value -> null
            ("u3", "t1", "open", Decimal("1"), DAY1),  # moves partition
            (None, "t1", "open", Decimal("1"), DAY1),  # unchanged, null key part
            ("u4", None, "open", Decimal("1"), DAY1),  # updated, null key part
            ("u6", "t1", "open", Decimal("1"), None),  # unchanged, null partition
        ],
        ROWS,
    )
    new = spark.createDataFrame(
        [
            ("u1", "t1", "open", Decimal("1"), DAY1),
            ("u1", "t2", "done", Decimal("1"), DAY1),
            ("u2", "t1", "open", None, DAY1),
            ("u2", "t2", "open", Decimal("2"), DAY1),
            ("u2", "t3", "open", None, DAY1),
            ("u3", "t1", "open", Decimal("1"), DAY2),
            (None, "t1", "open", Decimal("1"), DAY1),
            ("u4", None, "done", Decimal("1"), DAY1),
            ("u5", "t1", "open", Decimal("1"), DAY1),  # inserted
            ("u6", "t1", "open", Decimal("1"), None),
        ],
        ROWS,
    )

    actual = build_changes(old, new, MATCH_ON)

    expected = spark.createDataFrame(
        [
            ("u1", "t2", "done", Decimal("1"), DAY1, UPSERT),
            ("u1", "t3", "open", Decimal("1"), DAY1, DELETE),
            ("u2", "t2", "open", Decimal("2"), DAY1, UPSERT),
            ("u2", "t3", "open", None, DAY1, UPSERT),
            ("u3", "t1", "open", Decimal("1"), DAY1, DELETE),
            ("u3", "t1", "open", Decimal("1"), DAY2, UPSERT),
            ("u4", None, "done", Decimal("1"), DAY1, UPSERT),
            ("u5", "t1", "open", Decimal("1"), DAY1, UPSERT),
        ],
        CHANGES,
    )
    assert_df_equality(actual, expected, ignore_row_order=True)


def test_no_changes_between_a_frame_and_itself_or_a_frame_derived_from_it(spark):
    old = spark.createDataFrame(
        [("u1", "t1", "open", Decimal("1"), DAY1), ("u1", "t2", "open", None, DAY1)],
        ROWS,
    )
    # `new` derived from `old` shares its column lineage: the comparison must not become trivially true.
    new = old.withColumn("state", F.when(F.col("task_id") == "t2", "done").otherwise(F.col("state")))

    unchanged = build_changes(old, old, MATCH_ON)
    derived = build_changes(old, new, MATCH_ON)

    assert_df_equality(unchanged, spark.createDataFrame([], CHANGES))
    expected = spark.createDataFrame([("u1", "t2", "done", None, DAY1, UPSERT)], CHANGES)
    assert_df_equality(derived, expected, ignore_nullable=True)


def test_changes_from_or_to_nothing(spark):
    rows = spark.createDataFrame([("u1", "t1", "open", Decimal("1"), DAY1), ("u2", "t1", None, None, None)], ROWS)
    nothing = spark.createDataFrame([], ROWS)

    inserted = build_changes(nothing, rows, MATCH_ON)
    deleted = build_changes(rows, nothing, MATCH_ON)
    neither = build_changes(nothing, nothing, MATCH_ON)

    assert_df_equality(
        inserted,
        spark.createDataFrame(
            [("u1", "t1", "open", Decimal("1"), DAY1, UPSERT), ("u2", "t1", None, None, None, UPSERT)], CHANGES
        ),
        ignore_row_order=True,
    )
    assert_df_equality(
        deleted,
        spark.createDataFrame(
            [("u1", "t1", "open", Decimal("1"), DAY1, DELETE), ("u2", "t1", None, None, None, DELETE)], CHANGES
        ),
        ignore_row_order=True,
    )
    assert_df_equality(neither, spark.createDataFrame([], CHANGES))


def test_duplicate_old_rows_do_not_multiply_changes(spark):
    old = spark.createDataFrame(
        [
            ("u1", "t1", "open", Decimal("1"), DAY1),
            ("u1", "t1", "open", Decimal("1"), DAY1),
            ("u2", "t1", "open", Decimal("1"), DAY1),
            ("u2", "t1", "open", Decimal("1"), DAY1),
        ],
        ROWS,
    )
    new = spark.createDataFrame(
        [("u1", "t1", "open", Decimal("1"), DAY1), ("u2", "t1", "done", Decimal("1"), DAY1)],
        ROWS,
    )

    actual = build_changes(old, new, MATCH_ON)

    assert_df_equality(actual, spark.createDataFrame([("u2", "t1", "done", Decimal("1"), DAY1, UPSERT)], CHANGES))
