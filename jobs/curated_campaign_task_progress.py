"""Glue job: raw.user_campaign + curated.campaign_tasks -> curated.campaign_task_progress (Delta, MERGE)."""

import sys

from lakekit.campaign import run_campaign_task_progress
from lakekit.job import job_run


def main(argv: list[str]) -> None:
    with job_run(argv) as run:
        run_campaign_task_progress(run)


if __name__ == "__main__":
    main(sys.argv)
