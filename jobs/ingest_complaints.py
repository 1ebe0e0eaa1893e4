"""Glue job: CFPB complaint search API, by date window with a ledger -> <lake_root>/landing/cfpb/ -> raw.complaints."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("ingest_complaints", argv)


if __name__ == "__main__":
    main(sys.argv)
