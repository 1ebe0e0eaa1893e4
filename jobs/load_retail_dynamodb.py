"""Glue job: curated.retail_customers, retail_invoices change data feeds -> DynamoDB Customers, Invoices."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("load_retail_dynamodb", argv)


if __name__ == "__main__":
    main(sys.argv)
