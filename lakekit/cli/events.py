"""`lake serve` (the event ingest service) and `lake produce` (test events posted to it)."""

from __future__ import annotations

import argparse
import os
import sys

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
    from lakekit.serve.sinks import FileSink, KinesisSink

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
    prefix = kinesis.get("stream_prefix", "")
    names = {s: (kinesis.get("streams") or {}).get(s, f"{prefix}{s}") for s in streams}
    return KinesisSink(
        names, attempts=int(kinesis.get("attempts", 5)), backoff_seconds=float(kinesis.get("backoff_seconds", 0.1))
    )


def cmd_serve(ns) -> int:
    import uvicorn

    from lakekit.catalog.streams import load_stream, stream_names
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
    app = create_app(streams, sink, keys)
    # SIGTERM or Ctrl-C: uvicorn shuts down gracefully and the app publishes its open landing files.
    uvicorn.run(app, host=host, port=port, log_level=ns.log_level, access_log=False)
    return 0


def cmd_produce(ns) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from lakekit.core import registry
    from lakekit.serve.producer import produce

    make_event = registry.producer(ns.stream)
    api_key = ns.api_key or os.environ.get("LAKE_API_KEY")
    if not api_key:
        raise ConfigError("no API key: pass --api-key or set LAKE_API_KEY")
    columns = (TextColumn(ns.stream), BarColumn(), MofNCompleteColumn(), TextColumn("events"), TimeRemainingColumn())
    with Progress(*columns, disable=ns.quiet or not sys.stderr.isatty(), transient=True) as progress:
        task = progress.add_task("produce", total=ns.count)
        summary = produce(
            ns.url,
            ns.stream,
            api_key,
            make_event,
            ns.count,
            batch=ns.batch,
            rate=ns.rate,
            seed=ns.seed,
            concurrency=ns.concurrency,
            on_batch=lambda n: progress.advance(task, n),
        )
    rate = summary.accepted / summary.seconds if summary.seconds else 0.0
    print(
        f"{ns.stream}: {summary.accepted} accepted, {summary.rejected} rejected, {summary.failed} failed "
        f"of {ns.count} event(s) in {summary.requests} request(s), {summary.retries} retried; "
        f"{summary.seconds:.1f}s, {rate:.0f} events/s, p50 {summary.percentile(0.5) * 1000:.0f} ms, "
        f"p99 {summary.percentile(0.99) * 1000:.0f} ms"
    )
    for reason in summary.reasons:
        print(f"  {reason}")
    return 0 if summary.accepted == ns.count else 1


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value

    return parse


def add_parsers(sub, common) -> None:
    serve = sub.add_parser("serve", help="the event ingest service: POST /v1/streams/STREAM/records")
    serve.add_argument("--host", help="address to listen on (default: serve.host in the conf, else 127.0.0.1)")
    serve.add_argument("--port", type=int, help=f"port (default: serve.port in the conf, else {DEFAULT_PORT})")
    serve.add_argument("--sink", choices=["file", "kinesis"], help="where events go (default: serve.sink in the conf)")
    serve.add_argument("--log-level", default="warning", help="uvicorn's log level (default warning)")
    common(serve)
    serve.set_defaults(func=cmd_serve)

    produce = sub.add_parser("produce", help="post test events of a stream to the ingest service")
    produce.add_argument("stream", help="the stream, e.g. one declared in catalog/streams/")
    produce.add_argument("--url", required=True, help="the service, e.g. http://127.0.0.1:8080")
    produce.add_argument("--api-key", help="x-api-key (default: $LAKE_API_KEY)")
    produce.add_argument("--count", type=_positive(int), default=100, help="events to send (default 100)")
    produce.add_argument("--rate", type=_positive(float), help="events a second at most (default: no limit)")
    produce.add_argument("--batch", type=_positive(int), default=100, help="events a request (default 100)")
    produce.add_argument("--seed", type=int, help="the same events every run")
    produce.add_argument("--concurrency", type=_positive(int), default=1, help="requests at once (default 1)")
    produce.add_argument("--quiet", action="store_true", help="no progress bar")
    produce.set_defaults(func=cmd_produce)
