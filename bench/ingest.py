"""`make bench-ingest`: `lake serve` on this machine under concurrent clients posting batches of 100 events.

Measures sustained events/s and per-request latency (p50/p99), then runs raw_events and checks that
every acknowledged event is in raw.orders_events (count in = count out, by record id). Appends the
result to bench/RESULTS.md with the machine.
Run: python -m bench.ingest [--events 100000] [--clients 8] [--batch 100]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.run import machine
from lakekit.pipelines.orders import make_order_event
from lakekit.serve.producer import produce

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
KEY = "bench-key"
TARGET_EPS, TARGET_P99_MS = 5000, 250


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_service(lake_root: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "LAKE_API_KEYS": KEY}
    argv = [str(BIN / "lake"), "serve", "--port", str(port), "--lake-root", str(lake_root)]
    process = subprocess.Popen(argv, env=env)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("lake serve did not start")


def raw_record_ids(lake_root: Path) -> list[str]:
    import duckdb

    files = str(lake_root / "raw" / "orders_events" / "*" / "*.parquet")
    return [row[0] for row in duckdb.sql(f"SELECT _record_id FROM read_parquet('{files}')").fetchall()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    ns = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        lake_root = Path(folder) / "lake"
        lake_root.mkdir()
        port = free_port()
        service = start_service(lake_root, port)
        try:
            produce(
                f"http://127.0.0.1:{port}", "orders", KEY, make_order_event, 2000, batch=ns.batch, seed=0
            )  # warm-up
            summary = produce(
                f"http://127.0.0.1:{port}",
                "orders",
                KEY,
                make_order_event,
                ns.events,
                batch=ns.batch,
                seed=1,
                concurrency=ns.clients,
            )
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(60)
        eps = summary.accepted / summary.seconds
        p50, p99 = summary.percentile(0.5) * 1000, summary.percentile(0.99) * 1000
        rate = f"{eps:.0f} events/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        print(f"{summary.accepted} accepted in {summary.seconds:.1f}s: {rate}")
        started = time.monotonic()
        subprocess.run(
            [str(BIN / "lake"), "job", "run", "raw_events", "--lake-root", str(lake_root), "--arg", "stream=orders"],
            check=True,
        )
        raw_seconds = time.monotonic() - started
        stored = raw_record_ids(lake_root)
    acknowledged = set(summary.record_ids)
    warm_up = len(stored) - len(set(stored) & acknowledged)
    complete = acknowledged <= set(stored) and len(stored) == len(set(stored))
    line = (
        f"bench-ingest: events={ns.events} clients={ns.clients} batch={ns.batch} accepted={summary.accepted} "
        f"eps={eps:.0f} p50_ms={p50:.1f} p99_ms={p99:.1f} raw_rows={len(stored)} (warm-up {warm_up}) "
        f"count_in_equals_out={complete} raw_events_s={raw_seconds:.1f}"
    )
    print(line)
    if not ns.no_record:
        rate_verdict = "met" if eps >= TARGET_EPS else "missed"
        latency_verdict = "met" if p99 < TARGET_P99_MS else "missed"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        load = os.getloadavg()
        (BENCH / "RESULTS.md").open("a").write(
            f"\n## Ingest, {stamp}: `make bench-ingest`\n\nMachine: {machine()}; load average at the end "
            f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (shared with other work while it ran)\n\n"
            "| measure | result |\n|---|---|\n"
            f"| events posted (batches of {ns.batch}, {ns.clients} concurrent clients) | {ns.events:,} |\n"
            f"| accepted (200) | {summary.accepted:,} in {summary.requests:,} requests, {summary.retries} retried |\n"
            f"| sustained rate | {eps:,.0f} events/s (target {TARGET_EPS:,}: {rate_verdict}) |\n"
            f"| request latency p50 / p99 | {p50:.0f} ms / {p99:.0f} ms "
            f"(target p99 < {TARGET_P99_MS} ms: {latency_verdict}) |\n"
            f"| rows in raw.orders_events after raw_events | {len(stored):,} ({warm_up:,} from the warm-up) |\n"
            f"| every acknowledged event in raw, once | {complete} |\n"
            f"| raw_events run (JVM start included) | {raw_seconds:.1f} s |\n\n"
            f"```\n{line}\n```\n"
        )
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
