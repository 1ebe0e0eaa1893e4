"""Glue job: raw.complaints -> curated.complaints (Delta MERGE of what changed, change data feed on)."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("curated_complaints", argv)


if __name__ == "__main__":
    main(sys.argv)
