"""`make bench-lookup`: GET /v1/customers/{id} on `lake serve` under concurrent clients, DynamoDB local.

Loads a local DynamoDB API in its own process (moto_server, or dynalite, DynamoDB on LevelDB from npm,
with `--backend dynalite`) with the retail tables as load_retail_dynamodb leaves them (Customers, and
Invoices with its by_invoiced_at index): 4,000 customers, 1 to 12 invoices each, plus guest invoices;
starts `lake serve` pointed at it through boto3's standard variables; warms up, then
several clients each send lookups of random customers (1 in 20 unknown: a 404) with ?invoices=10.
Measures per-request latency (p50/p99), the part of it spent waiting on DynamoDB (the answer's
Server-Timing header) and requests/s; checks every 200 holds the customer asked for and its invoices
latest first. Appends the result to bench/RESULTS.md with the machine.
moto_server answers a Query by scanning every item of the table (moto 5's Table.query), so with it the
figure is mostly moto's.
Run: python -m bench.lookup [--backend moto|dynalite] [--customers 4000] [--requests 4000] [--clients 8]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import httpx

from bench.run import machine
from lakekit.catalog.serving import load_serving_table
from lakekit.sinks.dynamodb import create_table_request

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
DYNALITE = BENCH / ".work" / "dynalite" / "node_modules" / ".bin" / "dynalite"  # make bench-lookup installs it
KEY = "bench-key"
TARGET_P99_MS = 50
ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, what: str, path: str = "") -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        try:
            if path:
                httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
            else:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except (httpx.TransportError, OSError):
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{what} did not start")


def create_tables(client) -> None:
    """The tables as load_retail_dynamodb creates them: from their declarations in catalog/serving/."""
    for name in ("Customers", "Invoices"):
        client.create_table(**create_table_request(load_serving_table(name)))


def items(customers: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(customer items, invoice items): customer ids 12346.., 1 to 12 invoices each, and 2,000 guest invoices."""
    rng = random.Random(seed)
    start = datetime(2010, 12, 1, 8, 0)
    people, invoices, number = [], [], 536365
    for index in range(customers):
        customer = str(12346 + index)
        times = sorted(start + timedelta(minutes=rng.randrange(540_000)) for _ in range(rng.randint(1, 12)))
        spent = 0
        for at in times:
            cents = rng.randint(-5000, 200_000)
            spent += cents
            cancelled = cents < 0
            invoices.append(_invoice(customer, f"{'C' if cancelled else ''}{number}", at, cents, rng.randint(1, 40)))
            number += 1
        people.append(
            {
                "customer_id": {"S": customer},
                "country": {"S": rng.choice(["United Kingdom", "France", "Germany", "EIRE"])},
                "first_invoice_at": {"S": times[0].isoformat()},
                "last_invoice_at": {"S": times[-1].isoformat()},
                "invoices": {"N": str(len(times))},
                "cancellations": {"N": str(sum(1 for i in invoices[-len(times) :] if i["is_cancellation"]["BOOL"]))},
                "net_spent": {"N": f"{spent / 100:.2f}"},
                "updated_at": {"S": "2026-11-30T14:00:00Z"},
            }
        )
    for _ in range(2000):
        at = start + timedelta(minutes=rng.randrange(540_000))
        invoices.append(_invoice("GUEST", str(number), at, rng.randint(0, 50_000), rng.randint(1, 40)))
        number += 1
    return people, invoices


def _invoice(customer: str, number: str, at: datetime, cents: int, lines: int) -> dict:
    return {
        "invoice_no": {"S": number},
        "customer_id": {"S": customer},
        "country": {"S": "United Kingdom"},
        "invoiced_at": {"S": at.isoformat()},
        "invoice_date": {"S": at.date().isoformat()},
        "is_cancellation": {"BOOL": number.startswith("C")},
        "is_adjustment": {"BOOL": False},
        "lines": {"N": str(lines)},
        "total_amount": {"N": f"{cents / 100:.2f}"},
    }


def load(client, table: str, rows: list[dict]) -> None:
    for start in range(0, len(rows), 25):
        pending = {table: [{"PutRequest": {"Item": item}} for item in rows[start : start + 25]]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["moto", "dynalite"], default="moto")
    parser.add_argument("--customers", type=int, default=4000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    ns = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers below are stopped too
    db_port, serve_port = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{db_port}"
    env = {**os.environ, **ENV, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "LAKE_API_KEYS": KEY}
    env.pop("AWS_PROFILE", None)
    if ns.backend == "dynalite":
        if not DYNALITE.exists():
            raise SystemExit(f"no {DYNALITE}: npm install --prefix {DYNALITE.parents[2]} dynalite@4.0.0")
        argv = [str(DYNALITE), "--port", str(db_port), "--createTableMs", "0"]
    else:
        argv = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(db_port)]
    database = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    service = None
    try:
        wait_for(db_port, database, ns.backend)
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", **_keys())
        create_tables(client)
        for table in ("Customers", "Invoices"):
            client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})
        people, invoices = items(ns.customers, seed=7)
        started = time.monotonic()
        load(client, "Customers", people)
        load(client, "Invoices", invoices)
        print(f"loaded {len(people):,} customers and {len(invoices):,} invoices in {time.monotonic() - started:.1f}s")
        expected = {p["customer_id"]["S"]: int(p["invoices"]["N"]) for p in people}
        with tempfile.TemporaryDirectory(prefix="bench-lookup-") as folder:
            argv = [str(BIN / "lake"), "serve", "--port", str(serve_port), "--lake-root", str(Path(folder) / "lake")]
            service = subprocess.Popen(argv, env=env)
            wait_for(serve_port, service, "lake serve", "/health")
            url = f"http://127.0.0.1:{serve_port}/v1/customers"
            run(url, expected, 200, ns.clients, seed=1)  # warm-up: connections, the DynamoDB client
            result = run(url, expected, ns.requests, ns.clients, seed=2)
    finally:
        for process in (service, database):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(60)
    latencies, own, statuses, wrong, seconds = result
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    own50, own99 = percentile(own, 0.5), percentile(own, 0.99)
    rps = len(latencies) / seconds
    counts = ", ".join(f"{status}: {count:,}" for status, count in sorted(statuses.items()))
    line = (
        f"bench-lookup: backend={ns.backend} customers={ns.customers} invoices={len(invoices)} "
        f"requests={ns.requests} clients={ns.clients} statuses=({counts}) wrong={wrong} rps={rps:.0f} "
        f"p50_ms={p50:.1f} p99_ms={p99:.1f} outside_dynamodb_p50_ms={own50:.1f} outside_dynamodb_p99_ms={own99:.1f}"
    )
    print(line)
    if not ns.no_record:
        verdict = "met" if p99 < TARGET_P99_MS else "missed"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        average = os.getloadavg()
        (BENCH / "RESULTS.md").open("a").write(
            f"\n## Customer lookup, {stamp}: `make bench-lookup BACKEND={ns.backend} LOOKUPS={ns.requests} "
            f"CLIENTS={ns.clients}`\n\nMachine: {machine()}; load average at the end "
            f"{average[0]:.1f} / {average[1]:.1f} / {average[2]:.1f} (shared with other helpers' work while it ran; "
            "the clients, the service and the DynamoDB API on the same cores)\n\n"
            "| measure | result |\n|---|---|\n"
            f"| DynamoDB ({ns.backend}, local) | {ns.customers:,} customers, {len(invoices):,} invoices |\n"
            f"| requests (GET /v1/customers/ID?invoices=10, {ns.clients} concurrent clients) | {ns.requests:,} "
            f"({counts}) |\n"
            f"| answers not matching the data | {wrong} |\n"
            f"| rate | {rps:,.0f} requests/s |\n"
            f"| request latency p50 / p99 | {p50:.1f} ms / {p99:.1f} ms "
            f"(target p99 < {TARGET_P99_MS} ms: {verdict}) |\n"
            f"| of which outside DynamoDB (latency minus Server-Timing), p50 / p99 | {own50:.1f} ms / "
            f"{own99:.1f} ms |\n\n"
            f"```\n{line}\n```\n"
        )
    return 0 if wrong == 0 else 1


def percentile(values: list[float], q: float) -> float:
    """In milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}


def run(url: str, expected: dict[str, int], requests: int, clients: int, seed: int):
    """(latencies and the parts outside DynamoDB in seconds, answers by status, answers not matching the data,
    seconds) of `requests` lookups."""
    rng = random.Random(seed)
    ids = list(expected)
    wanted = [rng.choice(ids) if rng.random() >= 0.05 else str(90000 + rng.randrange(9999)) for _ in range(requests)]
    latencies: list[float] = []
    own: list[float] = []  # latency minus the DynamoDB time the service reports
    statuses: dict[int, int] = {}
    wrong = [0]
    lock = threading.Lock()
    local = threading.local()

    def lookup(customer: str) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(headers={"x-api-key": KEY}, timeout=30)
        began = time.perf_counter()
        answer = local.client.get(f"{url}/{customer}", params={"invoices": 10})
        elapsed = time.perf_counter() - began
        bad = not _matches(answer, customer, expected)
        timing = answer.headers.get("server-timing", "dynamodb;dur=0").partition("dur=")[2]
        with lock:
            latencies.append(elapsed)
            own.append(max(0.0, elapsed - float(timing) / 1000))
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            wrong[0] += bad

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(lookup, wanted))
    return latencies, own, statuses, wrong[0], time.monotonic() - started


def _matches(answer: httpx.Response, customer: str, expected: dict[str, int]) -> bool:
    if customer not in expected:
        return answer.status_code == 404
    if answer.status_code != 200:
        return False
    body = answer.json()
    times = [i["invoiced_at"] for i in body["invoices"]]
    return (
        body["customer"]["customer_id"] == customer
        and len(times) == min(10, expected[customer])
        and times == sorted(times, reverse=True)
        and all(i["customer_id"] == customer for i in body["invoices"])
    )


if __name__ == "__main__":
    sys.exit(main())
