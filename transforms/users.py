"""The user-data model: randomuser responses exploded into typed records, then users and their locations by day."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T


def as_text_leaves(data_type: T.DataType) -> T.DataType:
    """The same shape with every leaf a string: how a JSON reader keeps int-or-string and numeric-string values."""
    if isinstance(data_type, T.StructType):
        return T.StructType([T.StructField(f.name, as_text_leaves(f.dataType), True) for f in data_type.fields])
    if isinstance(data_type, T.ArrayType):
        return T.ArrayType(as_text_leaves(data_type.elementType), True)
    return T.StringType()


def explode_user_records(responses_df: DataFrame, record_type: T.StructType) -> DataFrame:
    """One row per element of `results`, each field cast to `record_type` (the raw table's record columns).

    Needs `results` (an array of structs shaped like `record_type`, leaves of any castable type, e.g.
    text as read from JSON); every other column is kept. A null or empty `results` gives no rows. A
    value that cannot be read as its type becomes null. Adds `_record_index`, the position in
    `results` from 0.
    """
    kept = [c for c in responses_df.columns if c != "results"]
    records_df = responses_df.select(*kept, F.posexplode("results").alias("_record_index", "_record"))
    record_columns = [F.col("_record").getField(f.name).cast(f.dataType).alias(f.name) for f in record_type.fields]
    return records_df.select(*record_columns, "_record_index", *kept)


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
