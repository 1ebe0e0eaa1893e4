"""The campaign model: user_Campaign progress exploded per task, enriched with campaignInfo task deadlines."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from transforms.values import to_iso_timestamp

PROGRESS_KEY = ["user_id", "campaign_id", "task_id"]
TASK_KEY = ["campaign_id", "task_id"]


def to_utc_timestamp(text: Column) -> Column:
    """An ISO 8601 string with any offset (or Z; none: UTC) as a timestamp; "" gives null.

    The same parse the raw job checks these columns with (`parse_as: timestamp` in catalog/raw/), so a
    text raw kept never becomes null here. The session time zone must be UTC.
    """
    return to_iso_timestamp(text)


def null_if_empty(text: Column) -> Column:
    return F.when(F.length(text) > 0, text)


def explode_progress_details(user_campaign: DataFrame) -> DataFrame:
    """One row per progress entry (an item with no or empty `progress_details` gives none), with its position.

    Needs raw.user_campaign columns. Returns one row per user, campaign and entry.
    """
    return (
        user_campaign.select(
            "user_id",
            "campaign_id",
            F.col("user_campaign_progress_state").alias("campaign_progress_state"),
            "total_task_rewards_earned",
            to_utc_timestamp(F.col("created_at")).alias("created_at"),
            to_utc_timestamp(F.col("updated_at")).alias("updated_at"),
            F.posexplode("progress_details").alias("_position", "_entry"),
        )
        .select(
            "*",
            F.col("_entry.task_id").alias("task_id"),
            F.col("_entry.task_progress_state").alias("task_progress_state"),
            to_utc_timestamp(F.col("_entry.validated_at")).alias("validated_at"),
            null_if_empty(F.col("_entry.validation_failure_reason")).alias("validation_failure_reason"),
            F.col("_entry.reward_earned").alias("reward_earned"),
        )
        .drop("_entry")
    )


def filter_latest_task_entry(progress: DataFrame) -> DataFrame:
    """Keep one entry per user, campaign and task: the latest `validated_at` (then the later entry) wins.

    Needs `user_id, campaign_id, task_id, validated_at, _position`; drops entries without a task id.
    """
    window = Window.partitionBy(*PROGRESS_KEY).orderBy(
        F.col("validated_at").desc_nulls_last(), F.col("_position").desc()
    )
    return (
        progress.filter(F.col("task_id").isNotNull())
        .withColumn("_rank", F.row_number().over(window))
        .filter(F.col("_rank") == 1)
        .drop("_rank", "_position")
    )


def build_campaign_tasks(campaign_info: DataFrame) -> DataFrame:
    """curated.campaign_tasks: one row per campaign and task (a task listed twice: the later entry wins).

    Needs raw.campaign_info columns of current items (deleted ones removed).
    """
    tasks_df = campaign_info.select(
        "campaign_id",
        "title",
        to_utc_timestamp(F.col("reward_claim_deadline")).alias("reward_claim_deadline"),
        to_utc_timestamp(F.col("ends_at")).alias("ends_at"),
        to_utc_timestamp(F.col("created_at")).alias("created_at"),
        to_utc_timestamp(F.col("updated_at")).alias("updated_at"),
        F.posexplode("campaign_tasks").alias("_position", "_task"),
    ).filter(F.col("_task.task_id").isNotNull())
    latest = Window.partitionBy("campaign_id", F.col("_task.task_id")).orderBy(F.col("_position").desc())
    deduped_df = tasks_df.withColumn("_rank", F.row_number().over(latest)).filter(F.col("_rank") == 1)
    return deduped_df.select(
        "campaign_id",
        F.col("_task.task_id").alias("task_id"),
        "title",
        F.col("_task.reward_amount").alias("reward_amount"),
        to_utc_timestamp(F.col("_task.task_deadline")).alias("task_deadline"),
        "reward_claim_deadline",
        "ends_at",
        "created_at",
        "updated_at",
    )


def enrich_task_deadline(progress: DataFrame, campaign_tasks: DataFrame) -> DataFrame:
    """Add `task_deadline` by (campaign_id, task_id); null when the campaign or task is unknown (row kept)."""
    deadlines_df = campaign_tasks.select(*TASK_KEY, "task_deadline")
    return progress.join(deadlines_df, on=TASK_KEY, how="left")


def build_campaign_task_progress(user_campaign: DataFrame, campaign_tasks: DataFrame) -> DataFrame:
    """curated.campaign_task_progress: one row per user, campaign and task.

    `user_campaign`: current raw.user_campaign items; `campaign_tasks`: curated.campaign_tasks.
    """
    entries_df = explode_progress_details(user_campaign)
    progress_df = filter_latest_task_entry(entries_df)
    enriched_df = enrich_task_deadline(progress_df, campaign_tasks)
    return enriched_df.select(
        "user_id",
        "campaign_id",
        "task_id",
        "task_progress_state",
        "validated_at",
        "validation_failure_reason",
        "reward_earned",
        "campaign_progress_state",
        "total_task_rewards_earned",
        "created_at",
        "updated_at",
        "task_deadline",
        F.to_date("created_at").alias("created_date"),
    )


def with_task_deadline_refreshed(progress: DataFrame, campaign_tasks: DataFrame) -> DataFrame:
    """Curated progress rows with `task_deadline` looked up again (after campaignInfo changed)."""
    columns = progress.columns
    return enrich_task_deadline(progress.drop("task_deadline"), campaign_tasks).select(*columns)
