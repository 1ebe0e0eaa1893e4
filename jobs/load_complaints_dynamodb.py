"""Glue job: complaints curated.complaints inserted or updated since the bookmark -> the DynamoDB table."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("load_complaints_dynamodb", argv)


if __name__ == "__main__":
    main(sys.argv)
