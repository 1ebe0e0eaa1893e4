"""The retail pipeline on events built from the sample generator's rows (no CSV parser), landed by the ingest
service's landing writer: the three curated tables row by row against the plain-Python oracle, a second batch
that changes invoices and customers, the quarantine, and the DynamoDB items on moto_server."""

from __future__ import annotations

import json
import re
import runpy
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from deltalake import DeltaTable as RustDeltaTable

from lakekit.catalog.model import load_table
from lakekit.catalog.streams import load_stream
from lakekit.serve.app import envelope
from lakekit.sources.streams.landing import StreamLanding
from lakekit.tables import TableHandle
from scripts.samples.retail import RETAIL_FILE, RETAIL_HEADER, retail_csv, retail_rows
from tests.helpers import read_table, run_job
from tests.lakekit.pipelines.crash import assert_killed_at, kill_at
from tests.oracle import RetailConf, retail_customers, retail_invoices, retail_lines, retail_problem

REPO = Path(__file__).resolve().parents[3]
LINES, INVOICES, CUSTOMERS = "curated.retail_invoice_lines", "curated.retail_invoices", "curated.retail_customers"
_CONF = load_table(LINES).conf
CONF = RetailConf(
    tuple(_CONF["non_product_stock_codes"]), tuple(_CONF["non_product_stock_code_prefixes"]), tuple(_CONF["countries"])
)
BATCH_1 = datetime(2026, 11, 30, 9, 0, 0)
BATCH_2 = datetime(2026, 11, 30, 12, 0, 0)


def events_from_rows(rows: list[dict], source_file: str) -> list[dict]:
    """The retail stream's events for these rows, as the producer numbers them: line_no counts an invoice's
    distinct rows in file order, an exact duplicate repeats its first occurrence's number."""
    numbers: dict[str, dict[tuple, int]] = {}
    events = []
    for line, row in enumerate(rows, start=2):  # the header is line 1
        seen = numbers.setdefault(row["InvoiceNo"], {})
        content = tuple(str(row[c]) for c in RETAIL_HEADER)
        seen.setdefault(content, len(seen) + 1)
        events.append(
            {
                "invoice_no": row["InvoiceNo"],
                "line_no": seen[content],
                "stock_code": row["StockCode"],
                "description": row["Description"],
                "quantity": row["Quantity"],
                "invoiced_at": row["InvoiceDate"].isoformat(timespec="seconds"),
                "unit_price": row["UnitPrice"],
                "customer_id": row["CustomerID"],
                "country": row["Country"],
                "source_file": source_file,
                "source_line": line,
            }
        )
    return events


def land(lake_root: str, events: list[dict], received: datetime, per_request: int = 100) -> list[dict]:
    """Store the events as the ingest service does (its landing writer, its envelope), `per_request` events a
    request one second apart from `received` (UTC); returns them with their record id and receive time."""
    stream = load_stream("retail")
    writer = StreamLanding(lake_root, "retail", roll_bytes=1 << 30, roll_seconds=3600)
    stored = []
    for request, start in enumerate(range(0, len(events), per_request)):
        at = received + timedelta(seconds=request)
        micros = int((at - datetime(1970, 1, 1)).total_seconds() * 1_000_000)
        lines = []
        for index, event in enumerate(events[start : start + per_request]):
            assert stream.problem(event) is None, (event, stream.problem(event))
            record_id = f"{micros:014x}{index:04x}0123456789"
            lines.append(envelope(event, {}, record_id, at.isoformat(timespec="microseconds") + "Z", "retail"))
            stored.append({**event, "record_id": record_id, "received_at": at})
        writer.append(lines)
    writer.close()
    return stored


def naive(value):
    """delta-rs gives timestamps as aware UTC datetimes, Spark (TZ=UTC) as naive ones."""
    return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) and value.tzinfo else value


def table_rows(spark, lake_root: str, name: str, key: list[str]) -> list[tuple]:
    columns = load_table(name).column_names
    return [tuple(r) for r in read_table(spark, lake_root, name).select(*columns).orderBy(*key).collect()]


def expected(events: list[dict]) -> tuple[list[tuple], list[tuple], list[tuple]]:
    lines = retail_lines(events, CONF)
    invoices = retail_invoices(lines)
    customers = retail_customers(invoices)
    return [lines[k] for k in sorted(lines)], [invoices[k] for k in sorted(invoices)], sorted(customers.values())


def plain_item(item: dict) -> dict:
    """A DynamoDB item with numbers as Decimals (DynamoDB may write 18.0 as 18)."""
    return {k: Decimal(v["N"]) if "N" in v else v.get("S", v.get("BOOL")) for k, v in item.items()}


def scan(endpoint: str, table: str) -> list[dict]:
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    items = [plain_item(i) for page in client.get_paginator("scan").paginate(TableName=table) for i in page["Items"]]
    return sorted(items, key=lambda i: (i["customer_id"], i.get("invoice_no", "")))


def customer_items(customers: list[tuple], updated: dict[str, datetime]) -> list[dict]:
    items = []
    for customer_id, country, first, last, invoices, cancellations, net in customers:
        item = {
            "customer_id": customer_id,
            "country": country,
            "first_invoice_at": first.strftime("%Y-%m-%dT%H:%M:%S"),
            "last_invoice_at": last.strftime("%Y-%m-%dT%H:%M:%S"),
            "invoices": Decimal(invoices),
            "cancellations": Decimal(cancellations),
            "net_spent": net,
            "updated_at": updated[customer_id].strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        items.append({k: v for k, v in item.items() if v is not None})
    return sorted(items, key=lambda i: i["customer_id"])


def invoice_items(invoices: list[tuple]) -> list[dict]:
    items = []
    for invoice_no, customer_id, country, at, day, cancellation, adjustment, lines, total in invoices:
        item = {
            "customer_id": customer_id or "GUEST",
            "invoice_no": invoice_no,
            "country": country,
            "invoiced_at": at.strftime("%Y-%m-%dT%H:%M:%S"),
            "invoice_date": day.isoformat(),
            "is_cancellation": cancellation,
            "is_adjustment": adjustment,
            "lines": Decimal(lines),
            "total_amount": total,
        }
        items.append({k: v for k, v in item.items() if v is not None})
    return sorted(items, key=lambda i: (i["customer_id"], i["invoice_no"]))


def updated_at(spark, lake_root: str) -> dict[str, datetime]:
    return {r[0]: r[1] for r in read_table(spark, lake_root, CUSTOMERS).select("customer_id", "updated_at").collect()}


def second_batch(first: list[dict]) -> tuple[list[dict], list[dict]]:
    """Events that change invoices and customers (sent after the first batch), and one received earlier than
    the line it names (late: it must lose)."""

    def event(invoice_no: str, line_no: int) -> dict:
        found = next(e for e in first if (e["invoice_no"], e["line_no"]) == (invoice_no, line_no))
        return {k: v for k, v in found.items() if k not in ("record_id", "received_at")}

    new_line = {**event("536371", 1), "source_line": None}
    later = [
        {**event("536366", 2), "quantity": 100},  # a line posted again with another quantity: the latest wins
        event("536367", 1),  # an exact retry: nothing changes, not even received_at
        {**event("536403", 1), "customer_id": "17850"},  # 13047's only invoice moves to 17850: 13047 is gone
        {**event("536370", 1), "customer_id": "12347"},  # a guest invoice gets a customer: its item moves
        {**event("536368", 1), "invoiced_at": "2010-12-09T10:00:00"},  # the invoice moves to another day
        {**new_line, "invoice_no": "536999", "line_no": 1, "customer_id": "18000", "country": "Korea"},
        {
            **new_line,
            "invoice_no": "536999",
            "line_no": 2,
            "stock_code": "POST",
            "unit_price": "40.0",
            "customer_id": "18000",
            "country": "Korea",
        },  # fmt: skip
        {**new_line, "invoice_no": "C537000", "line_no": 1, "quantity": -2, "customer_id": "16098"},
        {**new_line, "invoice_no": "536998", "line_no": 1, "quantity": 2147483647, "unit_price": "5.00"},
        {**new_line, "invoice_no": "536997", "line_no": 1, "unit_price": "1.005"},
    ]
    late = [{**event("536372", 1), "quantity": 7}]  # received before the batch-1 version of its line
    return later, late


def run_script(job: str, lake_root: str, monkeypatch) -> None:
    """The job's script under jobs/, run as Glue runs it."""
    glue = ["--job-bookmark-option", "job-bookmark-enable", "--TempDir", "s3://aws-glue-temp/tmp", "--JOB_ID", "j_1"]
    argv = [str(REPO / "jobs" / f"{job}.py"), "--JOB_NAME", job, "--lake_root", lake_root, *glue]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(argv[0], run_name="__main__")


def test_retail_views_against_the_oracle_then_a_changing_batch_then_dynamodb(
    spark, lake_root, moto, capsys, monkeypatch
):
    rows = retail_rows()
    assert (REPO / "samples" / "retail" / RETAIL_FILE).read_text() == retail_csv(rows)
    first = land(lake_root, events_from_rows(rows, RETAIL_FILE), BATCH_1)
    run_job(lake_root, "raw_events", stream="retail")
    run_script("curated_retail", lake_root, monkeypatch)

    lines, invoices, customers = expected(first)
    for name in (LINES, INVOICES, CUSTOMERS):
        assert read_table(spark, lake_root, name).schema.simpleString() == load_table(name).schema.simpleString()
    assert table_rows(spark, lake_root, LINES, ["invoice_no", "line_no"]) == lines
    assert table_rows(spark, lake_root, INVOICES, ["invoice_no"]) == invoices
    stamp_1 = updated_at(spark, lake_root)
    assert [r[:-1] for r in table_rows(spark, lake_root, CUSTOMERS, ["customer_id"])] == customers
    assert len(set(stamp_1.values())) == 1
    # The sample's quirks reach the tables: each flag is set somewhere, guests are no customers.
    flags = {name: {r[0] for r in lines if r[i]} for i, name in [(13, "write-off"), (14, "zero"), (15, "negative")]}
    assert all(flags.values()), flags
    assert {r[0] for r in lines if r[16]} == {"536385"}  # Unspecified
    assert {r[0] for r in lines if not r[12]} >= {"536368", "A563185"}  # DOT, B are no products
    # Duplicates count once; the PADS line (0.001) is quarantined.
    assert len({(e["invoice_no"], e["line_no"]) for e in first}) - 1 == len(lines) < len(first) - 1
    # The 0.001 price is quarantined with its text, landing file and line, CSV line and a reason naming the column.
    [quarantine] = Path(lake_root, "quarantine", "curated_retail").glob("*.jsonl")
    assert quarantine.name == "batch=0.jsonl"
    [reject] = [json.loads(line) for line in quarantine.read_text().splitlines()]
    pads = next(e for e in first if e["stock_code"] == "PADS")
    assert reject["reason"] == "unit_price: '0.001' cannot be stored exactly as decimal(10,2)" == retail_problem(pads)
    assert (reject["csv_file"], reject["csv_line"], reject["record_id"]) == (
        RETAIL_FILE,
        pads["source_line"],
        pads["record_id"],
    )
    assert json.loads(reject["text"])["unit_price"] == "0.001"
    assert reject["source_file"].startswith("landing/streams/retail/") and reject["line_number"] >= 1

    run_script("load_retail_dynamodb", lake_root, monkeypatch)
    said = capsys.readouterr().out
    assert "DynamoDB table Customers created (on-demand)" in said
    assert f"DynamoDB table Customers: {len(customers)} item(s) written, 0 deleted" in said
    assert f"DynamoDB table Invoices: {len(invoices)} item(s) written, 0 deleted" in said
    assert scan(moto.endpoint, "Customers") == customer_items(customers, stamp_1)
    assert scan(moto.endpoint, "Invoices") == invoice_items(invoices)

    # Batch 2: changes, a retry, moves, new invoices and customers, two events that cannot be stored.
    later, late = second_batch(first)
    second = land(lake_root, later, BATCH_2) + land(lake_root, late, BATCH_1 - timedelta(hours=1))
    run_job(lake_root, "raw_events", stream="retail")
    # Interrupted after the customers' MERGE, before the invoices' (which still name 536403's old customer):
    # the rerun completes the run as if nothing had happened.
    real_write = TableHandle.write

    def interrupted_before_invoices(handle, old_df, new_df, **options):
        if handle.name == INVOICES:
            raise RuntimeError("killed")
        return real_write(handle, old_df, new_df, **options)

    monkeypatch.setattr(TableHandle, "write", interrupted_before_invoices)
    with pytest.raises(RuntimeError, match="killed"):
        run_job(lake_root, "curated_retail")
    monkeypatch.setattr(TableHandle, "write", real_write)
    run_job(lake_root, "curated_retail")
    lines_2, invoices_2, customers_2 = expected(first + second)
    assert table_rows(spark, lake_root, LINES, ["invoice_no", "line_no"]) == lines_2
    assert table_rows(spark, lake_root, INVOICES, ["invoice_no"]) == invoices_2
    assert [r[:-1] for r in table_rows(spark, lake_root, CUSTOMERS, ["customer_id"])] == customers_2
    stamp_2 = updated_at(spark, lake_root)
    changed = {c[0] for c in customers_2 if c not in customers}
    assert changed >= {"14527", "16098", "17850", "12347", "18000"}
    assert "13047" not in {c[0] for c in customers_2} and ("18000", "Korea") in {c[:2] for c in customers_2}
    assert {c for c in stamp_2 if stamp_2[c] != stamp_1.get(c)} == changed
    assert all(stamp_2[c] > max(stamp_1.values()) for c in changed)
    before = {r[:2]: r for r in lines}
    after = {r[:2]: r for r in lines_2}
    assert after[("536367", 1)] == before[("536367", 1)]  # the retry: received_at of its first version too
    assert after[("536372", 1)] == before[("536372", 1)]  # the late event lost
    assert after[("536366", 2)][4] == 100 and after[("536366", 2)][-1] == BATCH_2
    reasons = [json.loads(x)["reason"] for p in Path(lake_root, "quarantine", "curated_retail").glob("*.jsonl")
               for x in p.read_text().splitlines()]  # fmt: skip
    assert sorted(reasons) == [
        "amount: 2147483647 x '5.00' cannot be stored exactly as decimal(12,2)",
        "unit_price: '0.001' cannot be stored exactly as decimal(10,2)",
        "unit_price: '1.005' cannot be stored exactly as decimal(10,2)",
    ]

    # Only what changed goes to DynamoDB: 13047 and the moved invoices' old items are deleted. A first run is
    # killed (kill -9) once it wrote the customers' batch, before its bookmark records it: the rerun writes it again.
    point = "load_retail_dynamodb/dynamodb.after_batch:Customers"
    assert_killed_at(kill_at(lake_root, point), point)
    assert scan(moto.endpoint, "Customers") == customer_items(customers_2, stamp_2)
    assert scan(moto.endpoint, "Invoices") == invoice_items(invoices)
    capsys.readouterr()
    run_job(lake_root, "load_retail_dynamodb")
    said = capsys.readouterr().out
    assert f"DynamoDB table Customers: {len(changed)} item(s) written, 1 deleted" in said
    moved = {("13047", "536403"), ("GUEST", "536370")}
    new_invoices = {
        (i["customer_id"], i["invoice_no"]) for i in invoice_items([r for r in invoices_2 if r not in invoices])
    }
    assert f"DynamoDB table Invoices: {len(new_invoices)} item(s) written, {len(moved)} deleted" in said
    assert scan(moto.endpoint, "Customers") == customer_items(customers_2, stamp_2)
    assert scan(moto.endpoint, "Invoices") == invoice_items(invoices_2)
    # The local secondary index lists a customer's invoices in time order.
    client = boto3.client("dynamodb", endpoint_url=moto.endpoint)
    query = client.query(
        TableName="Invoices",
        IndexName="by_invoiced_at",
        KeyConditionExpression="customer_id = :c",
        ExpressionAttributeValues={":c": {"S": "17850"}},
        ScanIndexForward=False,
    )
    times = [i["invoiced_at"]["S"] for i in query["Items"]]
    assert times == sorted(
        (i["invoiced_at"] for i in invoice_items(invoices_2) if i["customer_id"] == "17850"), reverse=True
    )

    # Nothing new: nothing written, no new version.
    versions = {
        n: RustDeltaTable(load_table(n).location_under(lake_root)).version() for n in (LINES, INVOICES, CUSTOMERS)
    }
    run_job(lake_root, "raw_events", stream="retail")
    run_job(lake_root, "curated_retail")
    run_job(lake_root, "load_retail_dynamodb")
    said = capsys.readouterr().out
    assert "[curated_retail] nothing new since the bookmark (from the lake's state; Spark not started)" in said
    assert "[load_retail_dynamodb] nothing new since the bookmark (from the lake's state; Spark not started)" in said
    assert "item(s) written" not in said
    # Open tables: delta-rs reads the same rows as Spark.
    for name, key in ((LINES, ["invoice_no", "line_no"]), (INVOICES, ["invoice_no"]), (CUSTOMERS, ["customer_id"])):
        rust = RustDeltaTable(load_table(name).location_under(lake_root))
        assert rust.version() == versions[name]
        columns = load_table(name).column_names
        arrow = sorted(tuple(naive(r[c]) for c in columns) for r in rust.to_pyarrow_table().to_pylist())
        assert arrow == sorted(table_rows(spark, lake_root, name, key)), name
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", scan(moto.endpoint, "Customers")[0]["updated_at"])
