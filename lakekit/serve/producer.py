"""Producers for the ingest API: batches of events posted at a rate, 429s, 503s and network errors retried."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
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
    refused: list[tuple[Any, str]] = field(default_factory=list)  # (label, reason) of each refused labelled event
    failures: list[tuple[Any, str]] = field(default_factory=list)  # (label, reason) of labelled events not stored

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


RETRIED = frozenset({429, 503})  # the service is busy: wait (Retry-After when it says) and send again


def post(client: httpx.Client, url: str, api_key: str, events: list[Any], attempts: int, summary: Summary, lock):
    """POST one batch: (status, answer, seconds of the answered request); status None when no answer came.

    429 and 503 (after Retry-After) and connection errors are retried up to `attempts` tries; other answers
    are final.
    """
    delay = 0.2
    for attempt in range(1, attempts + 1):
        started = time.monotonic()
        try:
            response = client.post(url, json={"records": events}, headers={"x-api-key": api_key})
        except httpx.TransportError as error:
            status, answer, retry_after = None, str(error), delay
        else:
            status, retry_after = response.status_code, _seconds(response.headers.get("retry-after"), delay)
            answer = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        elapsed = time.monotonic() - started
        if (status is None or status in RETRIED) and attempt < attempts:
            with lock:
                summary.retries += 1
            time.sleep(min(retry_after, 10))
            delay *= 2
            continue
        return status, answer, elapsed
    raise AssertionError("unreachable")  # the last attempt always returns


def _seconds(text: str | None, default: float) -> float:
    try:
        return float(text) if text is not None else default
    except ValueError:  # an HTTP date: wait the default
        return default


def post_batch(
    client: httpx.Client, url: str, api_key: str, events: list[Any], attempts: int, summary: Summary, lock
) -> None:
    """POST one batch and count its answer in `summary` (a 400 rejects the whole batch: nothing is stored)."""
    status, answer, elapsed = post(client, url, api_key, events, attempts, summary, lock)
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
                summary.reasons.append(f"HTTP {status}: {_detail(answer)}")


def _detail(answer: Any) -> Any:
    return answer.get("error") if isinstance(answer, dict) else answer


def post_labelled(
    client: httpx.Client,
    url: str,
    api_key: str,
    batch: list[tuple[Any, Any]],
    attempts: int,
    summary: Summary,
    lock,
) -> None:
    """POST (label, event) pairs; the events the service refuses are set aside by label and the rest sent again.

    The service stores nothing of a request with a refused event (400, one reason per event): the others
    are posted again without them, so one bad event costs only itself. Refusals land in
    `summary.refused` as (label, reason), other failures in `summary.failures` as (label, reason).
    """
    pending = list(batch)
    with lock:
        summary.sent += len(pending)
    while pending:
        status, answer, elapsed = post(client, url, api_key, [event for _, event in pending], attempts, summary, lock)
        rejected = answer.get("rejected") if status == 400 and isinstance(answer, dict) else None
        with lock:
            summary.requests += 1
            if status == 200:
                summary.accepted += answer["accepted"]
                summary.record_ids += answer["record_ids"]
                summary.latencies.append(elapsed)
                return
            if not rejected:  # 401, 404, 413, a 400 of the whole body, retries exhausted: every event failed
                summary.failed += len(pending)
                reason = f"HTTP {status}: {_detail(answer)}" if status else f"no answer: {answer}"
                summary.failures += [(label, reason) for label, _ in pending]
                return
            refused = {item["index"]: item["reason"] for item in rejected if 0 <= item.get("index", -1) < len(pending)}
            if not refused:  # reasons that name no event of the request: nothing to set aside, nothing stored
                summary.failed += len(pending)
                summary.failures += [(label, f"HTTP 400: {_detail(answer)}") for label, _ in pending]
                return
            summary.rejected += len(refused)
            summary.refused += [(pending[index][0], reason) for index, reason in sorted(refused.items())]
        pending = [pair for index, pair in enumerate(pending) if index not in refused]


def produce_labelled(
    url: str,
    stream: str,
    api_key: str,
    batches: Iterable[list[tuple[Any, Any]]],
    rate: float | None = None,
    concurrency: int = 1,
    attempts: int = 5,
    on_batch: Callable[[int], None] | None = None,
) -> Summary:
    """Post batches of (label, event) pairs (a file's events by line), `concurrency` requests at once."""
    return _post_all(url, stream, api_key, batches, post_labelled, rate, concurrency, attempts, on_batch)


def _post_all(
    url: str,
    stream: str,
    api_key: str,
    batches: Iterable[Any],
    post: Callable[..., None],
    rate: float | None,
    concurrency: int,
    attempts: int,
    on_batch: Callable[[int], None] | None,
) -> Summary:
    """Send every batch with `post` (post_batch or post_labelled) from `concurrency` threads at most `rate`
    events a second, over one HTTP client; batches are made as they are sent (bounded memory)."""
    summary, lock, pacer = Summary(), threading.Lock(), Pacer(rate)
    target = endpoint(url, stream)
    started = time.monotonic()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(timeout=30, limits=limits) as client:

        def send(batch: list[Any]) -> None:
            pacer.wait(len(batch))
            post(client, target, api_key, batch, attempts, summary, lock)
            if on_batch:
                on_batch(len(batch))

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            pending = []
            for batch in batches:
                pending.append(pool.submit(send, batch))
                if len(pending) >= concurrency * 2:
                    pending.pop(0).result()
            for future in pending:
                future.result()
    summary.seconds = time.monotonic() - started
    return summary


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
    # A seed gives the same events every run.
    events = batches(make_event, count, batch, seed)
    return _post_all(url, stream, api_key, events, post_batch, rate, concurrency, attempts, on_batch)
