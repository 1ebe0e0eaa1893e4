"""Glue job: one day of raw.users (yesterday by default) -> curated.users and curated.user_locations (Delta)."""

import sys

from lakekit.job import job_run
from lakekit.users import DAILY_OPTIONS, run_users_daily


def main(argv: list[str]) -> None:
    with job_run(argv, DAILY_OPTIONS) as run:
        run_users_daily(run)


if __name__ == "__main__":
    main(sys.argv)
