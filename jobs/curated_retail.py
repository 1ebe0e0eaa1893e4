"""Glue job: raw.retail_events -> curated.retail_invoice_lines, retail_customers, retail_invoices."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("curated_retail", argv)


if __name__ == "__main__":
    main(sys.argv)
