"""The generic streaming job raw_events: any event stream declared in catalog/streams/ into its raw table."""

from __future__ import annotations

from lakekit.catalog.model import CatalogError
from lakekit.catalog.streams import load_stream, stream_names
from lakekit.core.job import JobError, JobRun
from lakekit.core.registry import Job, Pipeline
from lakekit.sources.streams.raw import STATE_KIND, run_stream_to_raw, state_name

RAW_EVENTS_JOB = "raw_events"
OPTIONS: dict[str, str | None] = {"stream": None, "max_files_per_batch": "1000"}


def batches_state(stream: str) -> str:
    """The lake path of the raw job's last written batch of a stream, which downstream jobs read (their `reads`)."""
    return f"_state/{STATE_KIND}/{state_name(RAW_EVENTS_JOB, stream)}.json"


def run_raw_events(run: JobRun) -> None:
    """landing/streams/<stream>/ -> raw.<stream>_events (the stream's raw_table), exactly once."""
    name = run.args.get("stream")
    if not name:
        raise JobError(f"--stream is required: one of {', '.join(stream_names())}")
    try:
        stream = load_stream(name)
    except CatalogError as error:
        raise JobError(f"{error}; streams: {', '.join(stream_names())}") from None
    try:
        max_files = int(run.args["max_files_per_batch"])
    except ValueError:
        raise JobError(
            f"--max_files_per_batch must be a whole number, got {run.args['max_files_per_batch']!r}"
        ) from None
    run_stream_to_raw(run, stream, max_files if max_files > 0 else None)


PIPELINE = Pipeline(
    name="event_streams",
    jobs=(
        Job(
            RAW_EVENTS_JOB,
            run_raw_events,
            OPTIONS,
            "landing/streams/<stream>/ -> raw.<stream>_events (streaming)",
            reads=("landing/streams",),
            writes=tuple(load_stream(name).raw_table for name in stream_names()),
        ),
    ),
    workflows={},
)
