"""The campaign pipeline's curated jobs: keep curated Delta tables in step with the raw exports by MERGE."""

from __future__ import annotations

from pyspark.sql import DataFrame

from lakekit.catalog import load_table, register_table
from lakekit.delta_io import apply_changes, changed_values, latest_version, read_version
from lakekit.incremental import changes_since
from lakekit.job import JobRun
from transforms.campaign import build_campaign_task_progress, build_campaign_tasks, with_task_deadline_refreshed
from transforms.changes import build_changes

RAW_JOBS = {"raw.user_campaign": "raw_user_campaign", "raw.campaign_info": "raw_campaign_info"}


def _target(run: JobRun, name: str):
    table = load_table(name)
    register_table(run.spark, table, run.settings.lake_root)
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
    changes_df = build_changes(old_df, new_df.select(*table.column_names), list(table.primary_key))
    result = apply_changes(run.spark, table, path, changes_df)
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
    tasks_version = latest_version(run.spark, tasks_path)
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
    if source is not None and source.reset:
        old_df = target_df
        new_df = build_campaign_task_progress(source.current_items, tasks_df).select(*columns)
    else:
        old_parts: list[DataFrame] = []
        new_parts: list[DataFrame] = []
        touched_df = None
        if source is not None:
            touched_df = source.images.select(*item_keys)
            old_parts.append(target_df.join(touched_df, item_keys, "left_semi"))
            new_parts.append(build_campaign_task_progress(source.current_items, tasks_df).select(*columns))
        if campaigns_changed:
            campaigns_df = changed_values(
                run.spark, tasks_path, -1 if seen_version is None else seen_version, tasks_version, "campaign_id"
            )
            stale_df = target_df.join(campaigns_df, "campaign_id", "left_semi").select(*columns)
            if touched_df is not None:
                stale_df = stale_df.join(touched_df, item_keys, "left_anti")
            old_parts.append(stale_df)
            new_parts.append(with_task_deadline_refreshed(stale_df, tasks_df))
        old_df = _union(old_parts)
        new_df = _union(new_parts)
    match_on = list(table.primary_key) + list(table.partition_keys)
    result = apply_changes(run.spark, table, path, build_changes(old_df, new_df, match_on))
    _report(run, table, result, source is not None and source.reset)
    run.advance(
        {
            "applied": source.applied if source is not None else position.get("applied", []),
            "campaign_tasks_version": tasks_version,
        }
    )


def _union(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result
