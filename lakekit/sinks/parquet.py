"""The raw layer's Parquet tables: append what a source delivered, exactly once per source file or export.

Rows are written to a staging folder first, then moved into their partition under names derived
from the source's id (an export id, a landing file), so a rerun replaces what an interrupted
attempt left instead of adding to it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pyspark.sql import DataFrame

from lakekit.catalog.metastore import register_partitions
from lakekit.catalog.model import TableDef
from lakekit.core.failpoints import failpoint
from lakekit.core.storage import storage_for


def partition_files(lake_root: str, table: TableDef) -> dict[str, list[str]]:
    """{p_date: paths of the Parquet files in that partition of the raw table, sorted}, partitions without one
    left out: one listing of the table's folder, then one of each p_date= folder in it."""
    storage = storage_for(lake_root)
    found = {}
    for folder in storage.list_dirs(table.location_under(lake_root)):
        name = folder.rsplit("/", 1)[-1]
        if name.startswith("p_date="):
            files = sorted(p for p in storage.list_files(folder) if p.endswith(".parquet"))
            if files:
                found[name.split("=", 1)[1]] = files
    return found


def publish_staged(storage, staging: str, partition_dir: str, prefix: str) -> int:
    """Move the staged Parquet files into the partition under names derived from `prefix` (the source's id).

    Files an interrupted earlier attempt left for this source are removed first, so a rerun ends
    with exactly one copy of it whatever point the earlier attempt reached.
    """
    for stale in storage.list_files(partition_dir):
        if stale.rsplit("/", 1)[-1].startswith(f"{prefix}-"):
            storage.delete(stale)
    parts = [f for f in storage.list_files(staging) if re.search(r"/part-[^/]*\.parquet$", f)]
    for index, part in enumerate(parts):
        storage.move(part, f"{partition_dir}/{prefix}-{index:05d}.snappy.parquet")
        failpoint("parquet.mid_publish")
    storage.delete_tree(staging)
    failpoint("parquet.after_publish")
    return len(parts)


def append_by_source_file(
    run, table: TableDef, records_df: DataFrame, pending: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Append `records_df` (rows with a `_landing_id` column) to `table`, one publish per landing file.

    `pending` maps each landing file's key, `p_date=YYYY-MM-DD/<landing id>.json`, to its path; its
    rows go to that p_date partition. One Spark job writes them all; returns {key: {"rows": n}}.
    """
    settings, storage = run.settings, storage_for(run.settings.lake_root)
    records_df = records_df.persist()
    try:
        rows = {r["_landing_id"]: r["count"] for r in records_df.groupBy("_landing_id").count().collect()}
        staging = settings.path("_staging", run.state_name, uuid.uuid4().hex[:8])
        columns = [c for c in table.column_names if c not in table.partition_keys]
        records_df.select(*columns, "_landing_id").write.partitionBy("_landing_id").parquet(staging)
    finally:
        records_df.unpersist()
    committed = {}
    failpoint("parquet.before_publish")
    for key in sorted(pending):
        p_date_folder, name = key.split("/")
        landing_id = name.rsplit(".", 1)[0]
        partition_dir = f"{table.location_under(settings.lake_root)}/{p_date_folder}"
        publish_staged(storage, f"{staging}/_landing_id={landing_id}", partition_dir, landing_id)
        committed[key] = {"rows": rows.get(landing_id, 0)}
    storage.delete_tree(staging)
    p_dates = sorted({key.split("/")[0].split("=", 1)[1] for key in pending})
    register_partitions(run, table, [{"p_date": d} for d in p_dates])
    return committed
