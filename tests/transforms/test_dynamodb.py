"""Decoding DynamoDB JSON export lines, and picking each item's latest image."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakekit.catalog.model import load_table
from transforms.dynamodb import (
    DELETE,
    INSERT,
    SNAPSHOT,
    UPDATE,
    filter_good_records,
    filter_latest_image,
    with_decoded_export_records,
)

BIG = "12345678901234567890123456789012345678"  # 38 digits: a float keeps only about 17 of them
BIG_SCALED = "12345678901234567890123456789012.123456"  # 32 + 6 digits: fills decimal(38,6)
WRITE_MICROS = 1695060000000001
WRITE_TS = datetime(2023, 9, 18, 18, 0, 0, 1, tzinfo=UTC)

LINES_SCHEMA = T.StructType([T.StructField("_text", T.StringType()), T.StructField("_line_number", T.LongType())])
META_FIELDS = [
    T.StructField("_op", T.StringType()),
    T.StructField("_write_ts", T.TimestampType()),
    T.StructField("_error", T.StringType()),
]


def sourced(name: str, data_type: T.DataType, source: str) -> T.StructField:
    return T.StructField(name, data_type, True, {"source": source})


def line(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"))


def lines_df(spark, texts: list[str | None]):
    return spark.createDataFrame([(text, number) for number, text in enumerate(texts, 1)], LINES_SCHEMA)


def expected_df(spark, fields: list[T.StructField], rows: list[tuple]):
    """Rows of (_text, _line_number, <decoded columns>, _op, _write_ts, _error) with `_line_number` from 1."""
    schema = T.StructType(LINES_SCHEMA.fields + fields + META_FIELDS)
    return spark.createDataFrame([(row[0], number, *row[1:]) for number, row in enumerate(rows, 1)], schema)


# --- with_decoded_export_records: scalars ------------------------------------------------------

SCALAR_SCHEMA = T.StructType(
    [
        sourced("id", T.StringType(), "ID"),
        sourced("big", T.DecimalType(38, 0), "bigNumber"),
        sourced("amount", T.DecimalType(38, 6), "amount"),
        sourced("count", T.LongType(), "count"),
        sourced("active", T.BooleanType(), "isActive"),
        sourced("payload", T.BinaryType(), "payload"),
        T.StructField("_export_id", T.StringType()),  # no source: not decoded, not returned
    ]
)
SCALAR_FIELDS = [
    T.StructField("id", T.StringType()),
    T.StructField("big", T.DecimalType(38, 0)),
    T.StructField("amount", T.DecimalType(38, 6)),
    T.StructField("count", T.LongType()),
    T.StructField("active", T.BooleanType()),
    T.StructField("payload", T.BinaryType()),
]


def test_decodes_scalar_attributes_exactly(spark):
    payload = b"\x00\xffbytes"
    full = line(
        {
            "Item": {
                "ID": {"S": "a"},
                "bigNumber": {"N": BIG},
                "amount": {"N": BIG_SCALED},
                "count": {"N": "9007199254740993"},  # 2**53 + 1: not representable as a double
                "isActive": {"BOOL": True},
                "payload": {"B": base64.b64encode(payload).decode()},
                "notInSchema": {"S": "ignored"},
            }
        }
    )
    negative = line(
        {
            "Item": {
                "ID": {"S": ""},
                "bigNumber": {"N": "-" + "9" * 38},
                "amount": {"N": "-0.000001"},
                "count": {"N": "0"},
                "isActive": {"BOOL": False},
            }
        }
    )
    nulls = line(
        {
            "Item": {
                "ID": {"S": "c"},
                "bigNumber": {"NULL": True},
                "amount": {"NULL": True},
                "count": {"NULL": True},
                "isActive": {"NULL": True},
                "payload": {"NULL": True},
            }
        }
    )
    absent = line({"Item": {"ID": {"S": "d"}}})

    actual = with_decoded_export_records(lines_df(spark, [full, negative, nulls, absent]), SCALAR_SCHEMA, ["ID"])

    expected = expected_df(
        spark,
        SCALAR_FIELDS,
        [
            (full, "a", Decimal(BIG), Decimal(BIG_SCALED), 9007199254740993, True, bytearray(payload))
            + (SNAPSHOT, None, None),
            (negative, "", Decimal("-" + "9" * 38), Decimal("-0.000001"), 0, False, None, SNAPSHOT, None, None),
            (nulls, "c", None, None, None, None, None, SNAPSHOT, None, None),
            (absent, "d", None, None, None, None, None, SNAPSHOT, None, None),
        ],
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# --- with_decoded_export_records: maps, lists and sets ---------------------------------------------

ADDRESS = T.StructType(
    [
        sourced("city", T.StringType(), "City"),
        sourced("zip", T.IntegerType(), "Zip"),
        T.StructField("note", T.StringType()),  # no source: always null
    ]
)
TASK = T.StructType([sourced("task_id", T.StringType(), "taskID"), sourced("reward", T.DecimalType(38, 6), "reward")])
NESTED_SCHEMA = T.StructType(
    [
        sourced("id", T.StringType(), "ID"),
        sourced("address", ADDRESS, "address"),
        sourced("tasks", T.ArrayType(TASK), "tasks"),
        sourced("tags", T.ArrayType(T.StringType()), "tags"),
        sourced("scores", T.ArrayType(T.DecimalType(38, 2)), "scores"),
        sourced("files", T.ArrayType(T.BinaryType()), "files"),
    ]
)
NESTED_FIELDS = [
    T.StructField("id", T.StringType()),
    T.StructField(
        "address",
        T.StructType(
            [
                T.StructField("city", T.StringType()),
                T.StructField("zip", T.IntegerType()),
                T.StructField("note", T.StringType()),
            ]
        ),
    ),
    T.StructField(
        "tasks",
        T.ArrayType(
            T.StructType([T.StructField("task_id", T.StringType()), T.StructField("reward", T.DecimalType(38, 6))])
        ),
    ),
    T.StructField("tags", T.ArrayType(T.StringType())),
    T.StructField("scores", T.ArrayType(T.DecimalType(38, 2))),
    T.StructField("files", T.ArrayType(T.BinaryType())),
]


def test_decodes_maps_lists_and_sets(spark):
    sets = line(
        {
            "Item": {
                "ID": {"S": "a"},
                "address": {"M": {"City": {"S": "Oslo"}, "Zip": {"N": "150"}, "Other": {"S": "x"}}},
                "tasks": {
                    "L": [
                        {"M": {"taskID": {"S": "t1"}, "reward": {"N": BIG_SCALED}}},
                        {"M": {"taskID": {"S": "t2"}}},
                    ]
                },
                "tags": {"SS": ["x", "y"]},
                "scores": {"NS": ["1.5", "20"]},
                "files": {"BS": [base64.b64encode(b"hi").decode()]},
            }
        }
    )
    lists = line(
        {
            "Item": {
                "ID": {"S": "b"},
                "address": {"M": {}},
                "tasks": {"L": []},
                "tags": {"L": [{"S": "x"}, {"NULL": True}, {"S": "x"}]},
                "scores": {"L": [{"N": "3"}]},
                "files": {"L": [{"B": base64.b64encode(b"yo").decode()}]},
            }
        }
    )
    nulls = line(
        {
            "Item": {
                "ID": {"S": "c"},
                "address": {"NULL": True},
                "tasks": {"L": [{"NULL": True}]},
                "tags": {"NULL": True},
                "scores": {"NULL": True},
            }
        }
    )
    absent = line({"Item": {"ID": {"S": "d"}}})

    actual = with_decoded_export_records(lines_df(spark, [sets, lists, nulls, absent]), NESTED_SCHEMA, ["ID"])

    expected = expected_df(
        spark,
        NESTED_FIELDS,
        [
            (
                sets,
                "a",
                ("Oslo", 150, None),
                [("t1", Decimal(BIG_SCALED)), ("t2", None)],
                ["x", "y"],
                [Decimal("1.50"), Decimal("20.00")],
                [bytearray(b"hi")],
                SNAPSHOT,
                None,
                None,
            ),
            (
                lists,
                "b",
                (None, None, None),
                [],
                ["x", None, "x"],
                [Decimal("3.00")],
                [bytearray(b"yo")],
                SNAPSHOT,
                None,
                None,
            ),
            (nulls, "c", None, [None], None, None, None, SNAPSHOT, None, None),
            (absent, "d", None, None, None, None, None, SNAPSHOT, None, None),
        ],
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# --- with_decoded_export_records: operations of incremental exports ---------------------------------

ITEM_SCHEMA = T.StructType(
    [
        sourced("user_id", T.StringType(), "userID"),
        sourced("campaign_id", T.StringType(), "campaignID"),
        sourced("state", T.StringType(), "state"),
    ]
)
ITEM_FIELDS = [
    T.StructField("user_id", T.StringType()),
    T.StructField("campaign_id", T.StringType()),
    T.StructField("state", T.StringType()),
]
ITEM_KEYS = ["userID", "campaignID"]


def _image(user: str, campaign: str | None, state: str | None = None) -> dict:
    image = {"userID": {"S": user}}
    if campaign is not None:
        image["campaignID"] = {"S": campaign}
    if state is not None:
        image["state"] = {"S": state}
    return image


def _change(user: str, campaign: str, old: dict | None = None, new: dict | None = None) -> str:
    record = {"Metadata": {"WriteTimestampMicros": {"N": str(WRITE_MICROS)}}, "Keys": _image(user, campaign)}
    if old is not None:
        record["OldImage"] = old
    if new is not None:
        record["NewImage"] = new
    return line(record)


def test_infers_the_operation_and_takes_the_matching_image(spark):
    snapshot = line({"Item": _image("u1", "c1", "active")})
    insert = _change("u2", "c1", new=_image("u2", "c1", "new"))
    update = _change("u3", "c1", old=_image("u3", "c1", "before"), new=_image("u3", "c1", "after"))
    delete = _change("u4", "c1", old=_image("u4", "c1", "gone"))
    delete_keys_only = _change("u5", "c1")
    insert_keys_from_keys = _change("u6", "c2", new=_image("u6", None, "partial image"))

    texts = [snapshot, insert, update, delete, delete_keys_only, insert_keys_from_keys]
    actual = with_decoded_export_records(lines_df(spark, texts), ITEM_SCHEMA, ITEM_KEYS)

    expected = expected_df(
        spark,
        ITEM_FIELDS,
        [
            (snapshot, "u1", "c1", "active", SNAPSHOT, None, None),
            (insert, "u2", "c1", "new", INSERT, WRITE_TS, None),
            (update, "u3", "c1", "after", UPDATE, WRITE_TS, None),
            (delete, "u4", "c1", "gone", DELETE, WRITE_TS, None),
            (delete_keys_only, "u5", "c1", None, DELETE, WRITE_TS, None),
            (insert_keys_from_keys, "u6", "c2", "partial image", INSERT, WRITE_TS, None),
        ],
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_duplicate_lines_give_one_row_each(spark):
    insert = _change("u1", "c1", new=_image("u1", "c1", "new"))
    snapshot = line({"Item": _image("u1", "c1", "active")})

    actual = with_decoded_export_records(lines_df(spark, [insert, insert, snapshot]), ITEM_SCHEMA, ITEM_KEYS)

    expected = expected_df(
        spark,
        ITEM_FIELDS,
        [
            (insert, "u1", "c1", "new", INSERT, WRITE_TS, None),
            (insert, "u1", "c1", "new", INSERT, WRITE_TS, None),
            (snapshot, "u1", "c1", "active", SNAPSHOT, None, None),
        ],
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_no_lines_give_no_rows(spark):
    actual = with_decoded_export_records(lines_df(spark, []), ITEM_SCHEMA, ITEM_KEYS)

    assert_df_equality(actual, expected_df(spark, ITEM_FIELDS, []), ignore_nullable=True)


def test_key_attribute_without_a_column_is_refused():
    with pytest.raises(ValueError, match=r"\['sortKey'\]"):
        with_decoded_export_records(None, ITEM_SCHEMA, ["userID", "sortKey"])


# --- with_decoded_export_records: quarantine reasons ------------------------------------------------

BAD_SCHEMA = T.StructType(
    [
        sourced("id", T.StringType(), "ID"),
        sourced("amount", T.DecimalType(38, 6), "amount"),
        sourced("count", T.LongType(), "count"),
        sourced("active", T.BooleanType(), "isActive"),
        sourced("address", ADDRESS, "address"),
    ]
)
BAD_FIELDS = [
    T.StructField("id", T.StringType()),
    T.StructField("amount", T.DecimalType(38, 6)),
    T.StructField("count", T.LongType()),
    T.StructField("active", T.BooleanType()),
    NESTED_FIELDS[1],
]


def test_bad_lines_get_the_reason_and_keep_their_text(spark):
    def item(**attributes) -> str:
        return line({"Item": attributes})

    not_json = '{"Item":{"ID":{"S":"a"}}'
    not_an_object = "[1,2]"
    no_image = "{}"
    old_image_only = line({"OldImage": {"ID": {"S": "b"}}})
    no_key = item(amount={"N": "1"})
    null_key = item(ID={"NULL": True})
    not_a_number = item(ID={"S": "c"}, amount={"N": "12abc"})
    too_big_for_scale = item(ID={"S": "d"}, amount={"N": BIG})
    too_big_for_long = item(ID={"S": "e"}, count={"N": "9223372036854775808"})
    wrong_bool = item(ID={"S": "f"}, isActive={"BOOL": "yes"})
    wrong_map = item(ID={"S": "g"}, address={"S": "Oslo"})
    good = item(ID={"S": "h"}, amount={"N": "0.5"}, count={"N": "-3"})

    texts = [not_json, not_an_object, None, "", no_image, old_image_only, no_key, null_key]
    texts += [not_a_number, too_big_for_scale, too_big_for_long, wrong_bool, wrong_map, good]
    actual = with_decoded_export_records(lines_df(spark, texts), BAD_SCHEMA, ["ID"])

    no_record = "not a DynamoDB export record: no Item, Keys, NewImage or OldImage"
    address_type = "struct<city:string,zip:int,note:string>"
    expected = expected_df(
        spark,
        BAD_FIELDS,
        [
            (not_json, None, None, None, None, None, None, None, "not valid JSON"),
            (not_an_object, None, None, None, None, None, None, None, "not valid JSON"),
            (None, None, None, None, None, None, None, None, "not valid JSON"),
            ("", None, None, None, None, None, None, None, "not valid JSON"),
            (no_image, None, None, None, None, None, None, None, no_record),
            (old_image_only, "b", None, None, None, None, None, None, no_record),
            (no_key, None, Decimal("1"), None, None, None, SNAPSHOT, None, "missing key attribute ID"),
            (null_key, None, None, None, None, None, SNAPSHOT, None, "missing key attribute ID"),
            (not_a_number, "c", None, None, None, None, SNAPSHOT, None)
            + ('attribute amount: cannot read {"N":"12abc"} as decimal(38,6)',),
            (too_big_for_scale, "d", None, None, None, None, SNAPSHOT, None)
            + (f'attribute amount: cannot read {{"N":"{BIG}"}} as decimal(38,6)',),
            (too_big_for_long, "e", None, None, None, None, SNAPSHOT, None)
            + ('attribute count: cannot read {"N":"9223372036854775808"} as bigint',),
            (wrong_bool, "f", None, None, None, None, SNAPSHOT, None)
            + ('attribute isActive: cannot read {"BOOL":"yes"} as boolean',),
            (wrong_map, "g", None, None, None, None, SNAPSHOT, None)
            + (f'attribute address: cannot read {{"S":"Oslo"}} as {address_type}',),
            (good, "h", Decimal("0.5"), -3, None, None, SNAPSHOT, None, None),
        ],
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# --- filter_good_records -------------------------------------------------------------------------

GOOD_SCHEMA = T.StructType([T.StructField("id", T.StringType()), T.StructField("amount", T.DecimalType(38, 6))])


def test_good_records_keep_their_columns_and_drop_errors(spark):
    decoded = spark.createDataFrame(
        [
            ("a", Decimal("1.5"), "x", None),
            ("a", Decimal("1.5"), "x", None),  # a duplicate line stays a duplicate
            (None, None, "y", None),  # no error, null values: kept as they are
            ("b", Decimal("2"), "z", "missing key attribute ID"),
            (None, None, "{", "not valid JSON"),
        ],
        "id string, amount decimal(38,6), _text string, _error string",
    )

    actual = filter_good_records(decoded, ["id", "amount"])

    expected = spark.createDataFrame([("a", Decimal("1.5")), ("a", Decimal("1.5")), (None, None)], GOOD_SCHEMA)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_good_records_of_no_lines(spark):
    decoded = spark.createDataFrame([], "id string, amount decimal(38,6), _error string")

    actual = filter_good_records(decoded, ["id", "amount"])

    assert_df_equality(actual, spark.createDataFrame([], GOOD_SCHEMA), ignore_nullable=True)


def test_good_records_parse_each_line_once(spark):
    """Filtering adds no JSON parse to the plan: the decode is not inlined into a pushed-down filter."""
    decoded = with_decoded_export_records(lines_df(spark, [line({"Item": {"ID": {"S": "a"}}})]), BAD_SCHEMA, ["ID"])
    columns = [f.name for f in BAD_FIELDS]

    def parses(df) -> int:
        return df._jdf.queryExecution().optimizedPlan().toString().count("from_json(")

    assert parses(filter_good_records(decoded, columns)) == parses(decoded.select(*columns, "_error"))
    assert parses(decoded.filter(F.col("_error").isNull())) > parses(decoded)  # what a plain filter does
    assert [r.asDict() for r in filter_good_records(decoded, columns).collect()] == [
        {"id": "a", "amount": None, "count": None, "active": None, "address": None}
    ]


# --- with_decoded_export_records: the catalog's schema ----------------------------------------------


def test_decodes_with_the_catalog_schema_of_raw_user_campaign(spark):
    table = load_table("raw.user_campaign")
    text = line(
        {
            "Item": {
                "userID": {"S": "u1"},
                "campaignID": {"S": "c1"},
                "userCampaignProgressState": {"S": "IN_PROGRESS"},
                "createdAt": {"S": "2024-03-01T10:00:00+02:00"},
                "updatedAt": {"NULL": True},
                "totalTaskRewardsEarned": {"N": "12.5"},
                "progressDetails": {
                    "L": [
                        {
                            "M": {
                                "taskID": {"S": "t1"},
                                "userCampaignTaskProgressState": {"S": "DONE"},
                                "validatedAt": {"S": "2024-03-02T00:00:00Z"},
                                "validationFailureReason": {"S": ""},
                                "rewardEarned": {"N": "12.5"},
                            }
                        }
                    ]
                },
            }
        }
    )

    actual = with_decoded_export_records(lines_df(spark, [text]), table.schema, list(table.source["keys"]))

    entry = T.StructType(
        [
            T.StructField("task_id", T.StringType()),
            T.StructField("task_progress_state", T.StringType()),
            T.StructField("validated_at", T.StringType()),
            T.StructField("validation_failure_reason", T.StringType()),
            T.StructField("reward_earned", T.DecimalType(38, 6)),
        ]
    )
    fields = [
        T.StructField("user_id", T.StringType()),
        T.StructField("campaign_id", T.StringType()),
        T.StructField("user_campaign_progress_state", T.StringType()),
        T.StructField("created_at", T.StringType()),
        T.StructField("updated_at", T.StringType()),
        T.StructField("total_task_rewards_earned", T.DecimalType(38, 6)),
        T.StructField("progress_details", T.ArrayType(entry)),
    ]
    expected = expected_df(
        spark,
        fields,
        [
            (text, "u1", "c1", "IN_PROGRESS", "2024-03-01T10:00:00+02:00", None, Decimal("12.5"))
            + ([("t1", "DONE", "2024-03-02T00:00:00Z", "", Decimal("12.5"))], SNAPSHOT, None, None),
        ],
    )
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_metadata=True)


# --- filter_latest_image -----------------------------------------------------------------------------

EVENTS_SCHEMA = T.StructType(
    [
        T.StructField("user_id", T.StringType()),
        T.StructField("campaign_id", T.StringType()),
        T.StructField("_export_seq", T.IntegerType()),
        T.StructField("_write_ts", T.TimestampType()),
        T.StructField("_line_number", T.LongType()),
        T.StructField("_op", T.StringType()),
        T.StructField("state", T.StringType()),
    ]
)


def recency():
    return [F.col("_export_seq").desc(), F.col("_write_ts").desc_nulls_last(), F.col("_line_number").desc()]


KEYS = ["user_id", "campaign_id"]
T1 = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
T2 = datetime(2024, 1, 1, 11, 0, tzinfo=UTC)


def test_latest_image_follows_the_order_and_keeps_deletes(spark):
    events = spark.createDataFrame(
        [
            ("u1", "c1", 0, None, 1, SNAPSHOT, "from full export"),
            ("u1", "c1", 1, T1, 1, UPDATE, "earlier write"),
            ("u1", "c1", 1, T2, 2, UPDATE, "latest write"),
            ("u1", "c1", 1, None, 9, UPDATE, "no write time: after any timed write"),
            ("u1", "c2", 2, T1, 3, UPDATE, "same write time, earlier line"),
            ("u1", "c2", 2, T1, 4, UPDATE, "same write time, later line"),
            ("u2", "c1", 0, None, 2, SNAPSHOT, "deleted later"),
            ("u2", "c1", 3, T1, 1, DELETE, None),
            ("u3", "c1", 5, T1, 1, INSERT, "later export"),
            ("u3", "c1", 4, T2, 1, UPDATE, "earlier export, later write"),
        ],
        EVENTS_SCHEMA,
    )

    actual = filter_latest_image(events, KEYS, recency())

    expected = spark.createDataFrame(
        [
            ("u1", "c1", 1, T2, 2, UPDATE, "latest write"),
            ("u1", "c2", 2, T1, 4, UPDATE, "same write time, later line"),
            ("u2", "c1", 3, T1, 1, DELETE, None),
            ("u3", "c1", 5, T1, 1, INSERT, "later export"),
        ],
        EVENTS_SCHEMA,
    )
    assert_df_equality(actual, expected, ignore_row_order=True)


def test_latest_image_of_null_and_duplicate_keys(spark):
    events = spark.createDataFrame(
        [
            (None, "c1", 0, None, 1, SNAPSHOT, "null user, first"),
            (None, "c1", 1, None, 1, SNAPSHOT, "null user, latest"),
            ("u1", None, 0, None, 2, SNAPSHOT, "null campaign"),
            ("u2", "c1", 0, None, 3, SNAPSHOT, "twice"),
            ("u2", "c1", 0, None, 3, SNAPSHOT, "twice"),
        ],
        EVENTS_SCHEMA,
    )

    actual = filter_latest_image(events, KEYS, recency())

    expected = spark.createDataFrame(
        [
            (None, "c1", 1, None, 1, SNAPSHOT, "null user, latest"),
            ("u1", None, 0, None, 2, SNAPSHOT, "null campaign"),
            ("u2", "c1", 0, None, 3, SNAPSHOT, "twice"),
        ],
        EVENTS_SCHEMA,
    )
    assert_df_equality(actual, expected, ignore_row_order=True)


def test_latest_image_of_no_events(spark):
    events = spark.createDataFrame([], EVENTS_SCHEMA)

    actual = filter_latest_image(events, KEYS, recency())

    assert_df_equality(actual, spark.createDataFrame([], EVENTS_SCHEMA))


# --- with_decoded_export_records: values a cast would change, at any depth ------------------------

EXACT_SCHEMA = T.StructType(
    [
        sourced("id", T.StringType(), "ID"),
        sourced("amount", T.DecimalType(38, 6), "amount"),
        sourced("count", T.LongType(), "count"),
        sourced(
            "details",
            T.ArrayType(
                T.StructType(
                    [sourced("reward", T.DecimalType(38, 6), "rewardEarned"), sourced("ok", T.BooleanType(), "ok")]
                )
            ),
            "progressDetails",
        ),
        sourced("prices", T.ArrayType(T.DecimalType(10, 2)), "prices"),
    ]
)
EXACT_FIELDS = [
    T.StructField("id", T.StringType()),
    T.StructField("amount", T.DecimalType(38, 6)),
    T.StructField("count", T.LongType()),
    T.StructField(
        "details",
        T.ArrayType(
            T.StructType([T.StructField("reward", T.DecimalType(38, 6)), T.StructField("ok", T.BooleanType())])
        ),
    ),
    T.StructField("prices", T.ArrayType(T.DecimalType(10, 2))),
]


def test_values_a_cast_would_round_or_null_are_quarantined_at_any_depth(spark):
    def item(key: str, **attributes) -> str:
        return line({"Item": {"ID": {"S": key}, **attributes}})

    def details(*rewards: dict) -> dict:
        return {"progressDetails": {"L": [{"M": {"rewardEarned": reward, "ok": {"BOOL": True}}} for reward in rewards]}}

    def reason(column: str, attribute: str, problem: str) -> str:
        return f"column {column} (attribute {attribute}): {problem}"

    decimal_6 = "cannot be stored exactly as decimal(38,6)"
    reward = ("details.reward", "progressDetails[].rewardEarned")
    rows = [
        # (line, id, amount, count, details, prices, _error)
        (item("a", amount={"N": "1.1234567"}), "a", Decimal("1.123457"), None, None, None)
        + (reason("amount", "amount", decimal_6),),
        (item("b", amount={"N": "1.1234560000"}), "b", Decimal("1.123456"), None, None, None, None),
        (item("c", amount={"N": "1.5E2"}), "c", Decimal("150"), None, None, None, None),
        (item("d", amount={"N": "15e-7"}), "d", Decimal("0.000002"), None, None, None)
        + (reason("amount", "amount", decimal_6),),
        # Spark's own cast fails the whole job on this one (it computes 10^999999999): never cast.
        (item("e", amount={"N": "1e-999999999"}), "e", None, None, None, None)
        + ('attribute amount: cannot read {"N":"1e-999999999"} as decimal(38,6)',),
        (item("f", count={"N": "1.5"}), "f", None, 1, None, None)
        + (reason("count", "count", "cannot be stored exactly as bigint"),),
        (item("g", count={"N": "-7.000"}), "g", None, -7, None, None, None),
        (item("h", **details({"N": "1e999999999"})), "h", None, None, [(None, True)], None)
        + (reason(*reward, decimal_6),),
        (item("i", **details({"N": "2"}, {"N": "0.0000001"})), "i", None, None)
        + ([(Decimal("2"), True), (Decimal("0"), True)], None, reason(*reward, decimal_6)),
        (item("j", **details({"S": "5"})), "j", None, None, [(None, True)], None) + (reason(*reward, "not a number"),),
        (item("k", **details({"NULL": True}, {"N": "40.25"})), "k", None, None)
        + ([(None, True), (Decimal("40.25"), True)], None, None),
        (item("l", progressDetails={"L": []}), "l", None, None, [], None, None),
        (item("m", progressDetails={"L": [{"S": "x"}]}), "m", None, None, [None], None)
        + (reason("details", "progressDetails[]", "not a map"),),
        (item("n", prices={"NS": ["1.25", "1.255"]}), "n", None, None, None, [Decimal("1.25"), Decimal("1.26")])
        + (reason("prices", "prices", "a number of the set cannot be stored exactly"),),
        (item("o", prices={"NS": ["123456789.5"]}), "o", None, None, None, [None])
        + (reason("prices", "prices", "a number of the set cannot be stored exactly"),),
        (item("p", prices={"L": [{"N": "0.5"}, {"NULL": True}]}), "p", None, None, None, [Decimal("0.5"), None], None),
    ]
    rows.append(rows[-1])  # a duplicate line: decoded twice, the same way

    actual = with_decoded_export_records(lines_df(spark, [r[0] for r in rows]), EXACT_SCHEMA, ["ID"])

    expected = expected_df(spark, EXACT_FIELDS, [(*r[:-1], SNAPSHOT, None, r[-1]) for r in rows])
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# --- with_decoded_export_records: text that must parse as a timestamp or date -------------------


def parsed(name: str, kind: str, source: str) -> T.StructField:
    return T.StructField(name, T.StringType(), True, {"source": source, "parse_as": kind})


TIMES_SCHEMA = T.StructType(
    [
        sourced("id", T.StringType(), "ID"),
        parsed("at", "timestamp", "createdAt"),
        parsed("day", "date", "day"),
        sourced(
            "details",
            T.ArrayType(T.StructType([parsed("validated_at", "timestamp", "validatedAt")])),
            "progressDetails",
        ),
    ]
)
TIMES_FIELDS = [
    T.StructField("id", T.StringType()),
    T.StructField("at", T.StringType()),
    T.StructField("day", T.StringType()),
    T.StructField("details", T.ArrayType(T.StructType([T.StructField("validated_at", T.StringType())]))),
]


def test_timestamp_and_date_text_that_does_not_parse_is_quarantined_at_any_depth(spark):
    def item(key: str, **attributes) -> str:
        return line({"Item": {"ID": {"S": key}, **attributes}})

    def validated(*texts: dict) -> dict:
        return {"progressDetails": {"L": [{"M": {"validatedAt": text}} for text in texts]}}

    at_reason = "column at (attribute createdAt): not an ISO 8601 timestamp"
    nested_reason = "column details.validated_at (attribute progressDetails[].validatedAt): not an ISO 8601 timestamp"
    rows = [
        # (line, id, at, day, details, _error)
        (item("a", createdAt={"S": "2026-13-45T00:00:00Z"}), "a", "2026-13-45T00:00:00Z", None, None, at_reason),
        (item("b", createdAt={"S": "yesterday"}), "b", "yesterday", None, None, at_reason),
        # Spark's cast would guess: today at noon, the 1st of January, the 7th digit cut off.
        (item("c", createdAt={"S": "12:00:00"}), "c", "12:00:00", None, None, at_reason),
        (item("d", createdAt={"S": "2024"}), "d", "2024", None, None, at_reason),
        (item("e", createdAt={"S": "2024-03-02T12:00:00.1234567Z"}), "e", "2024-03-02T12:00:00.1234567Z", None, None)
        + (at_reason,),
        (item("f", createdAt={"S": "2024-03-02T12:00:00.1234560Z"}), "f", "2024-03-02T12:00:00.1234560Z", None, None)
        + (None,),
        (item("g", createdAt={"S": "2024-03-02T12:00:00+05:30"}), "g", "2024-03-02T12:00:00+05:30", None, None, None),
        (item("h", createdAt={"S": "2024-03-02T12:00:00"}), "h", "2024-03-02T12:00:00", None, None, None),
        # "" (not validated yet), an absent attribute and NULL are "none", not a problem.
        (item("i", createdAt={"S": ""}), "i", "", None, None, None),
        (item("j", createdAt={"NULL": True}), "j", None, None, None, None),
        (item("k"), "k", None, None, None, None),
        (item("l", **validated({"S": ""}, {"NULL": True}, {"S": "2024-03-02T06:30:00.250Z"})), "l", None, None)
        + ([("",), (None,), ("2024-03-02T06:30:00.250Z",)], None),
        (item("m", **validated({"S": "2024-03-02T06:30:00Z"}, {"S": "not a time"})), "m", None, None)
        + ([("2024-03-02T06:30:00Z",), ("not a time",)], nested_reason),
        (item("n", day={"S": "2024-02-30"}), "n", None, "2024-02-30", None)
        + ("column day (attribute day): not an ISO 8601 date",),
        (item("o", day={"S": "2024-02-29"}), "o", None, "2024-02-29", None, None),
    ]
    rows.append(rows[0])  # a duplicate line: quarantined twice, the same way

    actual = with_decoded_export_records(lines_df(spark, [r[0] for r in rows]), TIMES_SCHEMA, ["ID"])

    expected = expected_df(spark, TIMES_FIELDS, [(*r[:-1], SNAPSHOT, None, r[-1]) for r in rows])
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
