"""The complaints pipeline: CFPB search API by date window -> landing -> raw -> curated.complaints -> DynamoDB."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from pydantic import Field
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakekit.catalog.model import TableDef, load_table
from lakekit.catalog.serving import load_serving_table
from lakekit.core.failpoints import failpoint
from lakekit.core.job import JobError, JobRun, flag
from lakekit.core.registry import Job, Pipeline, Step
from lakekit.core.settings import PipelineSettings, resolve_settings
from lakekit.core.state import PENDING, WindowLedger
from lakekit.core.state import Window as Days
from lakekit.core.storage import storage_for
from lakekit.sinks.dynamodb_feed import Feed, load_feed
from lakekit.sources.http import (
    MAX_OFFSET,
    FetchError,
    Response,
    RetryPolicy,
    get,
    land_document,
    landing_name,
    load_landed,
    quarantine_response,
    read_landed,
    recorded,
    search_after_pages,
)
from lakekit.tables import TableHandle
from transforms.complaints import (
    build_complaint_changes,
    build_complaint_rejects,
    build_complaints,
    explode_complaint_hits,
)

SOURCE = "cfpb"  # landing/cfpb/
INGEST_JOB, CURATED_JOB, LOAD_JOB = "ingest_complaints", "curated_complaints", "load_complaints_dynamodb"
RAW_TABLE, CURATED_TABLE = "raw.complaints", "curated.complaints"
# catalog/serving/: its keys; its DynamoDB table is the environment's (conf names:), or --dynamodb_table for one run.
SERVING_TABLE = "consumer_complaints"


class ComplaintsSettings(PipelineSettings):
    """The ingestion's settings: sources.complaints in conf, each overridden by the job argument of its name."""

    section = "complaints"
    url: str | None = None  # the API's; conf/base.yaml sets it
    start: date | None = None  # the first day fetched when the ledger has no done window (else --start)
    window_days: int = Field(30, ge=1)
    page_size: int = Field(1000, ge=1, le=MAX_OFFSET)
    timeout_seconds: float = Field(60, ge=0)
    attempts: int = Field(6, ge=1)
    backoff_seconds: float = Field(3, ge=0)


# Job arguments; None means: the setting in conf (sources.complaints), else ComplaintsSettings' default.
INGEST_OPTIONS: dict[str, str | None] = {
    "url": None,
    "start": None,
    "end": None,
    "window_days": None,
    "page_size": None,
    "refetch": "false",
    "timeout_seconds": None,
    "attempts": None,
    "backoff_seconds": None,
}
CURATED_OPTIONS: dict[str, str | None] = {}
LOAD_OPTIONS: dict[str, str | None] = {"dynamodb_table": None}
# The search: every complaint received in the window, oldest first (search_after needs a stable order).
SEARCH_PARAMS = {"sort": "created_date_asc", "no_aggs": "true", "no_highlight": "true"}


def _day(value: str, argument: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise JobError(f"--{argument} must be a date YYYY-MM-DD, got {value!r}") from None


# ---------------------------------------------------------------------------------------------- ingestion


@dataclass(frozen=True)
class IngestRequest:
    url: str
    start: date | None  # None: resume after the ledger's last done window (else `first`)
    end: date
    first: date | None  # conf's start: where a ledger with no done window begins
    window_days: int
    page_size: int
    refetch: bool
    policy: RetryPolicy


def ingest_request(run: JobRun) -> IngestRequest:
    """The run's request: job arguments, else sources.complaints in conf, else ComplaintsSettings' defaults."""
    settings = resolve_settings(ComplaintsSettings, run.settings, run.args)
    if not settings.url:
        raise JobError(
            f"no URL for {ComplaintsSettings.section}: set sources.complaints.url in conf/{run.settings.env}.yaml "
            "or --url"
        )
    start = run.args.get("start")  # given: fetch from there; else resume after the ledger's done windows
    end = run.args.get("end")
    return IngestRequest(
        url=settings.url,
        start=_day(start, "start") if start else None,
        end=_day(end, "end") if end else datetime.now(UTC).date() - timedelta(days=1),
        first=settings.start,
        window_days=settings.window_days,
        page_size=settings.page_size,
        refetch=flag(run.args.get("refetch")),
        policy=RetryPolicy(
            timeout_seconds=settings.timeout_seconds,
            attempts=settings.attempts,
            backoff_seconds=settings.backoff_seconds,
        ),
    )


def _fetcher(request: IngestRequest) -> Callable[[dict[str, object]], Response]:
    """GET the search with these parameters; a file:// URL replays recorded pages in order instead."""
    if request.url.startswith("file:"):
        numbers = itertools.count(1)
        return lambda params: recorded(request.url, next(numbers))
    return lambda params: get(request.url, params, request.policy)


@dataclass
class Fetching:
    """One ingestion run's fetching: where pages land and how many it has landed."""

    run: JobRun
    ledger: WindowLedger
    request: IngestRequest
    fetch: Callable[[dict[str, object]], Response]
    p_date: str
    run_id: str
    responses: int = 0
    landed: int = 0
    quarantined: int = 0
    failed: list[str] = field(default_factory=list)  # "window: why it stays pending"
    stopped: FetchError | None = None  # the request failure that ended the fetching

    def name(self, response: Response) -> str:
        self.responses += 1
        return landing_name(response, self.run_id, self.responses)


def fetch_window(fetching: Fetching, window: Days) -> tuple[Days, ...] | str | None:
    """Fetch every page of one window and land it; the window is done when the hits fetched equal hits.total.

    Returns the parts the window was split into (more than MAX_OFFSET hits over several days), or why it
    stays pending, or None when it is done. A walk that failed part-way resumes after its last landed page.
    Raises FetchError when a request fails for good (the window stays pending with its progress).
    """
    run, ledger = fetching.run, fetching.ledger
    progress = ledger.entry(window) if ledger.entry(window).get("state") == PENDING else {}
    cursor, fetched = progress.get("cursor"), progress.get("fetched", 0)
    params = {
        **SEARCH_PARAMS,
        "date_received_min": window.start.isoformat(),
        "date_received_max": window.end.isoformat(),
    }
    totals: list[int | None] = [progress["total"]] if cursor and "total" in progress else []
    first_fetch = progress.get("first_fetched_at")
    ledger.update(window, PENDING)
    failpoint("ledger.after_start", SOURCE)
    pages = search_after_pages(fetching.fetch, params, fetching.request.page_size, cursor, fetched, offset_param="frm")
    try:
        for page in pages:
            name = fetching.name(page.response)
            if page.problem is not None:
                fetching.quarantined += 1
                path = quarantine_response(run, fetching.p_date, name, page.response, page.problem)
                failpoint("landing.after_quarantine", SOURCE)  # quarantined, the ledger not yet told why
                reason = f"a page was quarantined ({page.problem}) to {path}"
                ledger.update(window, PENDING, error=reason)
                return reason
            if not totals and not cursor and page.total is not None and page.total > MAX_OFFSET and window.days > 1:
                parts = window.halves()
                ledger.split(window, parts)
                failpoint("ledger.after_split", SOURCE)
                run.say(
                    f"window {window.key}: {page.total} hits, over {MAX_OFFSET}: split into "
                    f"{parts[0].key} and {parts[1].key}"
                )
                return parts
            land_document(run, SOURCE, fetching.p_date, name, page.document)
            failpoint("landing.after_write", SOURCE)  # landed, the ledger's progress not yet recorded
            fetching.landed += 1
            fetched += page.hits
            totals.append(page.total)
            first_fetch = first_fetch or page.response.fetched_at.isoformat()
            ledger.update(
                window,
                PENDING,
                cursor=page.cursor,
                fetched=fetched,
                total=page.total,
                first_fetched_at=first_fetch,
                error=None,
            )
            failpoint("ledger.after_page", SOURCE)
    except FetchError as error:
        ledger.update(window, PENDING, error=str(error))
        raise
    distinct = sorted(set(totals), key=lambda t: -1 if t is None else t)
    if len(distinct) == 1 and distinct[0] == fetched:
        ledger.done(window, hits=fetched, fetched_at=first_fetch, first_fetched_at=None)
        failpoint("ledger.after_done", SOURCE)
        return None
    if None in distinct:
        reason = f"a page had no hits.total; paging returned {fetched} hit(s)"
    elif len(distinct) > 1:
        reason = f"hits.total changed while paging ({', '.join(map(str, distinct))}); paging returned {fetched}"
    else:
        reason = f"hits.total is {distinct[0]} but paging returned {fetched} hit(s)"
    # The next run walks the window again from its first page.
    ledger.update(window, PENDING, error=reason, cursor=None, fetched=None, total=None, first_fetched_at=None)
    return reason


def fetch_windows(run: JobRun, request: IngestRequest) -> Fetching:
    """Fetch the ledger's pending windows, then the new ones up to `request.end`, landing every page.

    Raises JobError naming the windows left pending (after the raw load, by the caller) — see run_ingest.
    """
    ledger = WindowLedger(run.settings, run.state_name)
    start = request.start or ledger.resume_date() or request.first
    if start is None:
        raise JobError("no first day to fetch: set sources.complaints.start in conf or --start")
    windows = ledger.plan(start, request.end, request.window_days, request.refetch)
    fetching = Fetching(
        run, ledger, request, _fetcher(request), datetime.now(UTC).date().isoformat(), uuid.uuid4().hex[:8]
    )
    pending = ledger.windows(PENDING)
    run.say(
        f"{len(windows)} window(s) to fetch ({len(pending)} pending from earlier runs), "
        f"date_received {start} to {request.end}" + (", refetching done windows" if request.refetch else "")
    )
    queue = list(windows)
    while queue:
        window = queue.pop(0)
        try:
            outcome = fetch_window(fetching, window)
        except FetchError as error:
            fetching.stopped = error
            fetching.failed.append(f"{window.key}: {error}")
            break
        if isinstance(outcome, tuple):
            queue[:0] = list(outcome)
        elif outcome is not None:
            fetching.failed.append(f"{window.key}: {outcome}")
            run.say(f"window {window.key} stays pending: {outcome}")
        else:
            run.say(f"window {window.key}: {ledger.entry(window)['hits']} hit(s)")
    return fetching


def read_landed_hits(spark, table: TableDef, paths: list[str]) -> DataFrame:
    """The hits of these landed pages, one row each, with their fetch time, file and landing id."""
    hit_schema = T.StructType([T.StructField("_source", table.record_schema)])
    landing_schema = T.StructType(
        [T.StructField("hits", T.StructType([T.StructField("hits", T.ArrayType(hit_schema))]))]
    )
    return explode_complaint_hits(read_landed(spark, paths, landing_schema), table.record_schema)


def load_raw(run: JobRun) -> None:
    """Append every landed page not yet in raw.complaints (exactly once per landing file)."""
    table = load_table(RAW_TABLE)
    committed = load_landed(run, table, SOURCE, lambda paths: read_landed_hits(run.spark, table, paths))
    if not committed:
        run.say(f"no new landed page for {table.qualified_name}")
        return
    run.say(
        f"{sum(c['rows'] for c in committed.values())} hit(s) from {len(committed)} page(s) "
        f"appended to {table.qualified_name}"
    )


def run_ingest_complaints(run: JobRun) -> None:
    """Fetch the windows due into landing/cfpb/p_date=…/, then load every landed page not yet in raw.complaints."""
    request = ingest_request(run)
    fetching = fetch_windows(run, request)
    run.say(
        f"{fetching.landed} page(s) landed under {run.settings.path('landing', SOURCE, f'p_date={fetching.p_date}')}"
        + (f", {fetching.quarantined} quarantined" if fetching.quarantined else "")
    )
    load_raw(run)
    if fetching.failed:
        stop = "stopped: " if fetching.stopped is not None else ""
        raise JobError(
            f"{stop}{len(fetching.failed)} window(s) left pending (fetched again first by the next run): "
            + "; ".join(fetching.failed)
        )


# ------------------------------------------------------------------------------------------------ curated


def raw_files(raw: TableHandle) -> dict[str, str]:
    """Every file of raw.complaints: {p_date=…/name.parquet: full path}."""
    return {"/".join(p.rsplit("/", 2)[-2:]): p for paths in raw.raw_files().values() for p in paths}


def quarantine_rejects(run: JobRun, rejects: list[dict]) -> int:
    """Hits that cannot be loaded, one JSON-lines file per landing file under quarantine/<job>/ (rewritten
    whole, so a rerun leaves one copy); returns how many."""
    storage = storage_for(run.settings.lake_root)
    by_source: dict[str, list[dict]] = {}
    for reject in rejects:
        by_source.setdefault(reject["source"], []).append(reject)
    for source, rows in sorted(by_source.items()):
        p_date_folder, name = source.rsplit("/", 2)[-2:]
        path = run.settings.path("quarantine", run.state_name, p_date_folder, name)
        lines = [json.dumps(r, ensure_ascii=False) for r in sorted(rows, key=lambda r: r["hit"])]
        storage.write_text(path, "\n".join(lines) + "\n")
        for row in rows:
            run.say(f"{source} hit {row['hit']}: {row['reason']}; quarantined to {path}")
    failpoint("curated.after_quarantine")
    return len(rejects)


def run_curated_complaints(run: JobRun) -> None:
    """curated.complaints from the raw.complaints files not yet applied: the latest fetch of each complaint."""
    raw = TableHandle(run, RAW_TABLE)
    applied = set(run.position().get("files", []))
    files = raw_files(raw)
    new = sorted(k for k in files if k not in applied)
    if not new:
        run.say(f"nothing new in {raw.name}")
        return
    raw_df = raw.read([files[k] for k in new]).persist()
    try:
        rejects = [r.asDict() for r in build_complaint_rejects(raw_df, raw.table.record_schema.fieldNames()).collect()]
        quarantined = quarantine_rejects(run, rejects)
        curated = TableHandle(run, CURATED_TABLE).register()
        # Computed once with its lineage cut: joined to the table below, the typing's nested expressions would
        # otherwise be inlined on both sides of the MERGE's joins, and the optimizer stalls expanding them.
        latest_df = build_complaints(raw_df).localCheckpoint()
        current_df = curated.current()
        if current_df is not None:
            current_df = current_df.join(latest_df.select("complaint_id"), "complaint_id", "left_semi")
        curated.write(current_df, latest_df, changes=build_complaint_changes)
    finally:
        raw_df.unpersist()
    if quarantined:
        run.say(f"{quarantined} hit(s) quarantined under {run.settings.path('quarantine', run.name)}")
    run.advance({"files": sorted(applied | set(new))})


# ----------------------------------------------------------------------------------------------- DynamoDB


def complaint_item() -> dict[str, F.Column]:
    """A complaint's DynamoDB item: every column, dates YYYY-MM-DD, fetched_at ISO 8601 UTC (the session's
    time zone is UTC)."""
    formatted = {
        "date_received": F.date_format("date_received", "yyyy-MM-dd"),
        "date_sent_to_company": F.date_format("date_sent_to_company", "yyyy-MM-dd"),
        "fetched_at": F.date_format("fetched_at", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"),
    }
    return {c: formatted.get(c, F.col(c)) for c in load_table(CURATED_TABLE).column_names}


def run_load_complaints_dynamodb(run: JobRun) -> None:
    """Write the complaints curated.complaints inserted or updated since the bookmark into the DynamoDB table.

    In order of complaint_id, 25 a request; the bookmark records the last item of each batch written,
    so a rerun after a crash rewrites at most the batch it was writing.
    """
    table = load_table(CURATED_TABLE)
    name = run.args.get("dynamodb_table") or run.settings.names.serving_table(SERVING_TABLE)
    feed = Feed(table, load_serving_table(SERVING_TABLE), complaint_item, name=name)
    result = load_feed(run, feed, dict(run.position()))
    if result.version is not None:
        run.say(
            f"{result.puts} complaint(s) written to DynamoDB table {feed.table_name} in {result.requests} request(s), "
            f"up to version {result.version} of {table.qualified_name}"
        )


PIPELINE = Pipeline(
    name="complaints",
    jobs=(
        Job(
            INGEST_JOB,
            run_ingest_complaints,
            INGEST_OPTIONS,
            "CFPB complaint search API by date window -> landing/cfpb/ -> raw.complaints",
            reads=(f"landing/{SOURCE}",),
            writes=(f"landing/{SOURCE}", RAW_TABLE),
        ),
        Job(
            CURATED_JOB,
            run_curated_complaints,
            CURATED_OPTIONS,
            "raw.complaints -> curated.complaints (MERGE)",
            reads=(RAW_TABLE,),
            writes=(CURATED_TABLE,),
        ),
        Job(
            LOAD_JOB,
            run_load_complaints_dynamodb,
            LOAD_OPTIONS,
            "curated.complaints change data feed -> the DynamoDB table",
            reads=(CURATED_TABLE,),
        ),
    ),
    workflows={"complaints": (Step(INGEST_JOB), Step(CURATED_JOB), Step(LOAD_JOB))},
)
