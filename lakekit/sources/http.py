"""HTTP APIs as a source: GET with retries, replay of recorded responses, and landing of responses as files."""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakekit.core.failpoints import failpoint
from lakekit.core.storage import storage_for

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

USER_AGENT = "lakekit/0.1 (+lakekit.sources.http)"
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


# ------------------------------------------------------------------------------------------ search paging
# Search APIs shaped like OpenSearch: {"hits": {"total": N or {"value": N, ...}, "hits": [{..., "sort": [...]}]}}.
MAX_OFFSET = 10_000  # deep paging by offset stops here (index.max_result_window); search_after does not


def parse_search_page(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(the page, None) when the body is a JSON search response with a hits.hits list, else (None, why not)."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"not JSON: {error}"
    hits = document.get("hits") if isinstance(document, dict) else None
    if not isinstance(hits, dict) or not isinstance(hits.get("hits"), list):
        return None, "no hits.hits"
    return document, None


def search_total(document: dict[str, Any]) -> int | None:
    """hits.total of a search response: a plain int or {"value": N, "relation": ...}; None when absent."""
    total = document["hits"].get("total")
    if isinstance(total, dict):
        total = total.get("value")
    return total if isinstance(total, int) and not isinstance(total, bool) else None


@dataclass(frozen=True)
class SearchPage:
    """One page of a search: the response, and either its hits or the reason it is not a search page."""

    response: Response
    document: dict[str, Any] | None
    problem: str | None
    total: int | None
    hits: int
    cursor: str | None  # the search_after value that asks for the page after this one


def search_after_pages(
    fetch: Callable[[dict[str, object]], Response],
    params: dict[str, object],
    size: int,
    cursor: str | None = None,
    fetched: int = 0,
    size_param: str = "size",
    offset_param: str = "from",
    cursor_param: str = "search_after",
    join_sort: Callable[[list[Any]], str] = lambda values: "_".join(str(v) for v in values),
) -> Iterator[SearchPage]:
    """The pages of one search query, each asked after the last hit's `sort` values of the page before.

    The offset stays 0 (never near MAX_OFFSET): search_after alone moves on, so a query of any size is
    paged through. Starts after `cursor` when a walk is resumed, `fetched` hits already counted.
    Stops after a page that brings the count to hits.total, a short or empty page, or a page that is
    not a search response (yielded with its problem; the caller quarantines it).
    """
    while True:
        asked = {**params, size_param: size, offset_param: 0, cursor_param: cursor}
        response = fetch(asked)
        document, problem = parse_search_page(response.body)
        if document is None:
            yield SearchPage(response, None, problem, None, 0, None)
            return
        hits = document["hits"]["hits"]
        total = search_total(document)
        last_sort = hits[-1].get("sort") if hits and isinstance(hits[-1], dict) else None
        cursor = join_sort(last_sort) if isinstance(last_sort, list) and last_sort else None
        fetched += len(hits)
        yield SearchPage(response, document, None, total, len(hits), cursor)
        if len(hits) < size or cursor is None or (total is not None and fetched >= total):
            return


# ------------------------------------------------------------------------------------------------ landing
# A landed response is named after its fetch time (UTC), the run and the request:
# landing/<source>/p_date=YYYY-MM-DD/20261120T060000.123456Z-1a2b3c4d-001.json
LANDING_ID = r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{6})Z-[0-9a-f]+-\d+$"


def landing_name(response: Response, run_id: str, number: int) -> str:
    return f"{response.fetched_at:%Y%m%dT%H%M%S.%f}Z-{run_id}-{number:03d}.json"


@dataclass
class Landing:
    """What one run of fetches left: the files landed, how many responses were quarantined, what stopped it."""

    landed: list[str]
    quarantined: int
    failure: FetchError | None  # the error that stopped the fetching; what landed before it is kept


def land_responses(
    run,
    source: str,
    p_date: str,
    requests: int,
    fetch: Callable[[int], Response],
    parse: Callable[[bytes], tuple[dict[str, Any] | None, str | None]],
    redact: Callable[[str], str] = lambda text: text,
) -> Landing:
    """Fetch responses 1..`requests`; land each under landing/<source>/p_date=…/ or quarantine it.

    `parse` turns a body into the document to land (the source's own clean-up done, e.g. secrets
    removed) or gives the reason it cannot be landed; such a body goes to quarantine/<job>/p_date=…/
    with its text (passed through `redact`), URL, status and fetch time.
    """
    run_id = uuid.uuid4().hex[:8]
    landing = Landing([], 0, None)
    for number in range(1, requests + 1):
        try:
            response = fetch(number)
        except FetchError as error:
            landing.failure = error
            return landing
        name = landing_name(response, run_id, number)
        document, problem = parse(response.body)
        if document is not None:
            landing.landed.append(land_document(run, source, p_date, name, document))
            failpoint("landing.after_write", source)
            continue
        landing.quarantined += 1
        path = quarantine_response(run, p_date, name, response, problem, redact)
        failpoint("landing.after_quarantine", source)
        run.say(f"request {number}: {problem}; response quarantined to {path}")
    return landing


def land_document(run, source: str, p_date: str, name: str, document: dict[str, Any]) -> str:
    """Write a response's document to landing/<source>/p_date=…/<name>; returns its path."""
    path = run.settings.path("landing", source, f"p_date={p_date}", name)
    storage_for(run.settings.lake_root).write_text(path, json.dumps(document, ensure_ascii=False) + "\n")
    return path


def quarantine_response(
    run, p_date: str, name: str, response: Response, problem: str | None, redact: Callable[[str], str] = lambda t: t
) -> str:
    """Write a response that cannot be landed to quarantine/<job>/p_date=…/<name>: text, URL, status, reason."""
    record = {
        "text": redact(response.body.decode("utf-8", errors="replace")),
        "url": response.url,
        "status": response.status,
        "fetched_at": response.fetched_at.isoformat(),
        "reason": problem,
    }
    path = run.settings.path("quarantine", run.state_name, f"p_date={p_date}", name)
    storage_for(run.settings.lake_root).write_text(path, json.dumps(record, ensure_ascii=False) + "\n")
    return path


def landing_files(settings, source: str) -> dict[str, str]:
    """Every landed response of `source`: {p_date=…/name.json (its key in a bookmark): full path}."""
    storage = storage_for(settings.lake_root)
    found = {}
    for folder in storage.list_dirs(settings.path("landing", source)):
        if not folder.rsplit("/", 1)[-1].startswith("p_date="):
            continue
        for path in storage.list_files(folder):
            name = path.rsplit("/", 1)[-1]
            if name.endswith(".json") and re.match(LANDING_ID, name[: -len(".json")]):
                found["/".join(path.rsplit("/", 2)[-2:])] = path
    return found


def read_landed(spark, paths: list[str], schema) -> DataFrame:
    """Landed JSON responses read with `schema`, each with its fetch time, file and landing id."""
    from pyspark.sql import functions as F

    responses_df = spark.read.schema(schema).option("multiLine", "true").json(paths)
    source_file = F.regexp_extract(F.input_file_name(), r".*/(landing/.*)$", 1)
    landing_id = F.regexp_extract(source_file, r"([^/]+)\.json$", 1)
    fetched_at = F.regexp_replace(landing_id, LANDING_ID, "$1-$2-$3T$4:$5:$6.$7Z")
    return responses_df.select(
        "*",
        fetched_at.cast("timestamp").alias("_fetched_at"),
        source_file.alias("_source_file"),
        landing_id.alias("_landing_id"),
    )


def load_landed(run, table, source: str, read: Callable[[list[str]], DataFrame]) -> dict[str, dict[str, Any]]:
    """Append every landed file of `source` not in the job's bookmark to the raw `table`, then advance it.

    `read` turns landing paths into the table's rows (with `_landing_id`); each file is published once
    (sinks.parquet.append_by_source_file). Rows that also carry `_text` and an `_error` go to
    quarantine instead (quarantine_records). Returns {landing key: {"rows": n, "quarantined": m}}
    of what this run appended.
    """
    from pyspark.sql import functions as F

    from lakekit.catalog.metastore import register
    from lakekit.sinks.parquet import append_by_source_file

    loaded = dict(run.position().get("files", {}))
    pending = {k: v for k, v in landing_files(run.settings, source).items() if k not in loaded}
    if not pending:
        return {}
    register(run, table)
    rows_df = read(sorted(pending.values())).withColumn("_ingested_at", F.lit(datetime.now(UTC)).cast("timestamp"))
    quarantined: dict[str, int] = {}
    checked_df = rows_df.persist() if "_error" in rows_df.columns else None
    try:
        if checked_df is not None:
            # Read once: the few bad rows are collected, the good ones written from the same cache.
            quarantined = quarantine_records(run, table, checked_df, pending)
            rows_df = checked_df.filter(F.col("_error").isNull())
        committed = append_by_source_file(run, table, rows_df, pending)
    finally:
        if checked_df is not None:
            checked_df.unpersist()
    for key in committed:
        committed[key]["quarantined"] = quarantined.get(key, 0)
    loaded.update(committed)
    run.advance({"files": loaded})
    return committed


def records_quarantine(settings, job: str, key: str) -> str:
    """Where the records of landing file `key` (p_date=…/<landing id>.json) that could not be loaded go."""
    p_date_folder, name = key.split("/")
    return settings.path("quarantine", job, p_date_folder, f"{name.rsplit('.', 1)[0]}.records.jsonl")


def quarantine_records(run, table, rows_df: DataFrame, pending: dict[str, str]) -> dict[str, int]:
    """Write rows with an `_error` to quarantine/<job>/p_date=…/<landing id>.records.jsonl (one per landing file).

    Each line: the record's `text`, its place (the table's primary key: `source_file` and the record's
    position) and the `reason`. Written again whole on a rerun (a landing file without bad records has
    its stale file removed), so it holds each bad record once. Returns {landing key: records quarantined}.
    """
    from pyspark.sql import functions as F

    place = [c for c in table.primary_key if c != "_landing_id"]
    bad_df = rows_df.filter(F.col("_error").isNotNull()).select("_landing_id", "_text", *place, "_error")
    by_landing: dict[str, list[dict[str, Any]]] = {}
    for row in bad_df.collect():
        record = {"text": row["_text"], **{c.lstrip("_"): row[c] for c in place}, "reason": row["_error"]}
        by_landing.setdefault(row["_landing_id"], []).append(record)
    storage = storage_for(run.settings.lake_root)
    counts = {}
    for key in sorted(pending):
        target = records_quarantine(run.settings, run.state_name, key)
        records = by_landing.get(key.split("/")[1].rsplit(".", 1)[0], [])
        records.sort(key=lambda r: tuple(r[c.lstrip("_")] for c in place))
        counts[key] = len(records)
        if records:
            storage.write_text(target, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        elif storage.exists(target):
            storage.delete(target)
    return counts
