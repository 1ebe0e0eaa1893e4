"""The user-data pipeline's jobs: randomuser API -> landing -> raw.users, and raw.users by day -> curated tables."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakekit.bookmarks import StateStore
from lakekit.catalog import TableDef, add_partitions, load_table, register_table
from lakekit.http_ingest import FetchError, Response, RetryPolicy, get, recorded
from lakekit.job import JobError, JobRun, flag
from lakekit.raw_exports import publish_staged
from lakekit.storage import storage_for
from transforms.users import as_text_leaves, build_user_locations, build_users, explode_user_records

SOURCE = "randomuser"
INGEST_JOB = "ingest_users"
RAW_TABLE = "raw.users"
CURATED_TABLES = {"curated.users": build_users, "curated.user_locations": build_user_locations}

# Job arguments; None means: the source's setting in conf/<env>.yaml (sources.randomuser).
INGEST_OPTIONS: dict[str, str | None] = {
    "url": None,
    "results": None,
    "requests": None,
    "seed": None,
    "p_date": None,
    "timeout_seconds": None,
    "attempts": None,
    "backoff_seconds": None,
}
DAILY_OPTIONS: dict[str, str | None] = {"date": None, "catch_up": "false"}
_FALLBACKS = {"results": 50, "requests": 1, "timeout_seconds": 30, "attempts": 5, "backoff_seconds": 1}

CREDENTIAL_FIELDS = ("password", "salt", "md5", "sha1", "sha256")
# In a body that cannot be parsed (a truncated response, say), credential values are blanked by pattern.
_CREDENTIAL_KEYS = "|".join(CREDENTIAL_FIELDS)
_CREDENTIAL_TEXT = re.compile(rf'("(?:{_CREDENTIAL_KEYS})"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}}\]\s]*)')
# A landing file is named after the fetch time (UTC), the run and the request: 20261120T060000.123456Z-1a2b3c4d-001
_LANDING_ID = r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{6})Z-[0-9a-f]+-\d+$"


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
    return without_credentials(document), None


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
    """The run's request: job arguments, else sources.randomuser in conf/<env>.yaml."""
    conf = (run.settings.sources or {}).get(SOURCE) or {}

    def setting(key: str, kind=str):
        value = run.args.get(key)
        if value is None:
            value = conf.get(key, _FALLBACKS.get(key))
        try:
            return None if value is None else kind(value)
        except ValueError:
            raise JobError(f"--{key} must be a {kind.__name__}, got {value!r}") from None

    url = setting("url")
    if not url:
        raise JobError(f"no URL for {SOURCE}: set sources.{SOURCE}.url in conf/{run.settings.env}.yaml or --url")
    p_date = run.args.get("p_date")
    for key in ("results", "requests", "attempts"):
        if setting(key, int) < 1:
            raise JobError(f"--{key} must be at least 1")
    return IngestRequest(
        url=url,
        results=setting("results", int),
        requests=setting("requests", int),
        seed=setting("seed"),
        p_date=_iso_date(p_date, "p_date") if p_date else datetime.now(UTC).date().isoformat(),
        policy=RetryPolicy(
            timeout_seconds=setting("timeout_seconds", float),
            attempts=setting("attempts", int),
            backoff_seconds=setting("backoff_seconds", float),
        ),
    )


def _fetch(request: IngestRequest, number: int) -> Response:
    if request.url.startswith("file:"):
        return recorded(request.url, number)
    return get(request.url, request.params(number), request.policy)


def _landing_name(response: Response, run_id: str, number: int) -> str:
    return f"{response.fetched_at:%Y%m%dT%H%M%S.%f}Z-{run_id}-{number:03d}.json"


def land_responses(run: JobRun, request: IngestRequest) -> tuple[list[str], int, FetchError | None]:
    """Fetch `request.requests` responses; land each (credentials removed) or quarantine it.

    Returns the landed files, the number quarantined, and the error that stopped the fetching, if any
    (what landed before it is kept and loaded).
    """
    storage = storage_for(run.settings.lake_root)
    run_id = uuid.uuid4().hex[:8]
    landed: list[str] = []
    quarantined = 0
    for number in range(1, request.requests + 1):
        try:
            response = _fetch(request, number)
        except FetchError as error:
            return landed, quarantined, error
        name = _landing_name(response, run_id, number)
        document, problem = parse_response(response.body)
        if document is not None:
            path = run.settings.path("landing", SOURCE, f"p_date={request.p_date}", name)
            storage.write_text(path, json.dumps(document, ensure_ascii=False) + "\n")
            landed.append(path)
            continue
        quarantined += 1
        record = {
            "text": redact_credentials(response.body.decode("utf-8", errors="replace")),
            "url": response.url,
            "status": response.status,
            "fetched_at": response.fetched_at.isoformat(),
            "reason": problem,
        }
        path = run.settings.path("quarantine", run.name, f"p_date={request.p_date}", name)
        storage.write_text(path, json.dumps(record, ensure_ascii=False) + "\n")
        run.say(f"request {number}: {problem}; response quarantined to {path}")
    return landed, quarantined, None


def landing_files(run: JobRun) -> dict[str, str]:
    """Every landed response: {p_date=…/name.json (its key in the bookmark): full path}."""
    storage = storage_for(run.settings.lake_root)
    found = {}
    for folder in storage.list_dirs(run.settings.path("landing", SOURCE)):
        if not folder.rsplit("/", 1)[-1].startswith("p_date="):
            continue
        for path in storage.list_files(folder):
            name = path.rsplit("/", 1)[-1]
            if name.endswith(".json") and re.match(_LANDING_ID, name[: -len(".json")]):
                found["/".join(path.rsplit("/", 2)[-2:])] = path
    return found


def record_type(table: TableDef) -> T.StructType:
    """The source record's fields of a raw table: every column but the partition and the _metadata ones."""
    return T.StructType(
        [f for f in table.schema.fields if not f.name.startswith("_") and f.name not in table.partition_keys]
    )


def read_landed(spark, table: TableDef, paths: list[str]) -> DataFrame:
    """The records of these landed responses, typed as `table`, with their fetch time, file and landing id."""
    landing_schema = T.StructType([T.StructField("results", as_text_leaves(T.ArrayType(record_type(table))))])
    responses_df = spark.read.schema(landing_schema).option("multiLine", "true").json(paths)
    source_file = F.regexp_extract(F.input_file_name(), r".*/(landing/.*)$", 1)
    landing_id = F.regexp_extract(source_file, r"([^/]+)\.json$", 1)
    fetched_at = F.regexp_replace(landing_id, _LANDING_ID, "$1-$2-$3T$4:$5:$6.$7Z")
    responses_df = responses_df.select(
        "results",
        fetched_at.cast("timestamp").alias("_fetched_at"),
        source_file.alias("_source_file"),
        landing_id.alias("_landing_id"),
    )
    return explode_user_records(responses_df, record_type(table))


def load_raw(run: JobRun, table: TableDef, pending: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Append the records of the pending landing files to raw.users (one Spark job), idempotently per file."""
    settings, storage = run.settings, storage_for(run.settings.lake_root)
    records_df = read_landed(run.spark, table, sorted(pending.values()))
    records_df = records_df.withColumn("_ingested_at", F.lit(datetime.now(UTC)).cast("timestamp")).persist()
    try:
        rows = {r["_landing_id"]: r["count"] for r in records_df.groupBy("_landing_id").count().collect()}
        staging = settings.path("_staging", run.name, uuid.uuid4().hex[:8])
        columns = [c for c in table.column_names if c not in table.partition_keys]
        records_df.select(*columns, "_landing_id").write.partitionBy("_landing_id").parquet(staging)
    finally:
        records_df.unpersist()
    committed = {}
    for key in sorted(pending):
        p_date_folder, name = key.split("/")
        landing_id = name[: -len(".json")]
        partition_dir = f"{table.location_under(settings.lake_root)}/{p_date_folder}"
        publish_staged(storage, f"{staging}/_landing_id={landing_id}", partition_dir, landing_id)
        committed[key] = {"rows": rows.get(landing_id, 0)}
    storage.delete_tree(staging)
    p_dates = sorted({key.split("/")[0].split("=", 1)[1] for key in pending})
    add_partitions(run.spark, table, [{"p_date": d} for d in p_dates])
    return committed


def run_ingest_users(run: JobRun) -> None:
    """Fetch from the API into landing/randomuser/p_date=…/, then load every landed file not yet in raw.users."""
    request = ingest_request(run)
    landed, quarantined, failure = land_responses(run, request)
    run.say(
        f"{len(landed)} response(s) landed under {run.settings.path('landing', SOURCE, f'p_date={request.p_date}')}"
        + (f", {quarantined} quarantined under {run.settings.path('quarantine', run.name)}" if quarantined else "")
    )
    # Which day this run landed: the users workflow's daily step (--date ingested) processes that day.
    ingested = {"p_date": request.p_date, "landed": len(landed), "quarantined": quarantined}
    StateStore(run.settings, "ingested").save(run.name, {**ingested, "at": datetime.now(UTC).isoformat()})
    table = load_table(RAW_TABLE)
    position = run.position()
    loaded = dict(position.get("files", {}))
    pending = {k: v for k, v in landing_files(run).items() if k not in loaded}
    if pending:
        register_table(run.spark, table, run.settings.lake_root)
        committed = load_raw(run, table, pending)
        loaded.update(committed)
        run.advance({"files": loaded})
        run.say(
            f"{sum(c['rows'] for c in committed.values())} record(s) from {len(committed)} landing file(s) "
            f"appended to {table.qualified_name}"
        )
    if failure is not None:
        raise JobError(f"{failure}; {len(landed)} response(s) landed before it were loaded") from None


# ------------------------------------------------------------------------------------------- daily curated


def raw_days(run: JobRun, table: TableDef) -> dict[str, list[str]]:
    """{p_date: the Parquet file names in that partition of raw.users}."""
    storage = storage_for(run.settings.lake_root)
    days = {}
    for folder in storage.list_dirs(table.location_under(run.settings.lake_root)):
        name = folder.rsplit("/", 1)[-1]
        if name.startswith("p_date="):
            files = [f.rsplit("/", 1)[-1] for f in storage.list_files(folder) if f.endswith(".parquet")]
            if files:
                days[name.split("=", 1)[1]] = sorted(files)
    return days


def fingerprint(files: list[str]) -> str:
    """What a day of raw.users held when it was processed (raw files are named after their landing file)."""
    return hashlib.sha1("\n".join(sorted(files)).encode()).hexdigest()[:16]


def read_raw_days(spark, table: TableDef, lake_root: str, days: list[str]) -> DataFrame:
    """raw.users rows of these p_dates: the filter on the partition column prunes every other partition's files."""
    raw_df = spark.read.schema(table.schema).parquet(table.location_under(lake_root))
    return raw_df.filter(F.col("p_date").isin([date.fromisoformat(d) for d in days]))


def overwrite_days(spark, table: TableDef, lake_root: str, rows_df: DataFrame, days: list[str]) -> None:
    """Replace exactly these p_date partitions of a curated Delta table with `rows_df`, in one commit."""
    register_table(spark, table, lake_root)
    replaced = "p_date IN (" + ", ".join(f"DATE'{d}'" for d in days) + ")"
    (
        rows_df.select(*table.column_names)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", replaced)
        .save(table.location_under(lake_root))
    )


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


def run_users_daily(run: JobRun) -> None:
    """curated.users and curated.user_locations for the day(s) asked, from those raw.users partitions only."""
    raw = load_table(RAW_TABLE)
    available = raw_days(run, raw)
    days = days_to_process(run, available)
    missing = [d for d in days if d not in available]
    for day in missing:
        run.say(f"{raw.qualified_name} has no partition p_date={day}: nothing to process for it")
    days = [d for d in days if d in available]
    if not days:
        run.say("no day to process")
        return
    records_df = read_raw_days(run.spark, raw, run.settings.lake_root, days).persist()
    try:
        counts = records_df.agg(
            F.count(F.lit(1)).alias("records"), F.count_if(F.col("login.uuid").isNull()).alias("unkeyed")
        ).first()
        run.say(
            f"p_date {', '.join(days)}: {counts['records']} record(s) from {sum(len(available[d]) for d in days)} "
            f"file(s) of {raw.qualified_name}"
            + (f"; {counts['unkeyed']} without login.uuid skipped" if counts["unkeyed"] else "")
        )
        for name, build in CURATED_TABLES.items():
            table = load_table(name)
            overwrite_days(run.spark, table, run.settings.lake_root, build(records_df), days)
            run.say(f"{name}: p_date {', '.join(days)} replaced")
    finally:
        records_df.unpersist()
    done = dict(run.bookmarks.position(run.name).get("days", {}))
    done.update({d: fingerprint(available[d]) for d in days})
    run.advance({"days": done})
