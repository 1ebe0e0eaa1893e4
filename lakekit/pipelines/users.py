"""The user-data pipeline's jobs: randomuser API -> landing -> raw.users, and raw.users by day -> curated tables."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import Field
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakekit.catalog.model import TableDef, load_table
from lakekit.core.failpoints import failpoint
from lakekit.core.job import JobError, JobRun, flag
from lakekit.core.options import Option
from lakekit.core.registry import Job, Pipeline, Step
from lakekit.core.settings import PipelineSettings, resolve_settings
from lakekit.core.state import StateStore
from lakekit.sinks.delta import replace_partitions
from lakekit.sources.http import (
    Response,
    RetryPolicy,
    get,
    land_responses,
    load_landed,
    read_landed,
    recorded,
)
from lakekit.tables import TableHandle
from transforms.users import build_user_locations, build_users, explode_user_records

SOURCE = "randomuser"  # landing/randomuser/
INGEST_JOB = "ingest_users"
RAW_TABLE = "raw.users"
CURATED_TABLES = {"curated.users": build_users, "curated.user_locations": build_user_locations}


class UsersSettings(PipelineSettings):
    """The ingestion's settings: sources.users in conf, each overridden by the job argument of its name."""

    section = "users"
    url: str | None = None  # the API's; conf/base.yaml sets it
    results: int = Field(50, ge=1)
    requests: int = Field(1, ge=1)
    seed: str | None = Field(None, coerce_numbers_to_str=True)  # `seed: 7` in conf is the text "7"
    timeout_seconds: float = Field(30, ge=0)
    attempts: int = Field(5, ge=1)
    backoff_seconds: float = Field(1, ge=0)


# Job arguments; a default of None means: the setting in conf (sources.users), else UsersSettings' default.
_CONF = "default: sources.users in conf"
INGEST_OPTIONS: dict[str, Option] = {
    "url": Option(None, f"the API's URL, or file:// of recorded responses ({_CONF})"),
    "results": Option(None, f"users per request ({_CONF})", "integer", minimum=1),
    "requests": Option(None, f"requests per run ({_CONF})", "integer", minimum=1),
    "seed": Option(None, "the API's seed: pages 1..K of one reproducible population"),
    "p_date": Option(None, "ingestion date of the landed files (default: today, UTC)", "date"),
    "timeout_seconds": Option(None, f"per try ({_CONF})", "number", minimum=0),
    "attempts": Option(None, f"tries per request ({_CONF})", "integer", minimum=1),
    "backoff_seconds": Option(None, f"wait before the 2nd try, doubled after ({_CONF})", "number", minimum=0),
}
DAILY_OPTIONS: dict[str, Option] = {
    "date": Option(
        None,
        "the p_date to process (default: yesterday, UTC; ingested: the last ingestion's)",
        "date",
        ("yesterday", "ingested"),
    ),
    "catch_up": Option("false", "every complete day not yet processed, or whose raw files changed", "boolean"),
}

CREDENTIAL_FIELDS = ("password", "salt", "md5", "sha1", "sha256")
# In a body that cannot be parsed (a truncated response, say), credential values are blanked by pattern.
_CREDENTIAL_KEYS = "|".join(CREDENTIAL_FIELDS)
_CREDENTIAL_TEXT = re.compile(rf'("(?:{_CREDENTIAL_KEYS})"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}}\]\s]*)')


# ---------------------------------------------------------------------------------------------- ingestion


def without_credentials(document: dict[str, Any]) -> dict[str, Any]:
    """The response with login.password, salt, md5, sha1 and sha256 removed from every record."""
    cleaned = dict(document)
    records = []
    for record in document.get("results") or []:
        if isinstance(record, dict) and isinstance(record.get("login"), dict):
            login = {k: v for k, v in record["login"].items() if k not in CREDENTIAL_FIELDS}
            record = {**record, "login": login}
        records.append(record)
    if "results" in document:
        cleaned["results"] = records
    return cleaned


def redact_credentials(text: str) -> str:
    return _CREDENTIAL_TEXT.sub(r'\1"[removed]"', text)


def parse_response(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(the response without credentials, None) when it is a randomuser response, else (None, why not)."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"not JSON: {error}"
    if not isinstance(document, dict) or "results" not in document:
        detail = f" (error: {document['error']})" if isinstance(document, dict) and "error" in document else ""
        return None, f"no results{detail}"
    results = document["results"]
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        return None, "results is not a list of records"
    cleaned = without_credentials(document)
    try:  # JSON may escape half a surrogate pair ("\ud800"): no UTF-8 file can hold it, nor Spark read it back
        json.dumps(cleaned, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        return None, f"not Unicode text: {error.object[error.start : error.end]!a} is half a surrogate pair"
    return cleaned, None


@dataclass(frozen=True)
class IngestRequest:
    url: str
    results: int
    requests: int
    seed: str | None
    p_date: str
    policy: RetryPolicy

    def params(self, number: int) -> dict[str, object]:
        # With a seed the API pages through one reproducible population; without, every request is a new draw.
        return {"results": self.results, "seed": self.seed, "page": number if self.seed else None}


def _iso_date(value: str, argument: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise JobError(f"--{argument} must be a date YYYY-MM-DD, got {value!r}") from None


def ingest_request(run: JobRun) -> IngestRequest:
    """The run's request: job arguments, else sources.users in conf, else UsersSettings' defaults."""
    settings = resolve_settings(UsersSettings, run.settings, run.args)
    if not settings.url:
        raise JobError(f"no URL for {SOURCE}: set sources.users.url in conf/{run.settings.env}.yaml or --url")
    p_date = run.args.get("p_date")
    return IngestRequest(
        url=settings.url,
        results=settings.results,
        requests=settings.requests,
        seed=settings.seed,
        p_date=_iso_date(p_date, "p_date") if p_date else datetime.now(UTC).date().isoformat(),
        policy=RetryPolicy(
            timeout_seconds=settings.timeout_seconds,
            attempts=settings.attempts,
            backoff_seconds=settings.backoff_seconds,
        ),
    )


def _fetch(request: IngestRequest, number: int) -> Response:
    if request.url.startswith("file:"):
        return recorded(request.url, number)
    return get(request.url, request.params(number), request.policy)


def read_landed_records(spark, table: TableDef, paths: list[str]) -> DataFrame:
    """The records of these landed responses, typed as `table`, with their fetch time, file and landing id."""
    # Each record as its JSON text, decoded and checked in Spark: a JSON reader given the typed shape would
    # read a value of the wrong type ("name": "Bob", "age": "old") as null without a word.
    landing_schema = T.StructType([T.StructField("results", T.ArrayType(T.StringType()))])
    responses_df = read_landed(spark, paths, landing_schema)
    return explode_user_records(responses_df, table.record_schema)


def run_ingest_users(run: JobRun) -> None:
    """Fetch from the API into landing/randomuser/p_date=…/, then load every landed file not yet in raw.users."""
    request = ingest_request(run)
    landing = land_responses(
        run,
        SOURCE,
        request.p_date,
        request.requests,
        lambda number: _fetch(request, number),
        parse_response,
        redact_credentials,
    )
    landed, quarantined, failure = landing.landed, landing.quarantined, landing.failure
    run.say(
        f"{len(landed)} response(s) landed under {run.settings.path('landing', SOURCE, f'p_date={request.p_date}')}"
        + (f", {quarantined} quarantined under {run.settings.path('quarantine', run.name)}" if quarantined else "")
    )
    # Which day this run landed: the users workflow's daily step (--date ingested) processes that day.
    ingested = {"p_date": request.p_date, "landed": len(landed), "quarantined": quarantined}
    StateStore(run.settings, "ingested").save(run.name, {**ingested, "at": datetime.now(UTC).isoformat()})
    failpoint("users.after_ingested_date")
    table = load_table(RAW_TABLE)
    committed = load_landed(run, table, SOURCE, lambda paths: read_landed_records(run.spark, table, paths))
    if committed:
        bad = sum(c.get("quarantined", 0) for c in committed.values())
        run.say(
            f"{sum(c['rows'] for c in committed.values())} record(s) from {len(committed)} landing file(s) "
            f"appended to {table.qualified_name}"
            + (f"; {bad} record(s) quarantined under {run.settings.path('quarantine', run.name)}" if bad else "")
        )
    if failure is not None:
        raise JobError(f"{failure}; {len(landed)} response(s) landed before it were loaded") from None


# ------------------------------------------------------------------------------------------- daily curated


def raw_days(raw: TableHandle) -> dict[str, list[str]]:
    """{p_date: the Parquet file names in that partition of raw.users}."""
    return {day: [p.rsplit("/", 1)[-1] for p in paths] for day, paths in raw.raw_files().items()}


def fingerprint(files: list[str]) -> str:
    """What a day of raw.users held when it was processed (raw files are named after their landing file)."""
    return hashlib.sha1("\n".join(sorted(files)).encode()).hexdigest()[:16]


def read_raw_days(raw: TableHandle, days: list[str]) -> DataFrame:
    """raw.users rows of these p_dates: the filter on the partition column prunes every other partition's files."""
    return raw.read().filter(F.col("p_date").isin([date.fromisoformat(d) for d in days]))


def days_to_process(run: JobRun, available: dict[str, list[str]]) -> list[str]:
    """catch_up: every complete day (before today, UTC) new or changed since processed; else the one day asked."""
    today = datetime.now(UTC).date()
    if flag(run.args.get("catch_up")):
        if run.args.get("date"):
            run.say(f"catch_up=true: --date {run.args['date']} ignored")
        done = run.position().get("days", {})
        complete = [d for d in sorted(available) if date.fromisoformat(d) < today]
        return [d for d in complete if done.get(d) != fingerprint(available[d])]
    asked = run.args.get("date") or "yesterday"
    if asked == "yesterday":
        return [(today - timedelta(days=1)).isoformat()]
    if asked == "ingested":
        ingested = StateStore(run.settings, "ingested").load(INGEST_JOB).get("p_date")
        if not ingested:
            raise JobError(f"--date ingested: {INGEST_JOB} has not run on {run.settings.lake_root}")
        return [ingested]
    return [_iso_date(asked, "date")]


CURATED_JOB = "curated_users"


def run_curated_users(run: JobRun) -> None:
    """curated.users and curated.user_locations for the day(s) asked, from those raw.users partitions only."""
    raw = TableHandle(run, RAW_TABLE)
    available = raw_days(raw)
    days = days_to_process(run, available)
    missing = [d for d in days if d not in available]
    for day in missing:
        run.say(f"{raw.name} has no partition p_date={day}: nothing to process for it")
    days = [d for d in days if d in available]
    if not days:
        run.say("no day to process")
        return
    records_df = read_raw_days(raw, days).persist()
    try:
        counts = records_df.agg(
            F.count(F.lit(1)).alias("records"), F.count_if(F.col("login.uuid").isNull()).alias("unkeyed")
        ).first()
        run.say(
            f"p_date {', '.join(days)}: {counts['records']} record(s) from {sum(len(available[d]) for d in days)} "
            f"file(s) of {raw.name}"
            + (f"; {counts['unkeyed']} without login.uuid skipped" if counts["unkeyed"] else "")
        )
        for name, build in CURATED_TABLES.items():
            table = TableHandle(run, name).register()
            replace_partitions(run.spark, table.table, run.settings.lake_root, build(records_df), "p_date", days)
            run.say(f"{name}: p_date {', '.join(days)} replaced")
    finally:
        records_df.unpersist()
    done = dict(run.bookmarks.position(run.state_name).get("days", {}))
    done.update({d: fingerprint(available[d]) for d in days})
    run.advance({"days": done})


PIPELINE = Pipeline(
    name="users",
    jobs=(
        Job(
            INGEST_JOB,
            run_ingest_users,
            INGEST_OPTIONS,
            "randomuser API -> landing/randomuser/ -> raw.users",
            reads=(f"landing/{SOURCE}",),
            writes=(f"landing/{SOURCE}", RAW_TABLE),
        ),
        Job(
            CURATED_JOB,
            run_curated_users,
            DAILY_OPTIONS,
            "raw.users by day -> curated.users, curated.user_locations",
            reads=(RAW_TABLE, f"_state/ingested/{INGEST_JOB}.json"),
            writes=tuple(CURATED_TABLES),
            # Its bookmark, lock and staging keep the name it had (users_daily): a lake goes on where it was.
            state_name="users_daily",
        ),
    ),
    # The daily transform runs for the day the ingestion just landed (whatever the clock says by then).
    workflows={"users": (Step(INGEST_JOB), Step(CURATED_JOB, {"date": "ingested"}))},
    # Named users_daily until the jobs' names said their layer (raw_*, ingest_*, curated_*, load_*).
    renamed={"users_daily": CURATED_JOB},
)
