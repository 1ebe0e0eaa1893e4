"""CFPB consumer complaints: search hits -> raw rows -> curated.complaints, and the changes a MERGE applies."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.changes import DELETE, UPSERT

COMPLAINT_COLUMNS = [
    "complaint_id",
    "date_received",
    "date_sent_to_company",
    "product",
    "sub_product",
    "issue",
    "sub_issue",
    "company",
    "state",
    "zip_code",
    "tags",
    "consumer_consent_provided",
    "submitted_via",
    "company_response",
    "company_public_response",
    "timely",
    "consumer_disputed",
    "complaint_what_happened",
    "has_narrative",
    "fetched_at",
]
TEXT_COLUMNS = [
    "product",
    "sub_product",
    "issue",
    "sub_issue",
    "company",
    "state",
    "zip_code",
    "consumer_consent_provided",
    "submitted_via",
    "company_response",
    "company_public_response",
]
NOT_APPLICABLE = "N/A"


# ---------------------------------------------------------------------------------------------- raw


def explode_complaint_hits(responses_df: DataFrame, record_schema: T.StructType) -> DataFrame:
    """One row per hit of each landed search page: the hit's `_source` fields (text, as sent), its position.

    Needs `hits.hits[]._source`, `_fetched_at`, `_source_file` and `_landing_id` (from the landing read).
    A page with no hits gives no row.
    """
    hits_df = responses_df.select(
        F.posexplode("hits.hits").alias("_hit_index", "hit"), "_fetched_at", "_source_file", "_landing_id"
    )
    return hits_df.select(
        *[F.col("hit._source").getField(f.name).alias(f.name) for f in record_schema.fields],
        "_hit_index",
        "_fetched_at",
        "_source_file",
        "_landing_id",
    )


# ---------------------------------------------------------------------------------------------- values


def null_if_not_applicable(column: F.Column) -> F.Column:
    """The API's `N/A` placeholder as null."""
    return F.when(column != NOT_APPLICABLE, column)


def yes_no(column: F.Column) -> F.Column:
    """`Yes` true, `No` false; `N/A`, null (and anything else) null."""
    return F.when(column == "Yes", F.lit(True)).when(column == "No", F.lit(False))


def calendar_date(column: F.Column) -> F.Column:
    """The calendar date written at the start of an ISO date-time (2019-05-01T12:00:00-05:00 is 2019-05-01).

    Null when the text does not start with a valid YYYY-MM-DD; no time zone is applied.
    """
    return F.when(column.rlike(r"^\d{4}-\d{2}-\d{2}(T|$)"), F.substring(column, 1, 10).cast("date"))


def split_tags(column: F.Column) -> F.Column:
    """The API's comma-separated tags as a list (`Older American, Servicemember`); null stays null."""
    tags = F.split(F.trim(column), r"\s*,\s*")
    return F.when(null_if_not_applicable(column).isNotNull(), F.filter(tags, lambda tag: tag != ""))


def _quoted(column: F.Column) -> F.Column:
    return F.concat(F.lit("'"), column, F.lit("'"))


def complaint_problem() -> F.Column:
    """Why a raw hit cannot become a curated row (the first problem found), else null."""
    complaint_id = F.trim(F.col("complaint_id"))
    received, sent = F.col("date_received"), null_if_not_applicable(F.col("date_sent_to_company"))
    checks = [
        (complaint_id.isNull() | (complaint_id == ""), F.lit("no complaint_id")),
        (
            ~complaint_id.rlike(r"^\d{1,18}$"),
            F.concat(F.lit("complaint_id is not a number: "), _quoted(F.col("complaint_id"))),
        ),
        (received.isNull(), F.lit("no date_received")),
        (calendar_date(received).isNull(), F.concat(F.lit("date_received does not parse: "), _quoted(received))),
        (
            sent.isNotNull() & calendar_date(sent).isNull(),
            F.concat(F.lit("date_sent_to_company does not parse: "), _quoted(sent)),
        ),
    ]
    for name in ("timely", "consumer_disputed"):
        value = F.col(name)
        checks.append(
            (
                value.isNotNull() & ~value.isin("Yes", "No", NOT_APPLICABLE),
                F.concat(F.lit(f"{name} is not Yes, No or N/A: "), _quoted(value)),
            )
        )
    narrative = F.col("has_narrative")
    checks.append(
        (
            narrative.isNotNull() & ~narrative.isin("true", "false"),
            F.concat(F.lit("has_narrative is not true or false: "), _quoted(narrative)),
        )
    )
    problem = F.lit(None).cast("string")
    for failed, reason in reversed(checks):
        problem = F.when(failed, reason).otherwise(problem)
    return problem


def with_complaint_problem(raw_df: DataFrame) -> DataFrame:
    """Adds `_problem`: why the hit cannot be loaded (no or a non-numeric complaint_id, a date that does not
    parse, a Yes/No field with another value), null for a good hit."""
    return raw_df.withColumn("_problem", complaint_problem())


# ---------------------------------------------------------------------------------------------- curated


def _typed(raw_df: DataFrame) -> DataFrame:
    narrative = null_if_not_applicable(F.col("complaint_what_happened"))
    return raw_df.select(
        F.trim("complaint_id").cast("bigint").alias("complaint_id"),
        calendar_date(F.col("date_received")).alias("date_received"),
        calendar_date(null_if_not_applicable(F.col("date_sent_to_company"))).alias("date_sent_to_company"),
        *[null_if_not_applicable(F.col(c)).alias(c) for c in TEXT_COLUMNS[:7]],
        split_tags(F.col("tags")).alias("tags"),
        *[null_if_not_applicable(F.col(c)).alias(c) for c in TEXT_COLUMNS[7:]],
        yes_no(F.col("timely")).alias("timely"),
        yes_no(F.col("consumer_disputed")).alias("consumer_disputed"),
        F.when(F.trim(narrative) != "", narrative).alias("complaint_what_happened"),
        F.when(F.col("has_narrative") == "true", F.lit(True))
        .when(F.col("has_narrative") == "false", F.lit(False))
        .alias("has_narrative"),
        F.col("_fetched_at").alias("fetched_at"),
        "_source_file",
        "_hit_index",
    )


def build_complaints(raw_df: DataFrame) -> DataFrame:
    """curated.complaints rows from raw.complaints rows: one row per complaint_id, the latest fetch winning.

    Needs the raw text columns, `_fetched_at`, `_source_file` and `_hit_index`. Hits with a problem
    (see `with_complaint_problem`) are left out; `Yes`/`No` become booleans, `N/A` null, dates the
    calendar date written, tags a list, an empty narrative null. Among fetches of one complaint the
    latest wins (ties: the later landing file, then the later hit).
    """
    good_df = raw_df.filter(complaint_problem().isNull())
    typed_df = _typed(good_df)
    latest = Window.partitionBy("complaint_id").orderBy(
        F.col("fetched_at").desc(), F.col("_source_file").desc(), F.col("_hit_index").desc()
    )
    ranked_df = typed_df.withColumn("_rank", F.row_number().over(latest))
    return ranked_df.filter(F.col("_rank") == 1).select(*COMPLAINT_COLUMNS)


def build_complaint_rejects(raw_df: DataFrame, source_columns: list[str]) -> DataFrame:
    """The raw hits that cannot be loaded: the hit as JSON text, its landing file, position and the reason.

    One row per rejected hit; `source_columns` are the hit's fields, in the order the text shows them.
    """
    rejects_df = with_complaint_problem(raw_df).filter(F.col("_problem").isNotNull())
    return rejects_df.select(
        F.to_json(F.struct(*source_columns)).alias("text"),
        F.col("_source_file").alias("source"),
        F.col("_hit_index").alias("hit"),
        F.col("_problem").alias("reason"),
    )


def build_complaint_changes(current_df: DataFrame, latest_df: DataFrame) -> DataFrame:
    """What a MERGE must do so the curated table holds the latest fetch of every complaint in `latest_df`.

    Both hold curated.complaints columns; `current_df` the table's rows (at least those of the complaints
    in `latest_df`), `latest_df` one row per complaint. Returns the columns plus `_action`:
    - upsert: a complaint not in the table, or fetched later than the table's row and different in any
      column but `fetched_at` (a refetch that changed nothing is no change: the row keeps the fetch
      that brought its content);
    - delete: the table's row of such a complaint when its `date_received` (the partition) changed.
    """
    columns = latest_df.columns
    # The content of a row, every column but fetched_at, as one value per side: a chain of 19 null-safe
    # comparisons over aliased columns sent the optimizer's constraint inference out of memory.
    content = F.to_json(F.struct(*[c for c in columns if c != "fetched_at"]))
    current = current_df.select(*[F.col(c).alias(f"_old_{c}") for c in columns], content.alias("_old_content"))
    joined = latest_df.withColumn("_content", content).join(
        current, F.col("complaint_id") == F.col("_old_complaint_id"), "left"
    )
    same = F.col("_content") == F.col("_old_content")
    is_new = F.col("_old_complaint_id").isNull()
    changed_df = joined.filter(is_new | ((F.col("fetched_at") > F.col("_old_fetched_at")) & ~same))
    upserts_df = changed_df.select(*columns, F.lit(UPSERT).alias("_action"))
    moved = F.col("_old_complaint_id").isNotNull() & ~F.col("date_received").eqNullSafe(F.col("_old_date_received"))
    deletes_df = changed_df.filter(moved).select(
        *[F.col(f"_old_{c}").alias(c) for c in columns], F.lit(DELETE).alias("_action")
    )
    return upserts_df.unionByName(deletes_df)
