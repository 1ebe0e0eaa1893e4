"""Glue job: DynamoDB exports of campaignInfo under <lake_root>/landing/ -> raw.campaign_info (Parquet, p_date)."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("raw_campaign_info", argv)


if __name__ == "__main__":
    main(sys.argv)
