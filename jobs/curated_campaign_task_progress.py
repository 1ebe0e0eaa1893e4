"""Glue job: raw.user_campaign + curated.campaign_tasks -> curated.campaign_task_progress (Delta, MERGE)."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("curated_campaign_task_progress", argv)


if __name__ == "__main__":
    main(sys.argv)
