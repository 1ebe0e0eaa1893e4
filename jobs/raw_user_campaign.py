"""Glue job: DynamoDB exports of user_Campaign under <lake_root>/landing/ -> raw.user_campaign (Parquet, p_date)."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("raw_user_campaign", argv)


if __name__ == "__main__":
    main(sys.argv)
