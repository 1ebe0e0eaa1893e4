"""The user-data model: randomuser responses exploded into typed records, then users and their locations by day."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.values import decode_json_text, first_problem


def explode_user_records(responses_df: DataFrame, record_type: T.StructType) -> DataFrame:
    """One row per element of `results`, typed as `record_type` (the raw table's record columns), or its problem.

    Needs `results`: an array of each record's JSON text (a JSON reader's `array<string>`); every other
    column is kept. A null or empty `results` gives no rows. Adds `_record_index` (the position in
    `results`, from 0), `_text` (the record's JSON) and `_error`: null, or why a value cannot be
    stored exactly in its column (transforms.values.decode_json_text), naming the first such column.
    A record with an error keeps the values that could be read; the caller sets it aside.
    """
    kept = [c for c in responses_df.columns if c != "results"]
    texts_df = responses_df.select(*kept, F.posexplode("results").alias("_record_index", "_text"))
    record, problems = decode_json_text(F.col("_text"), record_type)
    # One projection decodes the record and checks it: each field's text is parsed once for both.
    decoded_df = texts_df.select("*", record.alias("_record"), first_problem(problems).alias("_error"))
    record_columns = [F.col("_record").getField(f.name).alias(f.name) for f in record_type.fields]
    return decoded_df.select(*record_columns, "_record_index", *kept, "_text", "_error")


def filter_latest_fetch(records_df: DataFrame) -> DataFrame:
    """One row per `login.uuid` and `p_date`: the record of the latest fetch.

    Needs `login.uuid`, `p_date`, `_fetched_at`, `_source_file`, `_record_index`. Ties on the fetch
    time go to the later landing file, then to the later position in it. Records without a uuid
    cannot be told apart and are dropped (the job counts them).
    """
    latest_first = Window.partitionBy(F.col("login.uuid"), F.col("p_date")).orderBy(
        F.col("_fetched_at").desc_nulls_last(), F.col("_source_file").desc(), F.col("_record_index").desc()
    )
    return (
        records_df.filter(F.col("login.uuid").isNotNull())
        .withColumn("_fetch_rank", F.row_number().over(latest_first))
        .filter(F.col("_fetch_rank") == 1)
        .drop("_fetch_rank")
    )


def _field(path: str, name: str) -> Column:
    return F.col(path).alias(name)


def build_users(records_df: DataFrame) -> DataFrame:
    """curated.users: one row per user and p_date (latest fetch of the day), names and dates flattened.

    Needs raw.users' columns (`login`, `name`, `dob`, `registered`, contact fields, `nat`, `p_date`
    and the fetch metadata).
    """
    latest_df = filter_latest_fetch(records_df)
    return latest_df.select(
        _field("login.uuid", "user_uuid"),
        _field("login.username", "username"),
        "gender",
        _field("name.title", "title"),
        _field("name.first", "first_name"),
        _field("name.last", "last_name"),
        "email",
        "phone",
        "cell",
        _field("nat", "nationality"),
        _field("dob.date", "born_at"),
        _field("dob.age", "age"),
        _field("registered.date", "registered_at"),
        "p_date",
    )


def build_user_locations(records_df: DataFrame) -> DataFrame:
    """curated.user_locations: one row per user and p_date (latest fetch of the day), `location` flattened.

    Needs raw.users' `login`, `location`, `p_date` and the fetch metadata.
    """
    latest_df = filter_latest_fetch(records_df)
    return latest_df.select(
        _field("login.uuid", "user_uuid"),
        _field("location.street.number", "street_number"),
        _field("location.street.name", "street_name"),
        _field("location.city", "city"),
        _field("location.state", "state"),
        _field("location.country", "country"),
        _field("location.postcode", "postcode"),
        _field("location.coordinates.latitude", "latitude"),
        _field("location.coordinates.longitude", "longitude"),
        _field("location.timezone.offset", "timezone_offset"),
        _field("location.timezone.description", "timezone_description"),
        "p_date",
    )
