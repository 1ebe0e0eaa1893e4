"""The campaign pipeline: DynamoDB exports of user_Campaign and campaignInfo -> raw Parquet -> curated Delta."""

from __future__ import annotations

from dataclasses import replace

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakekit.catalog.model import load_table
from lakekit.core.job import JobRun
from lakekit.core.registry import Job, Pipeline, Step
from lakekit.sinks.delta import broadcast_if_small, changed_values, read_version
from lakekit.sinks.delta_log import has_version_after, latest_version
from lakekit.sources.dynamodb.changes import changes_since, has_new_exports
from lakekit.sources.dynamodb.raw import has_unwritten_exports, run_raw_export_job
from lakekit.tables import TableHandle
from transforms.campaign import build_campaign_task_progress, build_campaign_tasks, with_task_deadline_refreshed

RAW_JOBS = {"raw.user_campaign": "raw_user_campaign", "raw.campaign_info": "raw_campaign_info"}


def _note(full: bool) -> str:
    return "full recompute" if full else "incremental"


def run_campaign_tasks(run: JobRun) -> None:
    """curated.campaign_tasks from raw.campaign_info: the tasks of the campaigns the new exports touch."""
    position = run.position()
    source = changes_since(
        run, load_table("raw.campaign_info"), RAW_JOBS["raw.campaign_info"], position.get("applied", [])
    )
    if source is None:
        run.say("nothing new in raw.campaign_info")
        return
    table = TableHandle(run, "curated.campaign_tasks").register()
    target_df = table.read()
    new_df = build_campaign_tasks(source.current_items)
    old_df = (
        target_df if source.reset else target_df.join(source.images.select("campaign_id"), "campaign_id", "left_semi")
    )
    table.write(old_df, new_df, check_features=True, note=_note(source.reset))
    run.advance({"applied": source.applied})


def run_campaign_task_progress(run: JobRun) -> None:
    """curated.campaign_task_progress: rows of changed user_Campaign items, deadlines of changed campaigns."""
    position = run.position()
    source = changes_since(
        run, load_table("raw.user_campaign"), RAW_JOBS["raw.user_campaign"], position.get("applied", [])
    )
    tasks = TableHandle(run, "curated.campaign_tasks")
    tasks_path = tasks.path
    tasks_version = latest_version(tasks_path)
    seen_version = position.get("campaign_tasks_version")
    # A bookmark without a version (tasks table made after this job's last run) means: every campaign.
    campaigns_changed = (
        bool(position) and tasks_version is not None and (seen_version is None or tasks_version > seen_version)
    )
    if source is None and not campaigns_changed:
        run.say("nothing new in raw.user_campaign or curated.campaign_tasks")
        return
    table = TableHandle(run, "curated.campaign_task_progress").register()
    tasks_df = read_version(run.spark, tasks_path, tasks_version, tasks.table.schema)
    target_df = table.read()
    columns = table.table.column_names
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
    try:
        table.write(old_df, new_df, check_features=True, note=_note(source is not None and source.reset))
    finally:
        for frame in cached:
            frame.unpersist()
    run.advance(
        {
            "applied": source.applied if source is not None else position.get("applied", []),
            "campaign_tasks_version": tasks_version,
        }
    )


def has_new_tasks(run: JobRun) -> bool:
    """Whether curated_campaign_tasks has work: an export of raw.campaign_info it has not applied."""
    return has_new_exports(
        run, RAW_JOBS["raw.campaign_info"], run.bookmarks.position(run.state_name).get("applied", [])
    )


def has_new_progress(run: JobRun) -> bool:
    """Whether curated_campaign_task_progress has work: a raw.user_campaign export it has not applied, or
    a version of curated.campaign_tasks after the one it saw (one listing of the Delta log's newest entries)."""
    position = run.bookmarks.position(run.state_name)
    if has_new_exports(run, RAW_JOBS["raw.user_campaign"], position.get("applied", [])):
        return True
    if not position:
        return False
    return has_version_after(TableHandle(run, "curated.campaign_tasks").path, position.get("campaign_tasks_version"))


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
            reads=("landing/dynamodb/user_Campaign",),
            writes=("raw.user_campaign",),
        ),
        Job(
            "raw_campaign_info",
            lambda run: run_raw_export_job(run, load_table("raw.campaign_info")),
            has_work=lambda run: has_unwritten_exports(run, load_table("raw.campaign_info")),
            description="DynamoDB exports of campaignInfo -> raw.campaign_info",
            reads=("landing/dynamodb/campaignInfo",),
            writes=("raw.campaign_info",),
        ),
        Job(
            "curated_campaign_tasks",
            run_campaign_tasks,
            description="raw.campaign_info -> curated.campaign_tasks",
            has_work=has_new_tasks,
            reads=("raw.campaign_info", f"_state/exports/{RAW_JOBS['raw.campaign_info']}.json"),
            writes=("curated.campaign_tasks",),
        ),
        Job(
            "curated_campaign_task_progress",
            run_campaign_task_progress,
            description="raw.user_campaign + curated.campaign_tasks -> curated.campaign_task_progress",
            has_work=has_new_progress,
            reads=(
                "raw.user_campaign",
                "curated.campaign_tasks",
                f"_state/exports/{RAW_JOBS['raw.user_campaign']}.json",
            ),
            writes=("curated.campaign_task_progress",),
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
