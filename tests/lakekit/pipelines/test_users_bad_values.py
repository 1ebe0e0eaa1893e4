"""A randomuser record with a value its column cannot hold: quarantined with its text, file, index and column."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

from chispa import assert_df_equality
from pyspark.sql import types as T

from lakekit.pipelines.users import CREDENTIAL_FIELDS
from scripts.samples.users import RANDOMUSER_PAGES
from tests.helpers import read_table, run_job

ANNA, LEON, MERE = (r["login"]["uuid"] for r in RANDOMUSER_PAGES[0]["results"])


def changed(record: dict, uuid: str, path: str, value) -> dict:
    record = copy.deepcopy(record)
    record["login"]["uuid"] = uuid
    *parents, leaf = path.split(".")
    node = record
    for parent in parents:
        node = node[parent]
    node[leaf] = value
    return record


def without_credentials(record: dict) -> dict:
    return {**record, "login": {k: v for k, v in record["login"].items() if k not in CREDENTIAL_FIELDS}}


def test_a_record_with_a_value_its_column_cannot_hold_is_quarantined_and_the_others_land(spark, lake_root, tmp_path):
    anna, leon, mere = RANDOMUSER_PAGES[0]["results"]
    bad = [
        (changed(leon, "bad-dob", "dob.date", "yesterday"), "column dob.date: not an ISO 8601 timestamp"),
        (changed(anna, "bad-age", "dob.age", 38.5), "column dob.age: cannot be stored exactly as int"),
        (
            changed(mere, "bad-lat", "location.coordinates.latitude", "41°17′S"),
            "column location.coordinates.latitude: cannot be stored exactly as double",
        ),
        (changed(anna, "bad-name", "name", "Anna Tremblay"), "column name: not an object"),
    ]
    # The API's own quirks are not errors: an int postcode (leon), a null id value (mere).
    results = [anna, bad[0][0], leon, bad[1][0], bad[2][0], mere, bad[3][0]]
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    (recorded / "page-1.json").write_text(json.dumps({"results": results, "info": RANDOMUSER_PAGES[0]["info"]}))

    run_job(lake_root, "ingest_users", url=recorded.as_uri(), requests="1", p_date="2026-11-20")

    (landed,) = Path(lake_root, "landing", "randomuser", "p_date=2026-11-20").glob("*.json")
    source_file = landed.relative_to(lake_root).as_posix()
    (quarantine,) = Path(lake_root, "quarantine", "ingest_users", "p_date=2026-11-20").glob("*.records.jsonl")
    assert quarantine.name == landed.name.replace(".json", ".records.jsonl")
    entries = [json.loads(line) for line in quarantine.read_text().splitlines()]
    # The text is the landed record's JSON (credentials were removed before landing).
    assert [{**e, "text": json.loads(e["text"])} for e in entries] == [
        {"text": without_credentials(record), "source_file": source_file, "record_index": index, "reason": reason}
        for index, (record, reason) in zip([1, 3, 4, 6], bad, strict=True)
    ]

    raw_df = read_table(spark, lake_root, "raw.users").select(
        "login.uuid", "location.postcode", "id.value", "dob.date", "dob.age", "_record_index", "_source_file"
    )
    schema = T.StructType(
        [
            T.StructField("uuid", T.StringType()),
            T.StructField("postcode", T.StringType()),
            T.StructField("value", T.StringType()),
            T.StructField("date", T.TimestampType()),
            T.StructField("age", T.IntegerType()),
            T.StructField("_record_index", T.IntegerType()),
            T.StructField("_source_file", T.StringType()),
        ]
    )
    expected = [
        (ANNA, "H9P 1K4", "046454286", datetime(1988, 4, 12, 9, 15, 33, 120000), 38, 0, source_file),
        (LEON, "74103", "403-12-8876", datetime(1975, 11, 2, 22, 40, 5, 871000), 51, 2, source_file),
        (MERE, "6011", None, datetime(2001, 7, 23, 3, 5, 44, 309000), 25, 5, source_file),
    ]
    assert_df_equality(
        raw_df,
        spark.createDataFrame(expected, schema),
        ignore_row_order=True,
        ignore_nullable=True,
        ignore_metadata=True,
    )
