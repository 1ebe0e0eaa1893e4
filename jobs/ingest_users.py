"""Glue job: randomuser API -> <lake_root>/landing/randomuser/p_date=…/ (credentials removed) -> raw.users."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("ingest_users", argv)


if __name__ == "__main__":
    main(sys.argv)
