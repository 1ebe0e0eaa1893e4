"""The ingest Lambda as it is shipped: `make ingest-bundle`'s folder alone on the path (no source tree, no venv),
its handler given API Gateway proxy events, its records put on Kinesis (a moto server)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.cloud import aws_env, moto_server
from tests.iam_recording import check_recording

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "dist" / "ingest-lambda"
KINESIS_NAME = "lake-orders-test"

# Runs in a fresh interpreter that sees only the bundle, as Lambda's Python 3.11 runtime does: -I ignores the
# environment's PYTHON* variables and the user's site, -S the venv's site-packages.
INVOKE = """
import json, sys
sys.path[:0] = [sys.argv[1]]
import ingest_handler
for event in json.load(sys.stdin):
    print(json.dumps(ingest_handler.handler(event, None)))
"""

ORDER = {
    "customer_id": "user7",
    "order_id": "o42",
    "order_date": "2024-06-14T09:31:07.512845Z",
    "status": "pending",
    "shipping_address": {"street": "1 Elm St", "city": "Holtsville", "state": "NY", "zip": "00501", "country": "US"},
    "purchaise_details": {"payment_type": "paypal", "amount": 57.31, "currency": "USD", "instalments": 3},
    "product_details": [{"product_id": "p1", "name": "lamp", "quantity": 2}],
}


def proxy_event(body: dict, gateway_key: str | None, header_key: str | None = None) -> dict:
    """An API Gateway REST API (v1) proxy event for POST /v1/streams/orders/records."""
    headers = {"Content-Type": "application/json", "Host": "abc.execute-api.eu-west-1.amazonaws.com"}
    if header_key is not None:
        headers["x-api-key"] = header_key
    return {
        "resource": "/v1/streams/{stream}/records",
        "path": "/v1/streams/orders/records",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"stream": "orders"},
        "requestContext": {
            "resourcePath": "/v1/streams/{stream}/records",
            "httpMethod": "POST",
            "path": "/prod/v1/streams/orders/records",
            "stage": "prod",
            "identity": {"apiKey": gateway_key, "sourceIp": "203.0.113.9"},
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


@pytest.fixture
def moto():
    """moto behind the recording layer of the cloud tests: every request the function makes is checked against
    deploy/iam/calls.jsonl, which tests/deploy/test_iam.py evaluates against the function's role."""
    yield from moto_server()


def test_the_bundled_handler_puts_gateway_checked_events_on_kinesis_and_refuses_the_rest(moto):
    if not (BUNDLE / "ingest_handler.py").exists():
        pytest.fail("dist/ingest-lambda is missing: run `make ingest-bundle` (make deploy-check does)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(aws_env(moto.endpoint), LAKE_KINESIS_STREAMS=json.dumps({"orders": KINESIS_NAME}))
    env["AWS_ACCESS_KEY_ID"] = "lambda.ingest"  # its requests are the ingest function role's (deploy/iam)
    kinesis = boto3.client(
        "kinesis",
        endpoint_url=moto.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    kinesis.create_stream(StreamName=KINESIS_NAME, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=KINESIS_NAME)
    seed_body = {
        "StreamName": "ingestion-dev",
        "PartitionKey": "pk-1",
        "Data": base64.b64encode(json.dumps(ORDER).encode()).decode(),
    }
    events = [
        proxy_event({"records": [ORDER, {**ORDER, "order_id": "o43"}]}, gateway_key="caller-key"),
        proxy_event(seed_body, gateway_key="caller-key"),  # the seed's producer's body, unchanged
        proxy_event({**ORDER, "status": None}, gateway_key="caller-key"),  # fails the stream's schema
        proxy_event(ORDER, gateway_key=None, header_key="a-guess"),  # did not pass API Gateway's key check
    ]
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", INVOKE, str(BUNDLE)],
        input=json.dumps(events),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["statusCode"] for a in answers] == [200, 200, 400, 401]
    first, second = (json.loads(a["body"]) for a in answers[:2])
    assert first["accepted"] == 2 and second["accepted"] == 1
    assert "status" in answers[2]["body"]

    shard = kinesis.list_shards(StreamName=KINESIS_NAME)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=KINESIS_NAME, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    stored = [json.loads(r["Data"]) for r in records]
    assert [s["record_id"] for s in stored] == first["record_ids"] + second["record_ids"]
    assert [s["data"]["order_id"] for s in stored] == ["o42", "o43", "o42"]
    assert all(s["data"] == {**ORDER, "order_id": s["data"]["order_id"]} for s in stored)
    assert [(s["partition_key"], s["stream_name"]) for s in stored] == [
        (None, None),
        (None, None),
        ("pk-1", "ingestion-dev"),
    ]
    assert [r["PartitionKey"] for r in records] == ["user7", "user7", "pk-1"]
    check_recording(moto.requests, aliases={f"stream/{KINESIS_NAME}": "stream/{kinesis:orders}"})
