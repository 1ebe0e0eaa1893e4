"""The baseline the original pipeline used: recompute the whole curated table from all raw data and overwrite it.

Run: python bench/rebuild.py LAKE_ROOT  (writes <lake_root>/bench_rebuild/campaign_task_progress)
"""

from __future__ import annotations

import sys
import time

from pyspark.sql import Window
from pyspark.sql import functions as F

from lakekit.catalog.model import load_table
from lakekit.core.session import get_spark
from lakekit.core.settings import load_settings
from transforms.campaign import build_campaign_task_progress, build_campaign_tasks


def current_items(spark, lake_root: str, name: str):
    table = load_table(name)
    raw_df = spark.read.schema(table.schema).parquet(table.location_under(lake_root))
    # Latest image per item across every export; a full export resets, so items absent from the latest one go.
    latest_full = raw_df.filter(F.col("_export_type") == "FULL_EXPORT").agg(F.max("_export_time")).first()[0]
    since_df = raw_df.filter(F.col("_export_time") >= latest_full)
    window = Window.partitionBy(*table.source_key_columns).orderBy(
        F.col("_export_time").desc(), F.col("_write_ts").desc_nulls_last()
    )
    latest_df = since_df.withColumn("_rank", F.row_number().over(window)).filter("_rank = 1")
    return latest_df.filter(F.col("_op") != "DELETE")


def main(lake_root: str) -> float:
    settings = load_settings("local", lake_root)
    spark = get_spark(settings)
    started = time.monotonic()  # like a job's work time: after the SparkSession is up
    tasks_df = build_campaign_tasks(current_items(spark, settings.lake_root, "raw.campaign_info"))
    progress_df = build_campaign_task_progress(current_items(spark, settings.lake_root, "raw.user_campaign"), tasks_df)
    progress_df.write.format("delta").mode("overwrite").partitionBy("created_date").save(
        settings.path("bench_rebuild", "campaign_task_progress")
    )
    elapsed = time.monotonic() - started
    print(f"rebuild: {elapsed:.1f}s")
    return elapsed


if __name__ == "__main__":
    main(sys.argv[1])
