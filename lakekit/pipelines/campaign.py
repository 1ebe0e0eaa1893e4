"""The campaign pipeline: DynamoDB exports of user_Campaign and campaignInfo -> raw Parquet -> curated Delta."""

from __future__ import annotations

from dataclasses import replace

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakekit.catalog.metastore import register
from lakekit.catalog.model import load_table
from lakekit.core.job import JobRun
from lakekit.core.registry import Job, Pipeline, Step
from lakekit.sinks.delta import (
    apply_changes,
    broadcast_if_small,
    changed_values,
    compact,
    load_into_empty,
    read_version,
)
from lakekit.sinks.delta_features import feature_drift, table_detail
from lakekit.sinks.delta_log import has_version_after, latest_version
from lakekit.sources.dynamodb.changes import changes_since, has_new_exports
from lakekit.sources.dynamodb.raw import has_unwritten_exports, run_raw_export_job
from transforms.campaign import build_campaign_task_progress, build_campaign_tasks, with_task_deadline_refreshed
from transforms.changes import build_changes

RAW_JOBS = {"raw.user_campaign": "raw_user_campaign", "raw.campaign_info": "raw_campaign_info"}


def _target(run: JobRun, name: str):
    table = load_table(name)
    register(run, table)
    return table, table.location_under(run.settings.lake_root)


def _report(run: JobRun, table, result, source) -> None:
    if result.version is None:
        run.say(f"{table.qualified_name}: already up to date, no new version")
    else:
        run.say(
            f"{table.qualified_name}: version {result.version}, {result.upserted} row(s) inserted or updated, "
            f"{result.deleted} deleted ({'full recompute' if source else 'incremental'})"
        )


def run_campaign_tasks(run: JobRun) -> None:
    """curated.campaign_tasks from raw.campaign_info: the tasks of the campaigns the new exports touch."""
    position = run.position()
    source = changes_since(
        run, load_table("raw.campaign_info"), RAW_JOBS["raw.campaign_info"], position.get("applied", [])
    )
    if source is None:
        run.say("nothing new in raw.campaign_info")
        return
    table, path = _target(run, "curated.campaign_tasks")
    target_df = run.spark.read.format("delta").load(path)
    new_df = build_campaign_tasks(source.current_items)
    old_df = (
        target_df if source.reset else target_df.join(source.images.select("campaign_id"), "campaign_id", "left_semi")
    )
    result = _apply(run, table, path, old_df, new_df.select(*table.column_names), list(table.primary_key))
    _report(run, table, result, source.reset)
    run.advance({"applied": source.applied})


def run_campaign_task_progress(run: JobRun) -> None:
    """curated.campaign_task_progress: rows of changed user_Campaign items, deadlines of changed campaigns."""
    position = run.position()
    source = changes_since(
        run, load_table("raw.user_campaign"), RAW_JOBS["raw.user_campaign"], position.get("applied", [])
    )
    tasks_table = load_table("curated.campaign_tasks")
    tasks_path = tasks_table.location_under(run.settings.lake_root)
    tasks_version = latest_version(tasks_path)
    seen_version = position.get("campaign_tasks_version")
    # A bookmark without a version (tasks table made after this job's last run) means: every campaign.
    campaigns_changed = (
        bool(position) and tasks_version is not None and (seen_version is None or tasks_version > seen_version)
    )
    if source is None and not campaigns_changed:
        run.say("nothing new in raw.user_campaign or curated.campaign_tasks")
        return
    table, path = _target(run, "curated.campaign_task_progress")
    tasks_df = read_version(run.spark, tasks_path, tasks_version, tasks_table.schema)
    target_df = run.spark.read.format("delta").load(path)
    columns = table.column_names
    item_keys = ["user_id", "campaign_id"]
    cached: list[DataFrame] = []
    if source is not None and source.reset:
        old_df = target_df
        new_df = build_campaign_task_progress(source.current_items, tasks_df).select(*columns)
    else:
        touched_df = None
        if source is not None:
            # The changed items feed both the keys to look up and the new rows: read and resolved once.
            source = replace(source, images=source.images.persist())
            cached.append(source.images)
            changed = source.images.count()
            run.say(f"{changed} changed item(s) in the new exports of raw.user_campaign")
            touched_df = broadcast_if_small(source.images.select(*item_keys), changed)
        campaigns_df = (
            # Campaigns are reference data, a few thousand at most: their ids always go to every task.
            F.broadcast(
                changed_values(
                    run.spark, tasks_path, -1 if seen_version is None else seen_version, tasks_version, "campaign_id"
                )
            )
            if campaigns_changed
            else None
        )
        # One scan of the table finds both the rows of touched items and those of changed campaigns.
        candidates_df = _rows_of(target_df, touched_df, campaigns_df).persist()
        cached.append(candidates_df)
        old_parts: list[DataFrame] = []
        new_parts: list[DataFrame] = []
        if touched_df is not None:
            old_parts.append(candidates_df.filter("_touched").select(*columns))
            new_parts.append(build_campaign_task_progress(source.current_items, tasks_df).select(*columns))
        if campaigns_df is not None:
            stale_df = candidates_df.filter("_stale AND NOT _touched").select(*columns)
            old_parts.append(stale_df)
            new_parts.append(with_task_deadline_refreshed(stale_df, tasks_df))
        old_df = _union(old_parts)
        new_df = _union(new_parts)
    match_on = list(table.primary_key) + list(table.partition_keys)
    try:
        result = _apply(run, table, path, old_df, new_df, match_on)
    finally:
        for frame in cached:
            frame.unpersist()
    _report(run, table, result, source is not None and source.reset)
    run.advance(
        {
            "applied": source.applied if source is not None else position.get("applied", []),
            "campaign_tasks_version": tasks_version,
        }
    )


def has_new_tasks(run: JobRun) -> bool:
    """Whether curated_campaign_tasks has work: an export of raw.campaign_info it has not applied."""
    return has_new_exports(run, RAW_JOBS["raw.campaign_info"], run.bookmarks.position(run.name).get("applied", []))


def has_new_progress(run: JobRun) -> bool:
    """Whether curated_campaign_task_progress has work: a raw.user_campaign export it has not applied, or
    a version of curated.campaign_tasks after the one it saw (one listing of the Delta log's newest entries)."""
    position = run.bookmarks.position(run.name)
    if has_new_exports(run, RAW_JOBS["raw.user_campaign"], position.get("applied", [])):
        return True
    if not position:
        return False
    tasks_path = load_table("curated.campaign_tasks").location_under(run.settings.lake_root)
    return has_version_after(tasks_path, position.get("campaign_tasks_version"))


def _apply(run: JobRun, table, path: str, old_df: DataFrame, new_df: DataFrame, match_on: list[str]):
    """Make the rows `old_df` selected from the table into `new_df` (a plain append into an empty table),
    then compact the partitions that have gathered too many files."""
    detail = table_detail(run.spark, path)
    for drift in feature_drift(table, detail):
        # Never changed by a job: features decide which engines can read the table.
        run.say(f"{table.qualified_name}: {drift}; `lake table features {table.qualified_name} --apply` aligns it")
    if detail.files == 0:
        result = load_into_empty(run.spark, table, path, new_df)
    else:
        result = apply_changes(run.spark, table, path, build_changes(old_df, new_df, match_on))
    if result.version is not None:
        compacted = compact(run.spark, table, path)
        if compacted:
            run.say(f"{table.qualified_name}: compacted {compacted} partition(s) of {table.compact_min_files}+ files")
    return result


def _rows_of(target_df: DataFrame, touched_df: DataFrame | None, campaigns_df: DataFrame | None) -> DataFrame:
    """Rows of the table whose item was touched (`_touched`) or whose campaign changed (`_stale`).

    Each key frame holds a key once (latest images, distinct campaign ids); a broadcast hint on it
    carries through to the join.
    """
    flagged = target_df
    for name, keys_df, keys in (
        ("_touched", touched_df, ["user_id", "campaign_id"]),
        ("_stale", campaigns_df, ["campaign_id"]),
    ):
        if keys_df is None:
            flagged = flagged.withColumn(name, F.lit(False))
        else:
            marks = keys_df.select(*keys).withColumn(name, F.lit(True))
            flagged = flagged.join(marks, keys, "left").withColumn(name, F.coalesce(name, F.lit(False)))
    return flagged.filter("_touched OR _stale")


def _union(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


PIPELINE = Pipeline(
    name="campaign",
    jobs=(
        Job(
            "raw_user_campaign",
            lambda run: run_raw_export_job(run, load_table("raw.user_campaign")),
            has_work=lambda run: has_unwritten_exports(run, load_table("raw.user_campaign")),
            description="DynamoDB exports of user_Campaign -> raw.user_campaign",
        ),
        Job(
            "raw_campaign_info",
            lambda run: run_raw_export_job(run, load_table("raw.campaign_info")),
            has_work=lambda run: has_unwritten_exports(run, load_table("raw.campaign_info")),
            description="DynamoDB exports of campaignInfo -> raw.campaign_info",
        ),
        Job(
            "curated_campaign_tasks",
            run_campaign_tasks,
            description="raw.campaign_info -> curated.campaign_tasks",
            has_work=has_new_tasks,
        ),
        Job(
            "curated_campaign_task_progress",
            run_campaign_task_progress,
            description="raw.user_campaign + curated.campaign_tasks -> curated.campaign_task_progress",
            has_work=has_new_progress,
        ),
    ),
    workflows={
        "campaign": (
            Step("raw_user_campaign"),
            Step("raw_campaign_info"),
            Step("curated_campaign_tasks"),
            Step("curated_campaign_task_progress"),
        )
    },
)
