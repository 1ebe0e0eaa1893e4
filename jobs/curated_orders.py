"""Glue job: raw.orders_events -> curated.orders, product_details, purchase_details, shipping_addresses."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("curated_orders", argv)


if __name__ == "__main__":
    main(sys.argv)
