"""`lake serve --sink kinesis`: events put on a Kinesis stream (moto's server), failed records retried, a 503
when Kinesis keeps refusing them."""

from __future__ import annotations

import base64
import json

import boto3
import httpx
import pytest

from lakekit.serve.stores import KinesisSink
from tests.lakekit.serve.conftest import post
from tests.lakekit.serve.test_app import EVENT, event


@pytest.fixture
def kinesis(monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for key, value in {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    httpx.post(f"http://{host}:{port}/moto-api/reset")  # moto's state is per process, not per server
    client = boto3.client("kinesis")
    client.create_stream(StreamName="lake-orders", ShardCount=1)
    yield client
    server.stop()


def stream_records(client) -> list[tuple[str, dict]]:
    """(partition key, stored event) of every record on the stream, in order."""
    shard = client.list_shards(StreamName="lake-orders")["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamName="lake-orders", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = client.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return [(r["PartitionKey"], json.loads(r["Data"])) for r in records]


class Throttled:
    """Kinesis as it answers under load: the first `refusals` records of each call fail (and are not stored)."""

    def __init__(self, client, refusals: int, calls: int):
        self.client, self.refusals, self.calls_left = client, refusals, calls
        self.exceptions = client.exceptions
        self.calls: list[int] = []

    def put_records(self, StreamName, Records):  # noqa: N803 - boto3's names
        self.calls.append(len(Records))
        refused = min(self.refusals, len(Records)) if self.calls_left > 0 else 0
        self.calls_left -= 1
        stored = (
            self.client.put_records(StreamName=StreamName, Records=Records[refused:])["Records"]
            if Records[refused:]
            else []
        )
        failure = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"}
        return {"FailedRecordCount": refused, "Records": [failure] * refused + stored}


def test_events_go_on_the_kinesis_stream_with_their_envelope(kinesis, serve):
    served = serve(KinesisSink({"orders": "lake-orders"}, client=kinesis))
    body = {
        "StreamName": "ingestion-dev",
        "PartitionKey": "pk-1",
        "Data": base64.b64encode(json.dumps(EVENT).encode()).decode(),
    }
    first = post(served.url, body)
    second = post(served.url, {"records": [event(order_id="o2"), event(order_id="o3", customer_id="user7")]})
    assert first.status_code == 200 and second.status_code == 200
    ids = first.json()["record_ids"] + second.json()["record_ids"]
    records = stream_records(kinesis)
    assert [(key, stored["record_id"], stored["data"]) for key, stored in records] == [
        ("pk-1", ids[0], EVENT),  # the producer's partition key
        ("user3542", ids[1], event(order_id="o2")),  # else the stream's partition_key field
        ("user7", ids[2], event(order_id="o3", customer_id="user7")),
    ]
    assert records[0][1]["stream_name"] == "ingestion-dev"


def test_records_kinesis_failed_are_retried_and_only_they(kinesis, serve):
    throttled = Throttled(kinesis, refusals=2, calls=2)
    served = serve(KinesisSink({"orders": "lake-orders"}, client=throttled, backoff_seconds=0.01))
    response = post(served.url, {"records": [event(order_id=f"o{n}") for n in range(5)]})
    assert response.status_code == 200
    assert throttled.calls == [5, 2, 2]  # 2 refused, again 2 refused, then both stored
    assert sorted(stored["data"]["order_id"] for _, stored in stream_records(kinesis)) == [f"o{n}" for n in range(5)]


def test_a_503_when_kinesis_keeps_refusing(kinesis, serve):
    throttled = Throttled(kinesis, refusals=1, calls=100)
    served = serve(KinesisSink({"orders": "lake-orders"}, client=throttled, attempts=3, backoff_seconds=0.01))
    response = post(served.url, {"records": [event(order_id="o1"), event(order_id="o2")]})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.json() == {"error": "Kinesis refused 1 record(s) after 3 tries"}
    assert throttled.calls == [2, 1, 1]
