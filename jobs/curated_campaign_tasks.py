"""Glue job: raw.campaign_info -> curated.campaign_tasks (Delta, MERGE of what changed)."""

import sys

from lakekit.campaign import run_campaign_tasks
from lakekit.job import job_run


def main(argv: list[str]) -> None:
    with job_run(argv) as run:
        run_campaign_tasks(run)


if __name__ == "__main__":
    main(sys.argv)
