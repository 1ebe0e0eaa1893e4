"""Helpers the tests share: run jobs in this process, read tables back, land exports."""

from __future__ import annotations

from pyspark.sql import DataFrame

from lakekit.catalog.model import load_table
from lakekit.core import registry

CAMPAIGN_JOBS = [step.job for step in registry.workflow("campaign")]


def run_job(lake_root: str, job: str, **args: str) -> None:
    """Run a job with Glue-style argv, in this process, as its script under jobs/ does."""
    registry.run_job(job, registry.job_argv(job, lake_root, "local", args))


def run_campaign(lake_root: str, **args: str) -> None:
    for job in CAMPAIGN_JOBS:
        run_job(lake_root, job, **args)


def read_table(spark, lake_root: str, name: str) -> DataFrame:
    """A lake table read from its files under `lake_root` (not through the shared metastore)."""
    table = load_table(name)
    path = table.location_under(lake_root)
    if table.format == "delta":
        return spark.read.format("delta").load(path)
    return spark.read.schema(table.schema).parquet(path)


def delta_version(spark, lake_root: str, name: str) -> int | None:
    """The table's newest version as Spark's Delta sees it (DESCRIBE HISTORY), None when it is no Delta table."""
    from delta.tables import DeltaTable

    path = load_table(name).location_under(lake_root)
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return DeltaTable.forPath(spark, path).history(1).select("version").first()["version"]
