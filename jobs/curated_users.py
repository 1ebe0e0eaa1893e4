"""Glue job: one day of raw.users (yesterday by default) -> curated.users and curated.user_locations (Delta)."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("curated_users", argv)


if __name__ == "__main__":
    main(sys.argv)
