"""Glue job: an event stream landed as files (--stream NAME) -> raw.<stream>_events, by Structured Streaming."""

import sys

from lakekit.core.registry import run_job


def main(argv: list[str]) -> None:
    run_job("raw_events", argv)


if __name__ == "__main__":
    main(sys.argv)
