"""The user-data pipeline end to end: a local HTTP API -> landing -> raw.users -> curated tables by day."""

from __future__ import annotations

import copy
import json
import re
import runpy
import socket
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakekit import cli
from lakekit.catalog.model import load_table
from lakekit.core.job import JobError
from lakekit.core.settings import load_settings
from lakekit.core.state import Bookmarks
from lakekit.pipelines.users import CREDENTIAL_FIELDS, fingerprint, raw_days, read_raw_days
from lakekit.sources.http import FetchError, RetryPolicy, get
from lakekit.tables import TableHandle
from scripts.samples.users import RANDOMUSER_PAGES, write_randomuser_samples
from tests.helpers import read_table, run_job

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "samples" / "randomuser"
PAGE_1, PAGE_2 = (json.dumps(page).encode() for page in RANDOMUSER_PAGES)
CREDENTIALS = sorted(
    {str(r["login"][k]) for page in RANDOMUSER_PAGES for r in page["results"] for k in CREDENTIAL_FIELDS}
)
ANNA = "5f0c6d1e-8a3b-4c2d-9e7f-1a2b3c4d5e6f"
LEON = "9b8e7f6a-5d4c-4b3a-8f2e-0d1c2b3a4f5e"
MERE = "c3d2e1f0-a9b8-4c7d-8e6f-5a4b3c2d1e0f"
FAST = {"backoff_seconds": "0.001", "attempts": "3", "timeout_seconds": "5"}


# ------------------------------------------------------------------------------------------ a local API


class _Api(ThreadingHTTPServer):
    """Answers each GET with the next scripted reply (status, body, headers, delay) and records the path."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies: list[tuple[int, bytes, dict, float]] = []
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/"

    def script(self, *replies) -> None:
        for reply in replies:
            status, body, *rest = reply if isinstance(reply, tuple) else (200, reply)
            headers = rest[0] if rest else {}
            self.replies.append((status, body, headers, rest[1] if len(rest) > 1 else 0.0))

    def handle_error(self, request, client_address) -> None:  # a client that timed out has hung up: fine
        pass


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        replies = self.server.replies
        status, body, headers, delay = replies.pop(0) if replies else (503, b"no reply scripted", {}, 0.0)
        time.sleep(delay)
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def api():
    server = _Api()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def ingest(lake_root: str, url: str, **args: str) -> None:
    run_job(lake_root, "ingest_users", url=url, **{**FAST, **args})


def scrubbed(page: dict) -> dict:
    """What the landed copy of a response must be: the response without the credential fields."""
    page = copy.deepcopy(page)
    for record in page["results"]:
        for key in CREDENTIAL_FIELDS:
            del record["login"][key]
    return page


def files_under(root: str | Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in Path(root).rglob(pattern) if p.is_file())


def assert_no_credentials(spark, lake_root: str) -> None:
    """No credential value of the responses in any file under the lake root, nor in any Parquet row."""
    assert CREDENTIALS and len(CREDENTIALS) == 15
    for path in files_under(lake_root):
        content = path.read_bytes()
        assert not [c for c in CREDENTIALS if c.encode() in content], path
    tables: dict[Path, list[str]] = {}  # pages are compressed: look at the rows too, one read per table
    for path in files_under(lake_root, "*.parquet"):
        tables.setdefault(path.parent.parent, []).append(str(path))
    for table, paths in tables.items():
        rows = spark.read.parquet(*paths).toJSON().collect()
        assert not [c for c in CREDENTIALS if any(c in row for row in rows)], table


def latest_commit_partitions(table_path: str) -> set[tuple[str, str]]:
    """(action, p_date) of every file the latest Delta commit added or removed."""
    commits = sorted(Path(table_path, "_delta_log").glob("*.json"))
    actions = [json.loads(line) for line in commits[-1].read_text().splitlines()]
    return {(kind, a[kind]["partitionValues"]["p_date"]) for a in actions for kind in ("add", "remove") if kind in a}


def delta_commits(table_path: str) -> int:
    return len(list(Path(table_path, "_delta_log").glob("*.json")))


# ------------------------------------------------------------------------------------------ HTTP behaviour


def test_get_retries_429_5xx_and_timeouts_with_exponential_backoff(api):
    api.script(
        (429, b'{"error":"slow down"}', {"Retry-After": "0.05"}),
        (503, b"busy"),
        (200, PAGE_2, {}, 1.0),  # answers after the client's timeout: retried
        PAGE_1,
    )
    waits: list[float] = []
    policy = RetryPolicy(timeout_seconds=0.3, attempts=4, backoff_seconds=0.01)
    response = get(api.url, {"results": 3, "seed": None}, policy, sleep=waits.append)
    assert (response.status, response.body) == (200, PAGE_1)
    assert waits == [0.05, 0.02, 0.04]  # Retry-After beats the first backoff; then it doubles
    assert api.paths == ["/api/?results=3"] * 4


def test_get_fails_clearly_after_the_last_try_and_at_once_on_a_client_error(api):
    api.script((500, b"oops"), (500, b"oops"), (500, b"oops"), (404, b"nope"))
    waits: list[float] = []
    policy = RetryPolicy(timeout_seconds=2, attempts=3, backoff_seconds=0.5)
    with pytest.raises(FetchError, match=r"api/\?results=5 failed after 3 attempt\(s\); last: HTTP 500"):
        get(api.url, {"results": 5}, policy, sleep=waits.append)
    assert waits == [0.5, 1.0]
    with pytest.raises(FetchError, match=r"failed: HTTP 404 Not Found \(not retried\)"):
        get(api.url, {"results": 5}, policy, sleep=waits.append)
    assert len(api.paths) == 4 and waits == [0.5, 1.0]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    with pytest.raises(FetchError, match=r"failed after 2 attempt\(s\); last: ConnectionRefusedError"):
        get(closed, {}, RetryPolicy(timeout_seconds=2, attempts=2, backoff_seconds=0), sleep=waits.append)


# ------------------------------------------------------------------------------------------ ingestion


def test_ingest_lands_responses_without_credentials_and_loads_raw_users_once(spark, lake_root, api):
    api.script((429, b"Too Many Requests"), PAGE_1, PAGE_2)
    ingest(lake_root, api.url, results="3", requests="2", p_date="2026-11-20")
    assert api.paths == ["/api/?results=3"] * 3

    landed = files_under(Path(lake_root, "landing", "randomuser"))
    assert [p.relative_to(lake_root).parent.as_posix() for p in landed] == ["landing/randomuser/p_date=2026-11-20"] * 2
    assert [json.loads(p.read_text()) for p in landed] == [scrubbed(RANDOMUSER_PAGES[0]), scrubbed(RANDOMUSER_PAGES[1])]

    raw_df = read_table(spark, lake_root, "raw.users")
    first, second = (f"landing/randomuser/p_date=2026-11-20/{p.name}" for p in landed)
    rows = raw_df.select(
        "login.uuid",
        "login.username",
        "location.street.number",
        "location.postcode",
        "location.coordinates.latitude",
        "id.value",
        "dob.date",
        "_record_index",
        "_source_file",
        "p_date",
    ).collect()
    day = date(2026, 11, 20)
    leon_born = datetime(1975, 11, 2, 22, 40, 5, 871000)
    assert sorted(rows) == sorted(
        [
            (ANNA, "annatremblay610", 4127, "H9P 1K4", 45.4467, "046454286", datetime(1988, 4, 12, 9, 15, 33, 120000),
             0, first, day),
            (LEON, "leonwalker611", 912, "74103", 36.154, "403-12-8876", leon_born, 1, first, day),
            (MERE, "merengata607", 58, "6011", -41.2924, None, datetime(2001, 7, 23, 3, 5, 44, 309000), 2, first, day),
            (LEON, "leonwalker611", 77, "80302", 40.015, "403-12-8876", leon_born, 0, second, day),
        ]
    )  # fmt: skip
    # The fetch time is the one in the landing file's name.
    fetched = {r["_source_file"]: r["_fetched_at"] for r in raw_df.select("_source_file", "_fetched_at").collect()}
    assert fetched == {f: datetime.strptime(f.rsplit("/", 1)[1][:22], "%Y%m%dT%H%M%S.%f") for f in (first, second)}
    # What the job wrote is exactly the catalog's schema.
    written = spark.read.parquet(str(Path(lake_root, "raw", "users")))
    assert written.schema.simpleString() == load_table("raw.users").schema.simpleString()

    # A crash after landing but before the bookmark: the next run loads every file again, and once only.
    Bookmarks(load_settings("local", lake_root)).delete("ingest_users")
    api.script(PAGE_2)
    ingest(lake_root, api.url, results="3", p_date="2026-11-20")
    after = read_table(spark, lake_root, "raw.users").groupBy("login.uuid", "location.city").count().collect()
    assert sorted(after) == sorted(
        [(ANNA, "Dorval", 1), (LEON, "Tulsa", 1), (MERE, "Wellington", 1), (LEON, "Boulder", 2)]
    )
    assert_no_credentials(spark, lake_root)


def test_a_server_failing_every_try_is_a_clear_error_and_lands_nothing(lake_root, api, capsys):
    api.script((500, b"oops"), (500, b"oops"), (500, b"oops"))
    argv = ["job", "run", "ingest_users", "--lake-root", lake_root, "--arg", f"url={api.url}", "--arg", "results=5"]
    argv += [f"--arg={k}={v}" for k, v in FAST.items()]
    assert cli.main(argv) == 1
    assert (
        f"lake: GET {api.url}?results=5 failed after 3 attempt(s); last: HTTP 500 Internal Server Error; "
        "0 response(s) landed before it were loaded" in capsys.readouterr().err
    )
    assert len(api.paths) == 3
    assert not Path(lake_root, "landing").exists() and not Path(lake_root, "raw").exists()


def test_bad_responses_are_quarantined_with_their_text_and_the_run_says_so(spark, lake_root, api, capsys):
    error = b'{"error": "Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. Thank you."}'
    truncated = PAGE_1[: PAGE_1.index(b"hunter2") + 3]  # cut inside a password
    api.script(b"<html>Bad Gateway</html>", error, truncated, PAGE_2)
    ingest(lake_root, api.url, results="3", requests="4", p_date="2026-11-20")

    quarantined = [json.loads(p.read_text()) for p in files_under(Path(lake_root, "quarantine", "ingest_users"))]
    assert [(q["status"], q["reason"], q["url"]) for q in quarantined] == [
        (200, "not JSON: Expecting value: line 1 column 1 (char 0)", f"{api.url}?results=3"),
        (200, "no results (error: Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. "
              "Thank you.)", f"{api.url}?results=3"),
        (200, f"not JSON: Unterminated string starting at: line 1 column {len(truncated) - 3}"
              f" (char {len(truncated) - 4})", f"{api.url}?results=3"),
    ]  # fmt: skip
    assert [q["text"] for q in quarantined[:2]] == ["<html>Bad Gateway</html>", error.decode()]
    redacted = quarantined[2]["text"]
    assert redacted.count('"[removed]"') == 6 and redacted.endswith('"password": "[removed]"')
    assert (
        redacted.replace('"[removed]"', "")
        == re.sub(rb'("(?:password|salt|md5|sha1|sha256)": )"[^"]*"?', rb"\1", truncated).decode()
    )
    out = capsys.readouterr().out
    assert "1 response(s) landed" in out and "3 quarantined under" in out
    assert "request 3: not JSON: Unterminated string" in out

    raw_rows = read_table(spark, lake_root, "raw.users").select("login.uuid", "location.city", "_record_index")
    assert raw_rows.collect() == [(LEON, "Boulder", 0)]
    assert_no_credentials(spark, lake_root)


# ------------------------------------------------------------------------------------------ daily transform

USERS_COLUMNS = ["user_uuid", "username", "first_name", "email", "nationality", "born_at", "age", "registered_at"]
LOCATION_COLUMNS = ["user_uuid", "street_number", "street_name", "city", "postcode", "latitude", "longitude"]
LOCATION_COLUMNS += ["timezone_offset", "timezone_description"]


def users_of(spark, lake_root: str, p_date: date) -> list[tuple]:
    users_df = read_table(spark, lake_root, "curated.users").filter(F.col("p_date") == p_date)
    return sorted(users_df.select(*USERS_COLUMNS).collect())


def test_curated_users_reads_only_the_day_asked_and_rewrites_only_it(spark, lake_root, api):
    day, other = date(2026, 11, 20), date(2026, 11, 19)
    api.script(PAGE_1, PAGE_1, PAGE_2)
    ingest(lake_root, api.url, p_date=str(other))
    ingest(lake_root, api.url, requests="2", p_date=str(day))  # Leon fetched twice this day: moved in between
    raw = load_table("raw.users")

    # Pruning, shown two ways: the scan carries the partition filter, and a corrupt file in another
    # partition is never opened (reading it would fail).
    # The handle reads the table's location from the run's lake root and its Spark session, nothing else.
    run = type("Run", (), {"spark": spark, "settings": type("Settings", (), {"lake_root": lake_root})()})()
    scan = read_raw_days(TableHandle(run, raw), [str(day)])
    plan = scan._jdf.queryExecution().executedPlan().toString()
    assert re.search(r"PartitionFilters: \[isnotnull\(p_date#\d+\), \(p_date#\d+ = 2026-11-20\)\]", plan), plan
    corrupt = Path(raw.location_under(lake_root), f"p_date={other}", "corrupt.snappy.parquet")
    corrupt.write_text("not parquet")
    with pytest.raises(Exception, match="corrupt.snappy.parquet"):
        spark.read.schema(raw.schema).parquet(raw.location_under(lake_root)).collect()
    run_job(lake_root, "curated_users", date=str(day))
    corrupt.unlink()

    users_path = load_table("curated.users").location_under(lake_root)
    born = {ANNA: datetime(1988, 4, 12, 9, 15, 33, 120000), LEON: datetime(1975, 11, 2, 22, 40, 5, 871000)}
    expected_users = [
        (ANNA, "annatremblay610", "Anna", "anna.tremblay@example.com", "CA", born[ANNA], 38,
         datetime(2014, 6, 30, 17, 2, 11, 4000)),
        (LEON, "leonwalker611", "Leon", "leon.walker@example.com", "US", born[LEON], 51, datetime(2009, 2, 14, 8, 30)),
        (MERE, "merengata607", "Mere", "mere.ngata@example.com", "NZ", datetime(2001, 7, 23, 3, 5, 44, 309000), 25,
         datetime(2019, 10, 1, 11, 11, 11, 111000)),
    ]  # fmt: skip
    assert users_of(spark, lake_root, day) == expected_users
    locations_df = read_table(spark, lake_root, "curated.user_locations")
    assert sorted(locations_df.select(*LOCATION_COLUMNS, "p_date").collect()) == [
        (ANNA, 4127, "Dufferin St", "Dorval", "H9P 1K4", 45.4467, -73.7502, "-5:00",
         "Eastern Time (US & Canada), Bogota, Lima", day),
        (LEON, 77, "Elm St", "Boulder", "80302", 40.015, -105.2705, "-7:00", "Mountain Time (US & Canada)", day),
        (MERE, 58, "Oriental Parade", "Wellington", "6011", -41.2924, 174.7787, "+12:00",
         "Auckland, Wellington, Fiji, Kamchatka", day),
    ]  # fmt: skip
    for name in ("curated.users", "curated.user_locations"):
        written = read_table(spark, lake_root, name)
        assert written.schema.simpleString() == load_table(name).schema.simpleString()

    # The other day, then the first one again: the rerun changes nothing and touches only its own day.
    run_job(lake_root, "curated_users", date=str(other))
    assert latest_commit_partitions(users_path) == {("add", str(other))}
    before = sorted(read_table(spark, lake_root, "curated.users").collect())
    run_job(lake_root, "curated_users", date=str(day))
    assert sorted(read_table(spark, lake_root, "curated.users").collect()) == before
    assert {p for _, p in latest_commit_partitions(users_path)} == {str(day)}
    assert {a for a, _ in latest_commit_partitions(users_path)} == {"add", "remove"}

    # New data for the day: a rerun picks it up; the other day stays as it was.
    anna_again = copy.deepcopy(RANDOMUSER_PAGES[1])
    anna_again["results"] = [{**RANDOMUSER_PAGES[0]["results"][0], "email": "anna@example.org"}]
    api.script(json.dumps(anna_again).encode())
    ingest(lake_root, api.url, p_date=str(day))
    run_job(lake_root, "curated_users", date=str(day))
    assert users_of(spark, lake_root, day) == [
        (*expected_users[0][:3], "anna@example.org", *expected_users[0][4:]),
        *expected_users[1:],
    ]
    assert users_of(spark, lake_root, other) == expected_users  # page 1 alone: Leon still in Tulsa
    locations_df = read_table(spark, lake_root, "curated.user_locations")
    assert sorted(locations_df.select("user_uuid", "city", "p_date").collect()) == [
        (ANNA, "Dorval", other), (ANNA, "Dorval", day), (LEON, "Boulder", day), (LEON, "Tulsa", other),
        (MERE, "Wellington", other), (MERE, "Wellington", day),
    ]  # fmt: skip


def test_curated_users_defaults_to_yesterday_and_catches_up_on_complete_days(spark, lake_root):
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=2), today - timedelta(days=1), today]
    page_1 = (SAMPLES / "page-1.json").as_uri()
    for day in days:
        ingest(lake_root, page_1, p_date=str(day))
    users_path = load_table("curated.users").location_under(lake_root)

    def processed() -> list[tuple[str, date]]:
        return sorted(read_table(spark, lake_root, "curated.users").select("user_uuid", "p_date").collect())

    run_job(lake_root, "curated_users")
    assert processed() == [(ANNA, days[1]), (LEON, days[1]), (MERE, days[1])]

    run_job(lake_root, "curated_users", catch_up="true")  # today is not complete yet; yesterday is done
    assert processed() == sorted([(u, d) for u in (ANNA, LEON, MERE) for d in days[:2]])
    bookmark = Bookmarks(load_settings("local", lake_root)).position("users_daily")
    assert sorted(bookmark["days"]) == [str(d) for d in days[:2]]

    commits = delta_commits(users_path)
    run_job(lake_root, "curated_users", catch_up="true")  # nothing new: nothing written
    assert delta_commits(users_path) == commits

    ingest(lake_root, (SAMPLES / "page-2.json").as_uri(), p_date=str(days[0]))  # a backfill of a processed day
    run_job(lake_root, "curated_users", catch_up="true")
    assert {p for _, p in latest_commit_partitions(users_path)} == {str(days[0])}
    locations_df = read_table(spark, lake_root, "curated.user_locations").filter(F.col("user_uuid") == LEON)
    assert sorted(locations_df.select("city", "p_date").collect()) == [("Boulder", days[0]), ("Tulsa", days[1])]


def test_curated_users_goes_on_from_the_state_users_daily_left(spark, lake_root, capsys):
    """A lake written by the job under its old name, users_daily: its bookmark is the renamed job's, unmigrated."""
    yesterday, today = (datetime.now(UTC).date() - timedelta(days=n) for n in (1, 0))
    ingest(lake_root, (SAMPLES / "page-1.json").as_uri(), p_date=str(yesterday))
    settings = load_settings("local", lake_root)
    day_files = raw_days(TableHandle(type("Run", (), {"settings": settings})(), "raw.users"))
    # What users_daily's last run left: yesterday processed, as it was then.
    old = {"job": "users_daily", "updated_at": "2026-11-20T01:30:00+00:00", "position": {"days": {}}}
    old["position"]["days"][str(yesterday)] = fingerprint(day_files[str(yesterday)])
    bookmarks = Path(lake_root, "_state", "bookmarks")
    bookmarks.mkdir(parents=True, exist_ok=True)
    (bookmarks / "users_daily.json").write_text(json.dumps(old))
    capsys.readouterr()

    assert cli.main(["job", "run", "users_daily", "--lake-root", lake_root, "--arg", "catch_up=true"]) == 0
    out, err = capsys.readouterr()
    assert err == "job users_daily is now curated_users; the old name goes in the next release\n"
    assert "[curated_users] no day to process" in out
    assert not Path(load_table("curated.users").location_under(lake_root)).exists()  # nothing new: nothing written
    assert json.loads((bookmarks / "users_daily.json").read_text()) == old
    assert cli.main(["bookmark", "show", "curated_users", "--lake-root", lake_root, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "job": "curated_users",
        "updated_at": old["updated_at"],
        "position": old["position"],
    }

    # A day more: the renamed job processes it alone, and its bookmark, lock and staging stay users_daily's.
    ingest(lake_root, (SAMPLES / "page-2.json").as_uri(), p_date=str(today - timedelta(days=2)))
    run_job(lake_root, "curated_users", catch_up="true")
    users_df = read_table(spark, lake_root, "curated.users")
    assert sorted({row.p_date for row in users_df.select("p_date").collect()}) == [today - timedelta(days=2)]
    assert sorted(Bookmarks(settings).position("users_daily")["days"]) == [
        str(today - timedelta(days=2)),
        str(yesterday),
    ]
    assert sorted(p.name for p in Path(lake_root, "_state").glob("*/*") if "users" in p.name) == [
        "ingest_users.json",
        "ingest_users.json",
        "users_daily.json",
    ]


def test_bad_daily_arguments_are_clear_errors(lake_root):
    # Checked against the job's declared options before the lock and the session.
    with pytest.raises(JobError, match=r"argument date: expected YYYY-MM-DD\|yesterday\|ingested, got '20/11/2026'"):
        run_job(lake_root, "curated_users", date="20/11/2026")
    with pytest.raises(JobError, match="--date ingested: ingest_users has not run on"):
        run_job(lake_root, "curated_users", date="ingested")


# ------------------------------------------------------------------------------------------ offline runs


def test_samples_are_what_the_script_writes(tmp_path):
    write_randomuser_samples(tmp_path / "randomuser")
    assert {p.name: p.read_bytes() for p in files_under(tmp_path / "randomuser")} == {
        p.name: p.read_bytes() for p in files_under(SAMPLES)
    }


def test_workflow_users_runs_on_the_recorded_samples_without_network(spark, lake_root, capsys):
    url = SAMPLES.as_uri()
    assert (
        cli.main(["workflow", "run", "users", "--lake-root", lake_root, "--arg", f"url={url}", "--arg", "requests=2"])
        == 0
    )
    today = datetime.now(UTC).date()
    out = capsys.readouterr().out
    assert f"[curated_users] p_date {today}: 4 record(s) from 2 file(s) of raw.users" in out
    locations_df = read_table(spark, lake_root, "curated.user_locations")
    assert sorted(locations_df.select("user_uuid", "city", "postcode", "p_date").collect()) == [
        (ANNA, "Dorval", "H9P 1K4", today),
        (LEON, "Boulder", "80302", today),
        (MERE, "Wellington", "6011", today),
    ]
    assert_no_credentials(spark, lake_root)


GLUE_ARGS = ["--job-bookmark-option", "job-bookmark-enable", "--TempDir", "s3://aws-glue-temp/tmp", "--JOB_ID", "j_1"]


def test_job_scripts_run_as_glue_runs_them(spark, lake_root, monkeypatch):
    for job, args in (
        ("ingest_users", ["--url", (SAMPLES / "page-2.json").as_uri(), "--p_date", "2026-11-20"]),
        ("curated_users", ["--date", "2026-11-20"]),
    ):
        argv = [str(REPO / "jobs" / f"{job}.py"), "--JOB_NAME", job, "--lake_root", lake_root, *args, *GLUE_ARGS]
        monkeypatch.setattr(sys, "argv", argv)
        runpy.run_path(argv[0], run_name="__main__")
    users_df = read_table(spark, lake_root, "curated.users")
    assert users_df.select("user_uuid", "email", "p_date").collect() == [
        (LEON, "leon.walker@example.com", date(2026, 11, 20))
    ]
