"""Glue job: raw.campaign_info -> curated.campaign_tasks (Delta, MERGE of what changed)."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("curated_campaign_tasks", argv)


if __name__ == "__main__":
    main(sys.argv)
