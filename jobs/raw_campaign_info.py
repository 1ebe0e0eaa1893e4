"""Glue job: DynamoDB exports of campaignInfo under <lake_root>/landing/ -> raw.campaign_info (Parquet, p_date)."""

import sys

from lakekit.job import job_run
from lakekit.raw_exports import run_raw_export_job


def main(argv: list[str]) -> None:
    with job_run(argv) as run:
        run_raw_export_job(run, "raw.campaign_info")


if __name__ == "__main__":
    main(sys.argv)
