"""`lake serve` (the event ingest service) and `lake stream produce` (test events posted to it)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from lakekit.cli.jobs import UsageError
from lakekit.core.settings import ConfigError, load_settings

DEFAULT_PORT = 8080


def api_keys(settings) -> list[str]:
    """LAKE_API_KEYS (comma-separated), else serve.api_keys in the conf."""
    from_env = os.environ.get("LAKE_API_KEYS")
    keys = from_env.split(",") if from_env else list(settings.serve.get("api_keys") or [])
    keys = [k.strip() for k in keys if k and k.strip()]
    if not keys:
        raise ConfigError("no API key: set LAKE_API_KEYS (comma-separated) or serve.api_keys in the conf")
    return keys


def make_sink(settings, kind: str, streams: list[str]):
    from lakekit.serve.stores import FileSink, KinesisSink

    conf = settings.serve
    if kind == "file":
        return FileSink(
            settings.lake_root,
            streams,
            roll_bytes=int(conf.get("roll_bytes", 5 * 1024 * 1024)),
            roll_seconds=float(conf.get("roll_seconds", 60)),
            max_inflight=int(conf.get("max_inflight", 64)),
            min_free_bytes=int(conf.get("min_free_bytes", 0)),
        )
    kinesis = conf.get("kinesis") or {}
    names = {s: settings.names.stream(s) for s in streams}  # the environment's streams (conf names:)
    return KinesisSink(
        names, attempts=int(kinesis.get("attempts", 5)), backoff_seconds=float(kinesis.get("backoff_seconds", 0.1))
    )


def cmd_serve(ns) -> int:
    import uvicorn

    from lakekit.catalog.streams import load_stream, stream_names
    from lakekit.core import registry
    from lakekit.serve.app import create_app

    settings = load_settings(ns.env, ns.lake_root)
    keys = api_keys(settings)
    streams = {name: load_stream(name) for name in stream_names()}
    kind = ns.sink or settings.serve.get("sink", "file")
    try:
        sink = make_sink(settings, kind, sorted(streams))
    except ValueError as error:
        raise ConfigError(str(error)) from None
    for stream, files in getattr(sink, "recovered", {}).items():
        if files:
            print(f"recovered {len(files)} landing file(s) of stream {stream} left open by an earlier run", flush=True)
    host = ns.host or settings.serve.get("host", "127.0.0.1")
    port = ns.port or int(settings.serve.get("port", DEFAULT_PORT))
    where = settings.path("landing", "streams") if kind == "file" else "Kinesis"
    print(f"serving streams {', '.join(sorted(streams))} on http://{host}:{port} -> {where}", flush=True)
    # The pipelines' read APIs, each made from the settings (where its tables are).
    routers = [make_router(settings) for make_router in registry.routes()]
    paths = [f"{method} {route.path}" for router in routers for route in router.routes for method in route.methods]
    if paths:
        print(f"and {', '.join(sorted(paths))}", flush=True)
    app = create_app(streams, sink, keys, routers=routers)
    # SIGTERM or Ctrl-C: uvicorn shuts down gracefully and the app publishes its open landing files.
    uvicorn.run(app, host=host, port=port, log_level=ns.log_level, access_log=False)
    return 0


def _progress(label: str, quiet: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("events"), TimeRemainingColumn())
    return Progress(*columns, disable=quiet or not sys.stderr.isatty(), transient=True)


def cmd_produce(ns) -> int:
    api_key = ns.api_key or os.environ.get("LAKE_API_KEY")
    if not api_key:
        raise ConfigError("no API key: pass --api-key or set LAKE_API_KEY")
    if ns.csv:
        return produce_file(ns, api_key)
    if ns.date_format:
        raise UsageError("--date-format is for reading a file: pass --csv FILE too")
    from lakekit.core import registry
    from lakekit.serve.producer import produce

    if ns.stream not in registry.producers() and ns.stream in registry.file_producers():
        raise UsageError(f"stream {ns.stream!r} is produced from a file: pass --csv FILE")
    make_event = registry.producer(ns.stream)
    count = ns.count or 100
    with _progress(ns.stream, ns.quiet) as progress:
        task = progress.add_task("produce", total=count)
        summary = produce(
            ns.url,
            ns.stream,
            api_key,
            make_event,
            count,
            batch=ns.batch or 100,
            rate=ns.rate,
            seed=ns.seed,
            concurrency=ns.concurrency,
            on_batch=lambda n: progress.advance(task, n),
        )
    rate = summary.accepted / summary.seconds if summary.seconds else 0.0
    shown = {
        "stream": ns.stream,
        "status": "succeeded" if summary.accepted == count else "failed",
        "events": count,
        "accepted": summary.accepted,
        "rejected": summary.rejected,
        "failed": summary.failed,
        "requests": summary.requests,
        "retries": summary.retries,
        "duration_seconds": round(summary.seconds, 3),
        "p50_ms": round(summary.percentile(0.5) * 1000, 1),
        "p99_ms": round(summary.percentile(0.99) * 1000, 1),
        "messages": list(summary.reasons),
    }
    if ns.format == "json":
        print(json.dumps(shown))
        return 0 if summary.accepted == count else 1
    print(
        f"{ns.stream}: {summary.accepted} accepted, {summary.rejected} rejected, {summary.failed} failed "
        f"of {count} event(s) in {summary.requests} request(s), {summary.retries} retried; "
        f"{summary.seconds:.1f}s, {rate:.0f} events/s, p50 {summary.percentile(0.5) * 1000:.0f} ms, "
        f"p99 {summary.percentile(0.99) * 1000:.0f} ms"
    )
    for reason in summary.reasons:
        print(f"  {reason}")
    return 0 if summary.accepted == count else 1


def produce_file(ns, api_key: str) -> int:
    """`lake produce STREAM --csv FILE`: the rows of a file, read by the stream's file producer, posted by line.

    Exit status 0 when every row was read and accepted; 1 when a row was unreadable, refused or not stored
    (each listed by line), or when the file cannot be read at all.
    """
    from lakekit.core import registry
    from lakekit.serve.producer import produce_labelled

    if ns.count is not None or ns.seed is not None:
        raise UsageError("--count and --seed make test events: with --csv every row of the file is sent")
    read_file = registry.file_producer(ns.stream)
    try:
        read = read_file(ns.csv, {"date_format": ns.date_format} if ns.date_format else {})
    except registry.FileReadError as error:
        raise ConfigError(f"{ns.csv}: {error}") from None
    for note in read.notes:
        print(note, flush=True, file=sys.stderr if ns.format == "json" else sys.stdout)
    with _progress(ns.stream, ns.quiet) as progress:
        task = progress.add_task("produce", total=read.rows)

        def batches():
            batch, skipped = [], 0
            for pair in read.events:
                batch.append(pair)
                if len(read.unreadable) > skipped:  # unreadable rows are done too
                    progress.advance(task, len(read.unreadable) - skipped)
                    skipped = len(read.unreadable)
                if len(batch) == (ns.batch or 500):
                    yield batch
                    batch = []
            progress.advance(task, len(read.unreadable) - skipped)
            if batch:
                yield batch

        summary = produce_labelled(
            ns.url,
            ns.stream,
            api_key,
            batches(),
            rate=ns.rate,
            concurrency=ns.concurrency,
            on_batch=lambda n: progress.advance(task, n),
        )
    problems = {
        "unreadable": read.unreadable,
        "refused": summary.refused,
        "not_stored": summary.failures,
    }
    if ns.format == "json":
        shown = {
            "stream": ns.stream,
            "file": ns.csv,
            "status": "succeeded" if summary.accepted == read.rows else "failed",
            "rows": read.rows,
            "sent": summary.sent,
            "accepted": summary.accepted,
            "requests": summary.requests,
            "retries": summary.retries,
            "duration_seconds": round(summary.seconds, 3),
            "notes": list(read.notes),
            **{
                key: [{"line": line, "reason": reason} for line, reason in sorted(lines)]
                for key, lines in problems.items()
            },
        }
        print(json.dumps(shown))
        return 0 if summary.accepted == read.rows else 1
    print(
        f"{ns.stream}: {read.rows} row(s) read, {len(read.unreadable)} unreadable, {summary.sent} sent: "
        f"{summary.accepted} accepted, {summary.rejected} refused, {summary.failed} not stored; "
        f"{summary.requests} request(s), {summary.retries} retried, {summary.seconds:.1f}s"
    )
    for title, lines in (
        ("unreadable (not sent)", read.unreadable),
        ("refused by the service", summary.refused),
        ("not stored", summary.failures),
    ):
        if lines:
            print(f"{title}:")
            for line, reason in sorted(lines, key=lambda item: item[0]):
                print(f"  line {line}: {reason}")
    return 0 if summary.accepted == read.rows else 1


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value

    return parse


def add_parsers(sub, group, common, output_format) -> None:
    """`lake serve` and `lake stream produce`; `group` makes a noun's subcommands, the others add options."""
    serve = sub.add_parser(
        "serve", help="the event ingest service (POST /v1/streams/STREAM/records) and the pipelines' read APIs"
    )
    serve.add_argument("--host", help="address to listen on (default: serve.host in the conf, else 127.0.0.1)")
    serve.add_argument("--port", type=int, help=f"port (default: serve.port in the conf, else {DEFAULT_PORT})")
    serve.add_argument("--sink", choices=["file", "kinesis"], help="where events go (default: serve.sink in the conf)")
    serve.add_argument("--log-level", default="warning", help="uvicorn's log level (default warning)")
    common(serve)
    serve.set_defaults(func=cmd_serve)

    stream = group(sub, "stream", "the event streams: post test events or a file's rows to the ingest service")
    produce = stream.add_parser(
        "produce", help="post test events of a stream, or the rows of a file (--csv), to the ingest service"
    )
    produce.add_argument("stream", help="the stream, e.g. one declared in catalog/streams/")
    produce.add_argument("--url", required=True, help="the service, e.g. http://127.0.0.1:8080")
    produce.add_argument("--api-key", help="x-api-key (default: $LAKE_API_KEY)")
    produce.add_argument("--csv", metavar="FILE", help="send the rows of this file, read by the stream's file producer")
    produce.add_argument(
        "--date-format",
        help="with --csv: the file's date order when its rows cannot tell, e.g. D/M/YYYY, M/D/YYYY (default: detected)",
    )
    produce.add_argument("--count", type=_positive(int), help="test events to send (default 100)")
    produce.add_argument("--rate", type=_positive(float), help="events a second at most (default: no limit)")
    produce.add_argument("--batch", type=_positive(int), help="events a request (default 100; 500 with --csv)")
    produce.add_argument("--seed", type=int, help="the same test events every run")
    produce.add_argument("--concurrency", type=_positive(int), default=1, help="requests at once (default 1)")
    produce.add_argument("--quiet", action="store_true", help="no progress bar")
    output_format(produce)
    produce.set_defaults(func=cmd_produce)
