"""Glue job: randomuser API -> <lake_root>/landing/randomuser/p_date=…/ (credentials removed) -> raw.users."""

import sys

from lakekit.job import job_run
from lakekit.users import INGEST_OPTIONS, run_ingest_users


def main(argv: list[str]) -> None:
    with job_run(argv, INGEST_OPTIONS) as run:
        run_ingest_users(run)


if __name__ == "__main__":
    main(sys.argv)
