"""transforms.complaints: raw hits -> curated.complaints rows, rejects with reasons, and MERGE changes."""

from __future__ import annotations

from datetime import date, datetime

from chispa import assert_df_equality
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakekit.catalog.model import load_table
from transforms.complaints import (
    build_complaint_changes,
    build_complaint_rejects,
    build_complaints,
    explode_complaint_hits,
    split_tags,
)

RAW = load_table("raw.complaints")
CURATED = load_table("curated.complaints")
SOURCE_FIELDS = RAW.record_schema.fieldNames()
RAW_SCHEMA = T.StructType(
    [
        *RAW.record_schema.fields,
        T.StructField("_hit_index", T.IntegerType()),
        T.StructField("_fetched_at", T.TimestampType()),
        T.StructField("_source_file", T.StringType()),
    ]
)
CURATED_SCHEMA = T.StructType([T.StructField(f.name, f.dataType) for f in CURATED.schema.fields])
T1, T2 = datetime(2026, 11, 20, 6, 0), datetime(2026, 11, 21, 6, 0)
PAGE_1, PAGE_2 = "landing/cfpb/p_date=2026-11-20/a.json", "landing/cfpb/p_date=2026-11-21/b.json"


def hit(complaint_id="4930328", received="2021-11-19T12:00:00-05:00", index=0, fetched=T1, source=PAGE_1, **fields):
    values = {
        "complaint_id": complaint_id,
        "date_received": received,
        "date_sent_to_company": "2021-11-19T12:00:00-05:00",
        "product": "Debt collection",
        "sub_product": "Other debt",
        "issue": "Attempts to collect debt not owed",
        "sub_issue": "Debt is not yours",
        "company": "Rowland Avenue Management, Inc.",
        "state": "CO",
        "zip_code": "80118",
        "tags": "Servicemember",
        "consumer_consent_provided": None,
        "submitted_via": "Web",
        "company_response": "Closed with explanation",
        "company_public_response": None,
        "timely": "Yes",
        "consumer_disputed": "N/A",
        "complaint_what_happened": "",
        "has_narrative": "false",
        **fields,
    }
    return (*[values[f] for f in SOURCE_FIELDS], index, fetched, source)


def curated(complaint_id=4930328, received=date(2021, 11, 19), fetched=T1, **fields):
    values = {
        "complaint_id": complaint_id,
        "date_received": received,
        "date_sent_to_company": date(2021, 11, 19),
        "product": "Debt collection",
        "sub_product": "Other debt",
        "issue": "Attempts to collect debt not owed",
        "sub_issue": "Debt is not yours",
        "company": "Rowland Avenue Management, Inc.",
        "state": "CO",
        "zip_code": "80118",
        "tags": ["Servicemember"],
        "consumer_consent_provided": None,
        "submitted_via": "Web",
        "company_response": "Closed with explanation",
        "company_public_response": None,
        "timely": True,
        "consumer_disputed": None,
        "complaint_what_happened": None,
        "has_narrative": False,
        "fetched_at": fetched,
        **fields,
    }
    return tuple(values[c] for c in CURATED.column_names)


def raw_df(spark, rows):
    return spark.createDataFrame(rows, RAW_SCHEMA)


def curated_df(spark, rows):
    return spark.createDataFrame(rows, CURATED_SCHEMA)


def test_build_complaints_types_every_column_as_the_catalog_says(spark):
    narrative = "XX/XX/2020, I received a letter by mail stating I owed a debt."
    rows = [
        hit(),
        hit(
            "4924400",
            "2019-05-01T12:00:00-05:00",
            index=1,
            date_sent_to_company="2019-05-02T23:30:00-05:00",  # the date written, not the UTC date (05-03)
            tags="Older American, Servicemember",
            consumer_consent_provided="Consent provided",
            company_public_response="Company chooses not to provide a public response",
            timely="No",
            consumer_disputed="Yes",
            complaint_what_happened=narrative,
            has_narrative="true",
        ),
        # consent and dispute fields missing entirely (the 2026 API): null; N/A text fields null
        hit("4920666", "2021-11-17T12:00:00-05:00", index=2, consumer_disputed=None, state="N/A", tags=None),
        hit("4920667", "2021-11-17", index=3, consumer_disputed="No", tags="", date_sent_to_company=None),
    ]
    expected = [
        curated(),
        curated(
            4924400,
            date(2019, 5, 1),
            date_sent_to_company=date(2019, 5, 2),
            tags=["Older American", "Servicemember"],
            consumer_consent_provided="Consent provided",
            company_public_response="Company chooses not to provide a public response",
            timely=False,
            consumer_disputed=True,
            complaint_what_happened=narrative,
            has_narrative=True,
        ),
        curated(4920666, date(2021, 11, 17), state=None, tags=None),
        curated(4920667, date(2021, 11, 17), consumer_disputed=False, tags=[], date_sent_to_company=None),
    ]
    result = build_complaints(raw_df(spark, rows))
    assert result.columns == CURATED.column_names
    assert_df_equality(result, curated_df(spark, expected), ignore_row_order=True, ignore_nullable=True)


def test_build_complaints_keeps_the_latest_fetch_of_each_complaint(spark):
    rows = [
        hit(fetched=T1, company_response="In progress"),
        hit(fetched=T2, source=PAGE_2, company_response="Closed with explanation"),
        hit("77", fetched=T2, source=PAGE_2, index=1, zip_code="11111"),
        hit("77", fetched=T2, source=PAGE_2, index=2, zip_code="22222"),  # same page twice: the later hit
    ]
    expected = [curated(fetched=T2), curated(77, fetched=T2, zip_code="22222")]
    assert_df_equality(
        build_complaints(raw_df(spark, rows)), curated_df(spark, expected), ignore_row_order=True, ignore_nullable=True
    )


def test_build_complaints_of_nothing_is_empty(spark):
    assert_df_equality(build_complaints(raw_df(spark, [])), curated_df(spark, []), ignore_nullable=True)


def test_hits_without_a_key_or_a_date_are_rejects_with_a_reason_and_the_rest_loads(spark):
    rows = [
        hit(None, index=0),
        hit("  ", index=1),
        hit("49x30", index=2),
        hit("5", None, index=3),
        hit("6", "2024-02-30T12:00:00-05:00", index=4),
        hit("7", "05/01/2024", index=5),
        hit("8", index=6, date_sent_to_company="yesterday"),
        hit("9", index=7, timely="Maybe"),
        hit("10", index=8, has_narrative="1"),
        hit("11", index=9),
    ]
    rejects = build_complaint_rejects(raw_df(spark, rows), SOURCE_FIELDS)
    expected = [
        (0, "no complaint_id"),
        (1, "no complaint_id"),
        (2, "complaint_id is not a number: '49x30'"),
        (3, "no date_received"),
        (4, "date_received does not parse: '2024-02-30T12:00:00-05:00'"),
        (5, "date_received does not parse: '05/01/2024'"),
        (6, "date_sent_to_company does not parse: 'yesterday'"),
        (7, "timely is not Yes, No or N/A: 'Maybe'"),
        (8, "has_narrative is not true or false: '1'"),
    ]
    expected_df = spark.createDataFrame([(PAGE_1, i, r) for i, r in expected], "source string, hit int, reason string")
    assert_df_equality(rejects.drop("text"), expected_df, ignore_row_order=True, ignore_nullable=True)
    # The text is the hit as it came, nulls left out as JSON does.
    text = rejects.filter("hit = 2").first()["text"]
    assert text.startswith('{"complaint_id":"49x30","date_received":"2021-11-19T12:00:00-05:00",')
    assert '"consumer_consent_provided"' not in text
    assert build_complaints(raw_df(spark, rows)).select("complaint_id").collect() == [Row(complaint_id=11)]


def test_split_tags_null_empty_and_duplicates(spark):
    df = spark.createDataFrame(
        [("Older American, Servicemember",), ("Servicemember,Servicemember",), (None,), ("",), ("N/A",)], "tags string"
    )
    result = df.select("tags", split_tags(F.col("tags")).alias("split"))
    expected = spark.createDataFrame(
        [
            ("Older American, Servicemember", ["Older American", "Servicemember"]),
            ("Servicemember,Servicemember", ["Servicemember", "Servicemember"]),  # as sent: not deduplicated
            (None, None),
            ("", []),
            ("N/A", None),
        ],
        "tags string, split array<string>",
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_explode_complaint_hits_gives_one_row_per_hit_and_none_for_an_empty_page(spark):
    source_schema = T.StructType([T.StructField("complaint_id", T.StringType())])
    pages_schema = T.StructType(
        [
            T.StructField(
                "hits",
                T.StructType(
                    [T.StructField("hits", T.ArrayType(T.StructType([T.StructField("_source", source_schema)])))]
                ),
            ),
            T.StructField("_fetched_at", T.TimestampType()),
            T.StructField("_source_file", T.StringType()),
            T.StructField("_landing_id", T.StringType()),
        ]
    )
    pages = spark.createDataFrame(
        [
            (([(("1",),), (("1",),), ((None,),)],), T1, PAGE_1, "a"),
            (([],), T2, PAGE_2, "b"),
            ((None,), T2, PAGE_2, "c"),
        ],
        pages_schema,
    )
    expected = spark.createDataFrame(
        [("1", 0, T1, PAGE_1, "a"), ("1", 1, T1, PAGE_1, "a"), (None, 2, T1, PAGE_1, "a")],
        "complaint_id string, _hit_index int, _fetched_at timestamp, _source_file string, _landing_id string",
    )
    assert_df_equality(
        explode_complaint_hits(pages, source_schema), expected, ignore_row_order=True, ignore_nullable=True
    )


def test_changes_insert_new_update_later_different_and_ignore_unchanged_or_older(spark):
    current = [
        curated(1, fetched=T1, company_response="In progress"),
        curated(2, fetched=T1),
        curated(3, fetched=T2, company_response="Closed"),
        curated(4, date(2021, 11, 1), fetched=T1),
    ]
    latest = [
        curated(1, fetched=T2, company_response="Closed with explanation"),  # changed: upsert
        curated(2, fetched=T2),  # refetched, same content: nothing
        curated(3, fetched=T1, company_response="In progress"),  # older than the table's: nothing
        curated(4, date(2021, 11, 2), fetched=T2),  # date_received moved: delete the old row, upsert
        curated(5, fetched=T2, tags=None),  # new
    ]
    changes = build_complaint_changes(curated_df(spark, current), curated_df(spark, latest))
    schema = T.StructType([*CURATED_SCHEMA.fields, T.StructField("_action", T.StringType(), False)])
    expected = spark.createDataFrame(
        [
            (*latest[0], "upsert"),
            (*latest[3], "upsert"),
            (*current[3], "delete"),
            (*latest[4], "upsert"),
        ],
        schema,
    )
    assert_df_equality(changes, expected, ignore_row_order=True, ignore_nullable=True)


def test_changes_against_an_empty_table_insert_everything_and_of_nothing_are_empty(spark):
    latest = [curated(1), curated(2, tags=[])]
    changes = build_complaint_changes(curated_df(spark, []), curated_df(spark, latest))
    assert sorted(changes.collect()) == sorted(Row(*r, "upsert") for r in latest)
    assert build_complaint_changes(curated_df(spark, latest), curated_df(spark, [])).isEmpty()
