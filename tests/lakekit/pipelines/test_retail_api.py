"""GET /v1/customers/{customer_id} on a real `lake serve` (a subprocess) over moto_server's DynamoDB: every status.

The tables are made here with plain boto3, as load_retail_dynamodb's contract has them: Customers (key
customer_id), Invoices (customer_id + invoice_no, local secondary index by_invoiced_at on invoiced_at).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import boto3
import httpx
import pytest

from lakekit.catalog.serving import load_serving_table
from lakekit.core.names import Names
from lakekit.pipelines.retail.api import customer_router
from lakekit.serve.app import create_app
from lakekit.serve.stores import FileSink
from lakekit.sinks.dynamodb import create_table_request
from tests.lakekit.serve.conftest import Served
from tests.servers import MotoServer, free_port

KEY = "lookup-key"


def create_tables(client) -> None:
    """The tables as load_retail_dynamodb creates them: from their declarations in catalog/serving/."""
    for name in ("Customers", "Invoices"):
        client.create_table(**create_table_request(load_serving_table(name)))


def invoice(customer: str, number: str, at: str, total: str, lines: int = 2, cancelled: bool = False) -> dict:
    return {
        "invoice_no": {"S": number},
        "customer_id": {"S": customer},
        "country": {"S": "United Kingdom"},
        "invoiced_at": {"S": at},
        "invoice_date": {"S": at[:10]},
        "is_cancellation": {"BOOL": cancelled},
        "is_adjustment": {"BOOL": False},
        "lines": {"N": str(lines)},
        "total_amount": {"N": total},
    }


# Customer 17850: twelve invoices, one a day in December 2010 (invoice numbers not in time order), one cancelled.
DAYS = [(f"5363{day:02d}", f"2010-12-{day:02d}T08:{day:02d}:00") for day in (3, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12)]


@pytest.fixture(scope="module")
def moto():
    server = MotoServer()
    client = boto3.client("dynamodb", endpoint_url=server.endpoint, **_credentials())
    create_tables(client)
    client.put_item(
        TableName="Customers",
        Item={
            "customer_id": {"S": "17850"},
            "country": {"S": "United Kingdom"},
            "first_invoice_at": {"S": "2010-12-01T08:01:00"},
            "last_invoice_at": {"S": "2010-12-12T08:12:00"},
            "invoices": {"N": "12"},
            "cancellations": {"N": "1"},
            "net_spent": {"N": "5288.63"},
            "updated_at": {"S": "2026-11-30T14:00:00Z"},
        },
    )
    client.put_item(
        TableName="Customers",
        Item={
            "customer_id": {"S": "12583"},
            "country": {"S": "France"},
            "invoices": {"N": "0"},
            "net_spent": {"N": "0"},
        },
    )
    for number, at in DAYS:
        cancelled = number == "536311"
        total = "-27.5" if cancelled else f"{int(number[-2:]) * 10}.1"
        number = ("C" if cancelled else "") + number
        client.put_item(TableName="Invoices", Item=invoice("17850", number, at, total, cancelled=cancelled))
    client.put_item(TableName="Invoices", Item=invoice("GUEST", "536414", "2010-12-01T11:52:00", "0"))
    yield server
    server.stop()


def _credentials() -> dict[str, str]:
    return {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def service(moto, tmp_path_factory):
    """`lake serve` on a free port, its DynamoDB reads going to moto_server through boto3's standard variables."""
    port = free_port()
    env = {**os.environ, **moto.env, "LAKE_API_KEYS": KEY}
    env.pop("AWS_PROFILE", None)
    lake = tmp_path_factory.mktemp("lake")
    lake_cli = Path(sys.executable).with_name("lake")
    process = subprocess.Popen(
        [str(lake_cli), "serve", "--lake-root", str(lake), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/health", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"lake serve did not start: {process.communicate()[0]}") from None
            time.sleep(0.1)
    yield SimpleNamespace(url=url, process=process)
    process.terminate()
    output = process.communicate(timeout=30)[0]
    assert "and GET /v1/customers/{customer_id}" in output, output


def get(service, path: str, key: str | None = KEY) -> httpx.Response:
    return httpx.get(f"{service.url}{path}", headers={"x-api-key": key} if key else {})


def test_a_customer_and_their_latest_invoices_latest_first(service):
    answer = get(service, "/v1/customers/17850?invoices=3")
    assert answer.status_code == 200
    assert re.fullmatch(r"dynamodb;dur=[0-9]+\.[0-9]", answer.headers["server-timing"])
    assert answer.json() == {
        "customer": {
            "customer_id": "17850",
            "country": "United Kingdom",
            "first_invoice_at": "2010-12-01T08:01:00",
            "last_invoice_at": "2010-12-12T08:12:00",
            "invoices": 12,
            "cancellations": 1,
            "net_spent": "5288.63",
            "updated_at": "2026-11-30T14:00:00Z",
        },
        "invoices": [
            {
                "invoice_no": "536312",
                "customer_id": "17850",
                "country": "United Kingdom",
                "invoiced_at": "2010-12-12T08:12:00",
                "invoice_date": "2010-12-12",
                "is_cancellation": False,
                "is_adjustment": False,
                "lines": 2,
                "total_amount": "120.10",
            },
            {
                "invoice_no": "C536311",
                "customer_id": "17850",
                "country": "United Kingdom",
                "invoiced_at": "2010-12-11T08:11:00",
                "invoice_date": "2010-12-11",
                "is_cancellation": True,
                "is_adjustment": False,
                "lines": 2,
                "total_amount": "-27.50",
            },
            {
                "invoice_no": "536310",
                "customer_id": "17850",
                "country": "United Kingdom",
                "invoiced_at": "2010-12-10T08:10:00",
                "invoice_date": "2010-12-10",
                "is_cancellation": False,
                "is_adjustment": False,
                "lines": 2,
                "total_amount": "100.10",
            },
        ],
    }


def test_ten_invoices_by_default_up_to_a_hundred_and_none_for_a_customer_without(service):
    default = [i["invoice_no"] for i in get(service, "/v1/customers/17850").json()["invoices"]]
    assert default == [
        "536312",
        "C536311",
        "536310",
        "536309",
        "536308",
        "536307",
        "536306",
        "536305",
        "536304",
        "536303",
    ]
    every = [i["invoiced_at"][8:10] for i in get(service, "/v1/customers/17850?invoices=100").json()["invoices"]]
    assert every == ["12", "11", "10", "09", "08", "07", "06", "05", "04", "03", "02", "01"]
    assert get(service, "/v1/customers/12583?invoices=1").json() == {
        "customer": {"customer_id": "12583", "country": "France", "invoices": 0, "net_spent": "0.00"},
        "invoices": [],
    }


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/v1/customers/17850x", "customer id '17850x' is not 1 to 12 digits"),
        ("/v1/customers/GUEST", "customer id 'GUEST' is not 1 to 12 digits"),
        ("/v1/customers/1234567890123", "customer id '1234567890123' is not 1 to 12 digits"),
        ("/v1/customers/%C2%B9%C2%B2", "customer id '¹²' is not 1 to 12 digits"),
        ("/v1/customers/17850?invoices=0", "invoices must be a whole number from 1 to 100, got '0'"),
        ("/v1/customers/17850?invoices=101", "invoices must be a whole number from 1 to 100, got '101'"),
        ("/v1/customers/17850?invoices=-1", "invoices must be a whole number from 1 to 100, got '-1'"),
        ("/v1/customers/17850?invoices=ten", "invoices must be a whole number from 1 to 100, got 'ten'"),
    ],
)
def test_a_malformed_id_or_invoice_count_is_a_400(service, path, error):
    answer = get(service, path)
    assert (answer.status_code, answer.json()) == (400, {"error": error})


def test_a_missing_or_wrong_key_is_a_401_before_anything_else(service):
    for key in (None, "wrong"):
        for path in ("/v1/customers/17850", "/v1/customers/GUEST", "/v1/customers/99999"):
            answer = get(service, path, key)
            assert (answer.status_code, answer.json()) == (401, {"error": "missing or wrong x-api-key"})


def test_an_unknown_customer_or_a_guest_is_a_404(service):
    for customer in ("99999", "536414"):
        answer = get(service, f"/v1/customers/{customer}")
        assert (answer.status_code, answer.json()) == (404, {"error": f"no customer {customer}"})


def test_tables_named_by_the_environments_names_and_a_missing_table_is_a_503(moto, tmp_path, monkeypatch):
    for key, value in moto.env.items():
        monkeypatch.setenv(key, value)
    settings = SimpleNamespace(names=Names.from_conf({"fixed": {"serving_table": {"Invoices": "Absent"}}}))
    sink = FileSink(str(tmp_path), ["retail"])
    with Served(create_app({}, sink, [KEY], routers=[customer_router(settings)])) as served:
        answer = get(served, "/v1/customers/17850")
        assert answer.status_code == 503
        assert answer.json()["error"].startswith("DynamoDB: ")
        assert get(served, "/v1/customers/99999").status_code == 404  # Customers is there
    sink.close()
