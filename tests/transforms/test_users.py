"""transforms.users: randomuser responses exploded and typed, the latest fetch of a day, the two curated tables."""

from __future__ import annotations

import json
from datetime import date, datetime

from chispa import assert_df_equality
from pyspark.sql import types as T

from lakekit.catalog.model import load_table
from transforms.users import (
    build_user_locations,
    build_users,
    explode_user_records,
    filter_latest_fetch,
)

STR, INT, DBL, TS = T.StringType(), T.IntegerType(), T.DoubleType(), T.TimestampType()


def struct(*fields: tuple[str, T.DataType]) -> T.StructType:
    return T.StructType([T.StructField(name, kind, True) for name, kind in fields])


# A slice of the raw record with each quirk: int-or-string postcode, string coordinates, nullable id value.
RECORD = struct(
    ("location", struct(("street", struct(("number", INT), ("name", STR))), ("postcode", STR),
                        ("coordinates", struct(("latitude", DBL), ("longitude", DBL))))),
    ("login", struct(("uuid", STR),)),
    ("dob", struct(("date", TS), ("age", INT))),
    ("id", struct(("name", STR), ("value", STR))),
)  # fmt: skip


def record_text(number, postcode, lat, lon, dob, age, id_value, uuid="u1") -> str:
    """A randomuser record's JSON (a slice of it), as the landing file holds it."""
    location = {"street": {"number": number, "name": "Pine Rd"}, "postcode": postcode}
    location["coordinates"] = {"latitude": lat, "longitude": lon}
    return json.dumps(
        {
            "location": location,
            "login": {"uuid": uuid},
            "dob": {"date": dob, "age": age},
            "id": {"name": "SIN", "value": id_value},
        }
    )


def test_explode_user_records_types_every_record_and_keeps_the_other_columns(spark):
    responses_schema = struct(("results", T.ArrayType(STR)), ("_source_file", STR))
    # The API's quirks: coordinates as strings, a postcode that is a string or an int, a null id value.
    ca = record_text(7954, "Z4B 4T0", "-72.0964", "-54.1168", "1952-10-10T07:36:45.668Z", 72, "574646691")
    us = record_text(4481, 90592, "-89.3185", "-48.6225", "1979-09-13T00:42:30.333Z", 45, None, uuid="u2")
    responses_df = spark.createDataFrame(
        [
            ([ca, us], "landing/a.json"),
            (None, "landing/null.json"),  # no results: no rows
            ([], "landing/empty.json"),  # empty results: no rows
            ([ca, ca], "landing/twice.json"),  # the same record twice: two rows, told apart by position
        ],
        responses_schema,
    )
    expected_schema = struct(
        *[(f.name, f.dataType) for f in RECORD.fields],
        ("_record_index", INT),
        ("_source_file", STR),
        ("_text", STR),
        ("_error", STR),
    )
    expected_schema["_record_index"].nullable = False
    ca_typed = (
        ((7954, "Pine Rd"), "Z4B 4T0", (-72.0964, -54.1168)),
        ("u1",),
        (datetime(1952, 10, 10, 7, 36, 45, 668000), 72),
        ("SIN", "574646691"),
    )
    us_typed = (
        ((4481, "Pine Rd"), "90592", (-89.3185, -48.6225)),
        ("u2",),
        (datetime(1979, 9, 13, 0, 42, 30, 333000), 45),
        ("SIN", None),
    )
    expected_df = spark.createDataFrame(
        [
            (*ca_typed, 0, "landing/a.json", ca, None),
            (*us_typed, 1, "landing/a.json", us, None),
            (*ca_typed, 0, "landing/twice.json", ca, None),
            (*ca_typed, 1, "landing/twice.json", ca, None),
        ],
        expected_schema,
    )
    assert_df_equality(explode_user_records(responses_df, RECORD), expected_df, ignore_row_order=True)


def test_explode_user_records_names_the_first_value_its_column_cannot_hold(spark):
    def good(**changes) -> dict:
        record = json.loads(record_text(1, "90592", "-89.3185", "-48.6225", "1979-09-13T00:42:30.333Z", 45, None))
        for path, value in changes.items():
            *parents, leaf = path.split("__")
            node = record
            for parent in parents:
                node = node[parent]
            node[leaf] = value
        return record

    cases = [
        # (record, error)
        (good(location__street__number="n/a"), "column location.street.number: cannot be stored exactly as int"),
        (good(location__street__number=1.5), "column location.street.number: cannot be stored exactly as int"),
        (good(location__street__number=2**40), "column location.street.number: cannot be stored exactly as int"),
        (good(location__street__number=7.0), None),  # 7 exactly
        (
            good(location__coordinates__latitude="north"),
            "column location.coordinates.latitude: cannot be stored exactly as double",
        ),
        (
            good(location__coordinates__latitude=""),
            "column location.coordinates.latitude: cannot be stored exactly as double",
        ),
        (
            good(location__coordinates__latitude="1e400"),
            "column location.coordinates.latitude: cannot be stored exactly as double",
        ),
        (good(location__coordinates="48.8,2.3"), "column location.coordinates: not an object"),
        (good(dob__date="yesterday"), "column dob.date: not an ISO 8601 timestamp"),
        (good(dob__date="2026-13-45T00:00:00Z"), "column dob.date: not an ISO 8601 timestamp"),
        (good(dob__date=""), "column dob.date: not an ISO 8601 timestamp"),
        (good(dob__age=True), "column dob.age: cannot be stored exactly as int"),
        (good(dob=[1979, 45]), "column dob: not an object"),
        (good(location__postcode=90592), None),  # an int or a string: text either way
        (good(id__value={"nested": 1}), None),  # a string column keeps any JSON value as its text
        (good(dob=None, id=None), None),  # null objects: null columns
        ({}, None),  # nothing at all: an empty row (a record without login.uuid is skipped downstream)
        (good(dob__date="yesterday"), "column dob.date: not an ISO 8601 timestamp"),  # a duplicate
    ]
    responses_df = spark.createDataFrame([([json.dumps(r) for r, _ in cases],)], struct(("results", T.ArrayType(STR))))

    actual = explode_user_records(responses_df, RECORD).select("_record_index", "_text", "_error")

    schema = struct(("_record_index", INT), ("_text", STR), ("_error", STR))
    expected = [(index, json.dumps(record), error) for index, (record, error) in enumerate(cases)]
    assert_df_equality(actual, spark.createDataFrame(expected, schema), ignore_row_order=True, ignore_nullable=True)


RAW = load_table("raw.users").schema
LEON = "9b8e7f6a-5d4c-4b3a-8f2e-0d1c2b3a4f5e"
ANNA = "5f0c6d1e-8a3b-4c2d-9e7f-1a2b3c4d5e6f"


def raw_row(uuid, fetched, source, index=0, p_date="2026-11-20", city="Tulsa", email="leon.walker@example.com", **kw):
    """One raw.users row (the catalog's column order)."""
    location = kw.get(
        "location",
        ((912, "Cedar Ln"), city, "Oklahoma", "United States", "74103", (36.154, -95.9928), ("-6:00", "Central Time")),
    )
    name = kw.get("name", ("Mr", "Leon", "Walker"))
    return (
        "male",
        name,
        location,
        email,
        (uuid, "leonwalker611"),
        (datetime(1975, 11, 2, 22, 40, 5, 871000), 51),
        (datetime(2009, 2, 14, 8, 30), 17),
        "(918) 555-0142",
        "(918) 555-0199",
        ("SSN", None),
        ("l.jpg", "m.jpg", "t.jpg"),
        "US",
        index,
        datetime.fromisoformat(fetched),
        source,
        datetime(2026, 11, 20, 23, 0),
        date.fromisoformat(p_date),
    )


def test_filter_latest_fetch_keeps_one_record_per_user_and_day(spark):
    rows = [
        raw_row(LEON, "2026-11-20T06:00:00", "landing/1.json", city="Tulsa"),
        raw_row(LEON, "2026-11-20T09:00:00", "landing/2.json", city="Boulder"),  # later fetch: wins
        raw_row(LEON, "2026-11-19T09:00:00", "landing/0.json", p_date="2026-11-19", city="Austin"),  # other day
        raw_row(ANNA, "2026-11-20T07:00:00", "landing/b.json", index=0, city="Dorval"),
        raw_row(ANNA, "2026-11-20T07:00:00", "landing/b.json", index=1, city="Laval"),  # same fetch: later position
        raw_row(ANNA, "2026-11-20T07:00:00", "landing/a.json", index=5, city="Quebec"),  # same time, earlier file
        raw_row(None, "2026-11-20T10:00:00", "landing/2.json", city="Nowhere"),  # no uuid: dropped
    ]
    records_df = spark.createDataFrame(rows, RAW)
    kept = filter_latest_fetch(records_df).select("login.uuid", "location.city", "p_date")
    assert sorted(kept.collect()) == sorted(
        [
            (LEON, "Boulder", date(2026, 11, 20)),
            (LEON, "Austin", date(2026, 11, 19)),
            (ANNA, "Laval", date(2026, 11, 20)),
        ]
    )
    assert filter_latest_fetch(spark.createDataFrame([], RAW)).collect() == []


USERS = struct(
    ("user_uuid", STR), ("username", STR), ("gender", STR), ("title", STR), ("first_name", STR), ("last_name", STR),
    ("email", STR), ("phone", STR), ("cell", STR), ("nationality", STR), ("born_at", TS), ("age", INT),
    ("registered_at", TS), ("p_date", T.DateType()),
)  # fmt: skip
LOCATIONS = struct(
    ("user_uuid", STR), ("street_number", INT), ("street_name", STR), ("city", STR), ("state", STR), ("country", STR),
    ("postcode", STR), ("latitude", DBL), ("longitude", DBL), ("timezone_offset", STR), ("timezone_description", STR),
    ("p_date", T.DateType()),
)  # fmt: skip


def test_build_users_and_locations_flatten_the_latest_fetch_of_each_day(spark):
    rows = [
        raw_row(LEON, "2026-11-20T06:00:00", "landing/1.json", email="old@example.com"),
        raw_row(LEON, "2026-11-20T09:00:00", "landing/2.json"),  # later fetch of the same day: wins
        raw_row(LEON, "2026-11-19T09:00:00", "landing/0.json", p_date="2026-11-19", name=None, location=None),
    ]
    records_df = spark.createDataFrame(rows, RAW)
    leon = [LEON, "leonwalker611", "male", "Mr", "Leon", "Walker", "leon.walker@example.com", "(918) 555-0142"]
    leon += ["(918) 555-0199", "US", datetime(1975, 11, 2, 22, 40, 5, 871000), 51, datetime(2009, 2, 14, 8, 30)]
    expected_users = spark.createDataFrame(
        [
            (*leon, date(2026, 11, 20)),
            (*leon[:3], None, None, None, *leon[6:], date(2026, 11, 19)),  # no name struct: null names
        ],
        USERS,
    )
    assert_df_equality(
        build_users(records_df), expected_users, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True
    )
    expected_locations = spark.createDataFrame(
        [
            (LEON, 912, "Cedar Ln", "Tulsa", "Oklahoma", "United States", "74103", 36.154, -95.9928, "-6:00",
             "Central Time", date(2026, 11, 20)),
            (LEON, None, None, None, None, None, None, None, None, None, None, date(2026, 11, 19)),
        ],
        LOCATIONS,
    )  # fmt: skip
    assert_df_equality(
        build_user_locations(records_df),
        expected_locations,
        ignore_row_order=True,
        ignore_nullable=True,
        ignore_metadata=True,
    )
    empty_df = spark.createDataFrame([], RAW)
    assert_df_equality(
        build_users(empty_df), spark.createDataFrame([], USERS), ignore_nullable=True, ignore_metadata=True
    )
    assert_df_equality(
        build_user_locations(empty_df), spark.createDataFrame([], LOCATIONS), ignore_nullable=True, ignore_metadata=True
    )
