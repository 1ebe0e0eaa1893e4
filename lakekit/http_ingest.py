"""GET from an HTTP API with a timeout and exponential backoff; replay recorded responses from a file:// folder."""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

USER_AGENT = "campaign-lake/0.1 (+lakekit.http_ingest)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_WAIT_SECONDS = 60.0  # a Retry-After header is honoured up to this


class FetchError(RuntimeError):
    """A request failed for good: not retryable, or still failing after the last try. The message says why."""


@dataclass(frozen=True)
class RetryPolicy:
    timeout_seconds: float = 30.0
    attempts: int = 5
    backoff_seconds: float = 1.0  # wait before the 2nd try; doubled before each later one

    def wait(self, failed_tries: int, retry_after: float | None = None) -> float:
        wait = self.backoff_seconds * 2 ** (failed_tries - 1)
        if retry_after is not None:
            wait = max(wait, min(retry_after, MAX_WAIT_SECONDS))
        return wait


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    body: bytes
    fetched_at: datetime  # when the body was received, UTC


def with_params(url: str, params: dict[str, object]) -> str:
    """`url` with `params` added to its query string (None values left out)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query) + [(k, str(v)) for k, v in params.items() if v is not None]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = error.headers.get("Retry-After") if error.headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: the exponential wait applies
        return None


def get(
    url: str, params: dict[str, object], policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep
) -> Response:
    """GET url?params. HTTP 429 and 5xx, timeouts and connection errors are retried with exponential backoff.

    Any other HTTP error fails at once. Raises FetchError naming the URL, the number of tries and the
    last failure.
    """
    full_url = with_params(url, params)
    request = urllib.request.Request(full_url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    last_failure = "no try made"
    for attempt in range(1, max(1, policy.attempts) + 1):
        retry_after = None
        try:
            with urllib.request.urlopen(request, timeout=policy.timeout_seconds) as reply:
                body = reply.read()
                return Response(full_url, reply.status, body, datetime.now(UTC))
        except urllib.error.HTTPError as error:
            last_failure = f"HTTP {error.code} {error.reason}"
            if error.code not in RETRY_STATUSES:
                raise FetchError(f"GET {full_url} failed: {last_failure} (not retried)") from None
            retry_after = _retry_after(error)
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as error:
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            last_failure = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
        if attempt < policy.attempts:
            sleep(policy.wait(attempt, retry_after))
    raise FetchError(f"GET {full_url} failed after {policy.attempts} attempt(s); last: {last_failure}")


def recorded(url: str, number: int) -> Response:
    """Response `number` (from 1) of a recording: a file:// URL naming a folder of *.json bodies, in name order.

    Lets a run go without the network (the demo, tests): the folder stands for the API, each request
    reads the next file. A file:// URL naming one file answers every request with it.
    """
    path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
    if path.is_dir():
        bodies = sorted(p for p in path.iterdir() if p.suffix == ".json")
        if number > len(bodies):
            raise FetchError(f"{url} holds {len(bodies)} recorded response(s); request {number} has none")
        path = bodies[number - 1]
    elif not path.is_file():
        raise FetchError(f"{url}: no such file or folder of recorded responses")
    return Response(path.as_uri(), 200, path.read_bytes(), datetime.now(UTC))
