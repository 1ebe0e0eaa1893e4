"""A load generator for the ingest API: batches of events posted at a rate, 503s and network errors retried."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Summary:
    sent: int = 0  # events in requests that got a final answer
    accepted: int = 0
    rejected: int = 0  # events in requests answered 400 (with the reasons kept below)
    failed: int = 0  # events in requests that failed otherwise (401, 404, 413, retries exhausted)
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds per answered request
    reasons: list[str] = field(default_factory=list)  # the first few rejection reasons
    record_ids: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def endpoint(url: str, stream: str) -> str:
    """The records URL of `stream`: URL itself when it names a records path, else URL/v1/streams/STREAM/records."""
    if "/v1/streams/" in url:
        return url
    return f"{url.rstrip('/')}/v1/streams/{stream}/records"


def batches(make_event: Callable[[random.Random, int], Any], count: int, batch: int, seed: int | None) -> Iterator:
    rng = random.Random(seed)
    for start in range(0, count, batch):
        yield [make_event(rng, number) for number in range(start, min(count, start + batch))]


class Pacer:
    """At most `rate` events a second over the run (None: as fast as the server answers)."""

    def __init__(self, rate: float | None):
        self.rate = rate
        self.started = time.monotonic()
        self.released = 0
        self.lock = threading.Lock()

    def wait(self, events: int) -> None:
        if not self.rate:
            return
        with self.lock:
            due = self.started + self.released / self.rate
            self.released += events
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def post_batch(
    client: httpx.Client, url: str, api_key: str, events: list[Any], attempts: int, summary: Summary, lock
) -> None:
    """POST one batch; 503 (after Retry-After) and connection errors are retried, other answers are final."""
    delay = 0.2
    for attempt in range(1, attempts + 1):
        started = time.monotonic()
        try:
            response = client.post(url, json={"records": events}, headers={"x-api-key": api_key})
        except httpx.TransportError as error:
            status, answer, retry_after = None, str(error), delay
        else:
            status, retry_after = response.status_code, float(response.headers.get("retry-after", delay))
            answer = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        elapsed = time.monotonic() - started
        if (status is None or status == 503) and attempt < attempts:
            with lock:
                summary.retries += 1
            time.sleep(min(retry_after, 10))
            delay *= 2
            continue
        with lock:
            summary.requests += 1
            summary.sent += len(events)
            if status == 200:
                summary.accepted += answer["accepted"]
                summary.record_ids += answer["record_ids"]
                summary.latencies.append(elapsed)
            elif status == 400:
                summary.rejected += len(events)
                for item in (answer.get("rejected") or [])[:3]:
                    if len(summary.reasons) < 10:
                        summary.reasons.append(f"event {item['index']}: {item['reason']}")
            else:
                summary.failed += len(events)
                if len(summary.reasons) < 10:
                    detail = answer.get("error") if isinstance(answer, dict) else answer
                    summary.reasons.append(f"HTTP {status}: {detail}")
        return


def produce(
    url: str,
    stream: str,
    api_key: str,
    make_event: Callable[[random.Random, int], Any],
    count: int,
    batch: int = 100,
    rate: float | None = None,
    seed: int | None = None,
    concurrency: int = 1,
    attempts: int = 5,
    on_batch: Callable[[int], None] | None = None,
) -> Summary:
    """Post `count` events made by `make_event` in batches; returns what the server answered."""
    summary, lock, pacer = Summary(), threading.Lock(), Pacer(rate)
    target = endpoint(url, stream)
    started = time.monotonic()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(timeout=30, limits=limits) as client:

        def send(events: list[Any]) -> None:
            pacer.wait(len(events))
            post_batch(client, target, api_key, events, attempts, summary, lock)
            if on_batch:
                on_batch(len(events))

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            # Batches are made as they are sent (bounded memory); a seed gives the same events every run.
            pending = []
            for events in batches(make_event, count, batch, seed):
                pending.append(pool.submit(send, events))
                if len(pending) >= concurrency * 2:
                    pending.pop(0).result()
            for future in pending:
                future.result()
    summary.seconds = time.monotonic() - started
    return summary
