"""The campaign model: progress entries per task, latest entry per task, campaign tasks and their deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from chispa import assert_df_equality
from chispa.schema_comparer import assert_schema_equality
from pyspark.sql import types as T

from lakekit.catalog.model import load_table
from transforms.campaign import (
    build_campaign_task_progress,
    build_campaign_tasks,
    enrich_task_deadline,
    explode_progress_details,
    filter_latest_task_entry,
    with_task_deadline_refreshed,
)

DECIMAL = T.DecimalType(38, 6)
STRING = T.StringType()


def field(name: str, data_type: T.DataType = STRING) -> T.StructField:
    return T.StructField(name, data_type)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# Inputs: the raw columns the transforms read (types as in catalog/raw/*.yaml, checked below).
ENTRY = T.StructType(
    [
        field("task_id"),
        field("task_progress_state"),
        field("validated_at"),
        field("validation_failure_reason"),
        field("reward_earned", DECIMAL),
    ]
)
USER_CAMPAIGN = T.StructType(
    [
        field("user_id"),
        field("campaign_id"),
        field("user_campaign_progress_state"),
        field("created_at"),
        field("updated_at"),
        field("total_task_rewards_earned", DECIMAL),
        field("progress_details", T.ArrayType(ENTRY)),
    ]
)
TASK_ENTRY = T.StructType([field("task_id"), field("reward_amount", DECIMAL), field("task_deadline")])
CAMPAIGN_INFO = T.StructType(
    [
        field("campaign_id"),
        field("title"),
        field("reward_claim_deadline"),
        field("ends_at"),
        field("created_at"),
        field("updated_at"),
        field("campaign_tasks", T.ArrayType(TASK_ENTRY)),
    ]
)

# Outputs.
ENTRIES = T.StructType(
    [
        field("user_id"),
        field("campaign_id"),
        field("campaign_progress_state"),
        field("total_task_rewards_earned", DECIMAL),
        field("created_at", T.TimestampType()),
        field("updated_at", T.TimestampType()),
        field("_position", T.IntegerType()),
        field("task_id"),
        field("task_progress_state"),
        field("validated_at", T.TimestampType()),
        field("validation_failure_reason"),
        field("reward_earned", DECIMAL),
    ]
)
CAMPAIGN_TASKS = T.StructType(
    [
        field("campaign_id"),
        field("task_id"),
        field("title"),
        field("reward_amount", DECIMAL),
        field("task_deadline", T.TimestampType()),
        field("reward_claim_deadline", T.TimestampType()),
        field("ends_at", T.TimestampType()),
        field("created_at", T.TimestampType()),
        field("updated_at", T.TimestampType()),
    ]
)
TASK_PROGRESS = T.StructType(
    [
        field("user_id"),
        field("campaign_id"),
        field("task_id"),
        field("task_progress_state"),
        field("validated_at", T.TimestampType()),
        field("validation_failure_reason"),
        field("reward_earned", DECIMAL),
        field("campaign_progress_state"),
        field("total_task_rewards_earned", DECIMAL),
        field("created_at", T.TimestampType()),
        field("updated_at", T.TimestampType()),
        field("task_deadline", T.TimestampType()),
        field("created_date", T.DateType()),
    ]
)


def test_schemas_here_are_the_catalog_schemas():
    def catalog(name: str, columns: list[str]) -> T.StructType:
        by_name = {f.name: f for f in load_table(name).schema.fields}
        return T.StructType([by_name[c] for c in columns])

    for schema, table in [
        (USER_CAMPAIGN, "raw.user_campaign"),
        (CAMPAIGN_INFO, "raw.campaign_info"),
        (CAMPAIGN_TASKS, "curated.campaign_tasks"),
        (TASK_PROGRESS, "curated.campaign_task_progress"),
    ]:
        assert_schema_equality(schema, catalog(table, schema.fieldNames()), ignore_nullable=True, ignore_metadata=True)
    assert CAMPAIGN_TASKS.fieldNames() == load_table("curated.campaign_tasks").column_names
    assert TASK_PROGRESS.fieldNames() == load_table("curated.campaign_task_progress").column_names


# --- explode_progress_details ------------------------------------------------------------------------


def test_explode_gives_one_row_per_entry_in_utc(spark):
    user_campaign = spark.createDataFrame(
        [
            (
                "u1",
                "c1",
                "IN_PROGRESS",
                "2024-03-01T23:30:00-02:00",
                "2024-03-02T10:00:00Z",
                Decimal("5.5"),
                [
                    ("t1", "DONE", "2024-03-02T12:00:00+05:30", "", Decimal("5.5")),
                    ("t2", "FAILED", "2024-03-02T06:30:00.250Z", "expired", Decimal("0")),
                    ("t1", "IN_PROGRESS", "2024-03-01T09:00:00", None, None),
                    None,
                ],
            ),
            ("u2", "c1", "JOINED", "2024-03-01T00:00:00Z", None, None, []),
            ("u3", "c1", "JOINED", "2024-03-01T00:00:00Z", None, None, None),
            ("u4", "c2", None, None, "", None, [(None, None, "", None, None)]),
            ("u5", "c1", None, "2024-03-01T00:00:00Z", None, None, [("t1", "DONE", "not a time", " ", None)]),
            ("u5", "c1", None, "2024-03-01T00:00:00Z", None, None, [("t1", "DONE", "not a time", " ", None)]),
        ],
        USER_CAMPAIGN,
    )

    actual = explode_progress_details(user_campaign)

    u1 = ("u1", "c1", "IN_PROGRESS", Decimal("5.5"), utc(2024, 3, 2, 1, 30), utc(2024, 3, 2, 10))
    u5 = ("u5", "c1", None, None, utc(2024, 3, 1), None)
    expected = spark.createDataFrame(
        [
            u1 + (0, "t1", "DONE", utc(2024, 3, 2, 6, 30), None, Decimal("5.5")),
            u1 + (1, "t2", "FAILED", utc(2024, 3, 2, 6, 30, 0, 250000), "expired", Decimal("0")),
            u1 + (2, "t1", "IN_PROGRESS", utc(2024, 3, 1, 9), None, None),
            u1 + (3, None, None, None, None, None),
            ("u4", "c2", None, None, None, None, 0, None, None, None, None, None),
            u5 + (0, "t1", "DONE", None, " ", None),
            u5 + (0, "t1", "DONE", None, " ", None),
        ],
        ENTRIES,
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_explode_of_no_items(spark):
    actual = explode_progress_details(spark.createDataFrame([], USER_CAMPAIGN))

    assert_df_equality(actual, spark.createDataFrame([], ENTRIES), ignore_nullable=True)


# --- filter_latest_task_entry ------------------------------------------------------------------------

ENTRY_ROWS = T.StructType(
    [
        field("user_id"),
        field("campaign_id"),
        field("task_id"),
        field("task_progress_state"),
        field("validated_at", T.TimestampType()),
        field("_position", T.IntegerType()),
    ]
)
LATEST_ENTRY = T.StructType(ENTRY_ROWS.fields[:-1])


def test_latest_validated_entry_wins_then_the_later_position(spark):
    entries = spark.createDataFrame(
        [
            ("u1", "c1", "t1", "older", utc(2024, 3, 1, 10), 0),
            ("u1", "c1", "t1", "latest", utc(2024, 3, 1, 12), 1),
            ("u1", "c1", "t1", "not validated", None, 3),
            ("u1", "c1", "t2", "same time, earlier", utc(2024, 3, 1, 11), 2),
            ("u1", "c1", "t2", "same time, later", utc(2024, 3, 1, 11), 4),
            ("u1", "c1", None, "no task id", utc(2024, 3, 9), 5),
            ("u1", "c2", "t1", "not validated, earlier", None, 0),
            ("u1", "c2", "t1", "not validated, later", None, 1),
            ("u2", "c1", "t1", "another user", utc(2024, 3, 1, 9), 0),
            (None, "c1", "t1", "no user", utc(2024, 3, 1, 9), 0),
            ("u3", "c1", "t1", "twice", utc(2024, 3, 1, 9), 0),
            ("u3", "c1", "t1", "twice", utc(2024, 3, 1, 9), 0),
        ],
        ENTRY_ROWS,
    )

    actual = filter_latest_task_entry(entries)

    expected = spark.createDataFrame(
        [
            ("u1", "c1", "t1", "latest", utc(2024, 3, 1, 12)),
            ("u1", "c1", "t2", "same time, later", utc(2024, 3, 1, 11)),
            ("u1", "c2", "t1", "not validated, later", None),
            ("u2", "c1", "t1", "another user", utc(2024, 3, 1, 9)),
            (None, "c1", "t1", "no user", utc(2024, 3, 1, 9)),
            ("u3", "c1", "t1", "twice", utc(2024, 3, 1, 9)),
        ],
        LATEST_ENTRY,
    )
    assert_df_equality(actual, expected, ignore_row_order=True)


def test_latest_entry_of_no_entries(spark):
    actual = filter_latest_task_entry(spark.createDataFrame([], ENTRY_ROWS))

    assert_df_equality(actual, spark.createDataFrame([], LATEST_ENTRY))


# --- build_campaign_tasks ------------------------------------------------------------------------------


def test_campaign_tasks_one_row_per_campaign_and_task(spark):
    campaign_info = spark.createDataFrame(
        [
            (
                "c1",
                "Spring",
                "2024-04-01T00:00:00+02:00",
                "2024-03-31T23:59:59Z",
                "2024-03-01T00:00:00Z",
                "2024-03-05T08:00:00-04:00",
                [
                    ("t1", Decimal("10"), "2024-03-10T00:00:00+01:00"),
                    ("t2", Decimal("5.5"), ""),
                    None,
                    (None, Decimal("1"), "2024-03-10T00:00:00Z"),
                    ("t1", Decimal("12.000001"), "2024-03-20T00:00:00Z"),
                ],
            ),
            ("c2", "No tasks", None, None, None, None, []),
            ("c3", "Tasks unknown", None, None, None, None, None),
            ("c4", None, "", None, "", None, [("t1", None, None)]),
            ("c5", "Twice", None, None, None, None, [("t1", Decimal("1"), None)]),
            ("c5", "Twice", None, None, None, None, [("t1", Decimal("1"), None)]),
        ],
        CAMPAIGN_INFO,
    )

    actual = build_campaign_tasks(campaign_info)

    c1 = ("Spring",)
    c1_dates = (utc(2024, 3, 31, 22), utc(2024, 3, 31, 23, 59, 59), utc(2024, 3, 1), utc(2024, 3, 5, 12))
    expected = spark.createDataFrame(
        [
            ("c1", "t1") + c1 + (Decimal("12.000001"), utc(2024, 3, 20)) + c1_dates,
            ("c1", "t2") + c1 + (Decimal("5.5"), None) + c1_dates,
            ("c4", "t1", None, None, None, None, None, None, None),
            ("c5", "t1", "Twice", Decimal("1"), None, None, None, None, None),
        ],
        CAMPAIGN_TASKS,
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_campaign_tasks_of_no_campaigns(spark):
    actual = build_campaign_tasks(spark.createDataFrame([], CAMPAIGN_INFO))

    assert_df_equality(actual, spark.createDataFrame([], CAMPAIGN_TASKS), ignore_nullable=True)


# --- enrich_task_deadline ------------------------------------------------------------------------------

PROGRESS = T.StructType([field("user_id"), field("campaign_id"), field("task_id"), field("task_progress_state")])
ENRICHED = T.StructType(PROGRESS.fields + [field("task_deadline", T.TimestampType())])
D1, D2, D3 = utc(2024, 3, 10), utc(2024, 3, 11), utc(2024, 3, 12)


def campaign_tasks_df(spark, rows: list[tuple[str | None, str | None, datetime | None]]):
    """curated.campaign_tasks rows with only the key and the deadline filled in."""
    return spark.createDataFrame(
        [(c, t, None, None, deadline, None, None, None, None) for c, t, deadline in rows], CAMPAIGN_TASKS
    )


def test_enrich_adds_the_deadline_and_keeps_unknown_tasks(spark):
    progress = spark.createDataFrame(
        [
            ("u1", "c1", "t1", "DONE"),
            ("u1", "c1", "t9", "unknown task"),
            ("u1", "c9", "t1", "unknown campaign"),
            ("u2", None, "t1", "no campaign"),
            ("u2", "c1", None, "no task"),
            ("u3", "c1", "t1", "twice"),
            ("u3", "c1", "t1", "twice"),
        ],
        PROGRESS,
    )
    tasks = campaign_tasks_df(spark, [("c1", "t1", D1), ("c1", "t2", D2), ("c2", "t9", D3), (None, "t1", D3)])

    actual = enrich_task_deadline(progress, tasks)

    expected = spark.createDataFrame(
        [
            ("u1", "c1", "t1", "DONE", D1),
            ("u1", "c1", "t9", "unknown task", None),
            ("u1", "c9", "t1", "unknown campaign", None),
            ("u2", None, "t1", "no campaign", None),
            ("u2", "c1", None, "no task", None),
            ("u3", "c1", "t1", "twice", D1),
            ("u3", "c1", "t1", "twice", D1),
        ],
        ENRICHED,
    )
    # The transform adds a column; where the join puts the key columns is not part of its contract.
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_column_order=True, ignore_nullable=True)


def test_enrich_of_no_progress(spark):
    tasks = campaign_tasks_df(spark, [("c1", "t1", D1)])

    actual = enrich_task_deadline(spark.createDataFrame([], PROGRESS), tasks)

    assert_df_equality(actual, spark.createDataFrame([], ENRICHED), ignore_column_order=True, ignore_nullable=True)


# --- build_campaign_task_progress ------------------------------------------------------------------------


def test_task_progress_one_row_per_user_campaign_and_task(spark):
    user_campaign = spark.createDataFrame(
        [
            (
                "u1",
                "c1",
                "IN_PROGRESS",
                "2024-03-01T23:30:00-02:00",
                "2024-03-02T10:00:00+01:00",
                Decimal("7"),
                [
                    ("t1", "FAILED", "2024-03-02T09:00:00Z", "too late", Decimal("0")),
                    ("t2", "DONE", "2024-03-02T10:00:00Z", "", Decimal("7")),
                    ("t1", "DONE", "2024-03-02T12:00:00+02:00", "", Decimal("2")),  # 10:00Z: latest
                    ("t1", "IN_PROGRESS", None, None, None),
                    ("t3", "DONE", "2024-03-02T10:00:00Z", None, Decimal("1")),
                    None,
                    (None, "DONE", "2024-03-03T10:00:00Z", None, None),
                ],
            ),
            (
                "u1",
                "c2",
                "DONE",
                "2024-03-01T00:00:00Z",
                None,
                None,
                [
                    ("t1", "FAILED", "2024-03-01T10:00:00Z", "first", None),
                    ("t1", "DONE", "2024-03-01T10:00:00Z", "same time, later", None),
                ],
            ),
            ("u2", "c9", "JOINED", "2024-03-01T00:00:00Z", None, None, [("t1", "DONE", None, "", None)]),
            ("u3", "c1", "JOINED", "2024-03-01T00:00:00Z", None, None, []),
            ("u4", "c1", "JOINED", "2024-03-01T00:00:00Z", None, None, None),
        ],
        USER_CAMPAIGN,
    )
    tasks = campaign_tasks_df(spark, [("c1", "t1", D1), ("c1", "t2", D2), ("c2", "t1", D3)])

    actual = build_campaign_task_progress(user_campaign, tasks)

    u1c1 = ("IN_PROGRESS", Decimal("7"), utc(2024, 3, 2, 1, 30), utc(2024, 3, 2, 9))
    u1c2 = ("DONE", None, utc(2024, 3, 1), None)
    expected = spark.createDataFrame(
        [
            ("u1", "c1", "t1", "DONE", utc(2024, 3, 2, 10), None, Decimal("2")) + u1c1 + (D1, date(2024, 3, 2)),
            ("u1", "c1", "t2", "DONE", utc(2024, 3, 2, 10), None, Decimal("7")) + u1c1 + (D2, date(2024, 3, 2)),
            ("u1", "c1", "t3", "DONE", utc(2024, 3, 2, 10), None, Decimal("1")) + u1c1 + (None, date(2024, 3, 2)),
            ("u1", "c2", "t1", "DONE", utc(2024, 3, 1, 10), "same time, later", None) + u1c2 + (D3, date(2024, 3, 1)),
            ("u2", "c9", "t1", "DONE", None, None, None, "JOINED", None, utc(2024, 3, 1), None, None, date(2024, 3, 1)),
        ],
        TASK_PROGRESS,
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_task_progress_of_no_items_and_of_no_tasks(spark):
    user_campaign = spark.createDataFrame(
        [("u1", "c1", "DONE", "2024-03-01T00:00:00Z", None, None, [("t1", "DONE", None, None, None)])],
        USER_CAMPAIGN,
    )
    no_items = spark.createDataFrame([], USER_CAMPAIGN)
    no_tasks = spark.createDataFrame([], CAMPAIGN_TASKS)

    from_no_items = build_campaign_task_progress(no_items, campaign_tasks_df(spark, [("c1", "t1", D1)]))
    from_no_tasks = build_campaign_task_progress(user_campaign, no_tasks)

    assert_df_equality(from_no_items, spark.createDataFrame([], TASK_PROGRESS), ignore_nullable=True)
    expected = spark.createDataFrame(
        [("u1", "c1", "t1", "DONE", None, None, None, "DONE", None, utc(2024, 3, 1), None, None, date(2024, 3, 1))],
        TASK_PROGRESS,
    )
    assert_df_equality(from_no_tasks, expected, ignore_nullable=True)


# --- with_task_deadline_refreshed -------------------------------------------------------------------------


def progress_row(user: str, campaign: str, task: str, deadline: datetime | None) -> tuple:
    """A curated.campaign_task_progress row whose other attributes do not matter here."""
    values = ("DONE", None, None, Decimal("1"), "DONE", None, utc(2024, 3, 1), None)
    return (user, campaign, task, *values, deadline, date(2024, 3, 1))


def test_refresh_looks_the_deadline_up_again(spark):
    progress = spark.createDataFrame(
        [
            progress_row("u1", "c1", "t1", D1),
            progress_row("u1", "c1", "t2", D1),
            progress_row("u2", "c1", "t1", None),
            progress_row("u3", "c9", "t1", D1),
            progress_row("u4", "c1", "t1", D1),
            progress_row("u4", "c1", "t1", D1),
        ],
        TASK_PROGRESS,
    )
    tasks = campaign_tasks_df(spark, [("c1", "t1", D2), ("c2", "t2", D3)])

    actual = with_task_deadline_refreshed(progress, tasks)

    expected = spark.createDataFrame(
        [
            progress_row("u1", "c1", "t1", D2),
            progress_row("u1", "c1", "t2", None),
            progress_row("u2", "c1", "t1", D2),
            progress_row("u3", "c9", "t1", None),
            progress_row("u4", "c1", "t1", D2),
            progress_row("u4", "c1", "t1", D2),
        ],
        TASK_PROGRESS,
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_refresh_of_no_rows(spark):
    tasks = campaign_tasks_df(spark, [("c1", "t1", D2)])

    actual = with_task_deadline_refreshed(spark.createDataFrame([], TASK_PROGRESS), tasks)

    assert_df_equality(actual, spark.createDataFrame([], TASK_PROGRESS), ignore_nullable=True)
