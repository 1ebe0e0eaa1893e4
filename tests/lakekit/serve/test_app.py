"""The ingest API's contract on a real server: every status, what a 200 stores, the API Gateway body form."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakekit.serve.stores import FileSink
from tests.lakekit.serve.conftest import post

EVENT = {
    "customer_id": "user3542",
    "order_id": "o04217",
    "order_date": "2024-06-14T09:31:07.512845Z",
    "status": "pending",
    "shipping_address": {
        "street": "481 Maple Court Apt. 12",
        "city": "Port Jessica",
        "state": "Ohio",
        "zip": "07344",
        "country": "Lithuania",
    },
    "purchaise_details": {"payment_type": "credit_card", "amount": 57.31, "currency": "USD", "instalments": 3},
    "product_details": [
        {"product_id": "p084113", "name": "window", "quantity": 2, "item_details": {"color": "SlateBlue", "size": "M"}},
        {"product_id": "p00912", "name": "garden", "quantity": 1, "item_details": {"color": "Ivory", "size": "XXL"}},
    ],
}


def event(**changes) -> dict:
    changed = copy.deepcopy(EVENT)
    changed.update(changes)
    return changed


def landed(lake_root: Path) -> list[dict]:
    """Every event line of the published landing files, in file and line order."""
    lines = []
    for path in sorted((lake_root / "landing" / "streams" / "orders").glob("*/*/*/*/*.jsonl.gz")):
        lines += [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    return lines


@pytest.fixture
def sink(tmp_path):
    return FileSink(str(tmp_path), ["orders"], roll_bytes=1 << 20, roll_seconds=3600)


def test_a_200_stores_each_event_with_a_server_id_and_receive_time(tmp_path, sink, serve):
    served = serve(sink)
    before = datetime.now(UTC)
    one = post(served.url, EVENT)
    batch = post(served.url, {"records": [event(order_id="o1"), event(order_id="o2", status="shipped")]})
    after = datetime.now(UTC)
    assert one.status_code == 200 and batch.status_code == 200
    assert one.json()["accepted"] == 1 and batch.json()["accepted"] == 2
    ids = one.json()["record_ids"] + batch.json()["record_ids"]
    assert len(set(ids)) == 3 and ids == sorted(ids)  # sortable: receive time, then position
    sink.close()
    stored = landed(tmp_path)
    for line in stored:
        received = datetime.fromisoformat(line.pop("received_at"))
        assert before - timedelta(seconds=1) <= received <= after
    expected_meta = {"stream": "orders", "partition_key": None, "stream_name": None}
    assert stored == [
        {"record_id": ids[0], **expected_meta, "data": EVENT},
        {"record_id": ids[1], **expected_meta, "data": event(order_id="o1")},
        {"record_id": ids[2], **expected_meta, "data": event(order_id="o2", status="shipped")},
    ]
    # Kept as sent: the zip's leading zero, the amount's two decimals.
    assert '"zip":"07344"' in gzip.decompress(next(tmp_path.rglob("*.jsonl.gz")).read_bytes()).decode()


def test_the_api_gateway_kinesis_body_of_the_seed_producer_is_accepted(tmp_path, sink, serve):
    served = serve(sink)
    body = {
        "StreamName": "ingestion-dev",
        "PartitionKey": "test-partition-01",
        "Data": base64.b64encode(json.dumps(EVENT).encode()).decode(),
    }
    response = post(served.url, body)
    assert response.status_code == 200, response.text
    sink.close()
    [stored] = landed(tmp_path)
    assert (stored["partition_key"], stored["stream_name"], stored["data"]) == (
        "test-partition-01",
        "ingestion-dev",
        EVENT,
    )


def test_a_400_gives_one_reason_per_bad_event_and_stores_nothing(tmp_path, sink, serve):
    served = serve(sink)
    no_payment = event()
    del no_payment["purchaise_details"]
    bad_quantity = event(product_details=[{"product_id": "p1", "name": "x", "quantity": "2"}])
    three_decimals = event(purchase_details={"payment_type": "cash", "amount": 1.005, "currency": "USD"})
    del three_decimals["purchaise_details"]
    bad_base64 = {"StreamName": "s", "PartitionKey": "k", "Data": "not base64!"}
    response = post(served.url, {"records": [EVENT, no_payment, bad_quantity, three_decimals, bad_base64]})
    assert response.status_code == 400
    assert response.json() == {
        "error": "4 of 5 event(s) rejected; nothing stored",
        "rejected": [
            {
                "index": 1,
                "reason": "event must be valid exactly by one definition (0 matches found) (exactly one payment "
                "block: purchaise_details (the source's spelling) or purchase_details)",
            },
            {"index": 2, "reason": "event.product_details[0].quantity must be integer"},
            {
                "index": 3,
                "reason": "event.purchase_details.amount must be money: at most two decimals and under 10^10, "
                "got 1.005",
            },
            {"index": 4, "reason": "Data is not base64"},
        ],
    }
    for raw in (b"{not json", b""):
        answer = post(served.url, None, raw=raw)
        assert answer.status_code == 400 and answer.json()["error"].startswith("the body is not JSON")
    assert post(served.url, {"records": []}).json() == {"error": '"records" is empty'}
    sink.close()
    assert landed(tmp_path) == []


def test_a_401_for_a_missing_or_wrong_key_before_anything_else(sink, serve):
    served = serve(sink)
    for key in (None, "", "test-key", "test-key-1x", "TEST-KEY-1"):
        response = post(served.url, EVENT, key=key)
        assert (response.status_code, response.json()) == (401, {"error": "missing or wrong x-api-key"})
    assert post(served.url, EVENT, key="wrong", stream="nope").status_code == 401
    assert post(served.url, EVENT, key="test-key-2").status_code == 200  # every configured key works


def test_a_404_for_an_unknown_stream(sink, serve):
    served = serve(sink)
    response = post(served.url, EVENT, stream="retail")
    assert (response.status_code, response.json()) == (404, {"error": "unknown stream 'retail'; streams: orders"})


def test_a_413_over_500_events_or_5_mib(tmp_path, sink, serve):
    served = serve(sink)
    assert post(served.url, {"records": [EVENT] * 500}).status_code == 200
    over = post(served.url, {"records": [EVENT] * 501})
    assert (over.status_code, over.json()) == (413, {"error": "501 records is over the limit of 500 a request"})
    padded = event(status="x" * (5 * 1024 * 1024))
    big = post(served.url, padded)
    assert big.status_code == 413 and "over the limit of 5242880" in big.json()["error"]
    sink.close()
    assert len(landed(tmp_path)) == 500


def test_a_503_with_retry_after_when_the_sink_cannot_take_more(tmp_path, serve):
    full = FileSink(str(tmp_path), ["orders"], min_free_bytes=10**18)  # the disk is never that free
    served = serve(full)
    response = post(served.url, EVENT)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert response.json()["error"].startswith("less than 1000000000000000000 bytes free under")
    full.close()
    assert landed(tmp_path) == []


def test_files_roll_by_size_and_age_into_firehose_names(tmp_path, serve):
    small = FileSink(str(tmp_path), ["orders"], roll_bytes=200, roll_seconds=0.2)
    served = serve(small)
    for number in range(3):  # each request's gzip member is over 200 bytes: one file each
        assert post(served.url, {"records": [event(order_id=f"o{number}{i}") for i in range(3)]}).status_code == 200
    files = sorted((tmp_path / "landing" / "streams" / "orders").glob("*/*/*/*/*.jsonl.gz"))
    assert len(files) == 3
    assert post(served.url, event(order_id="late")).status_code == 200
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while len(landed(tmp_path)) < 10 and datetime.now(UTC) < deadline:  # published by age, without shutdown
        time.sleep(0.05)
    expected = {f"o{number}{i}" for number in range(3) for i in range(3)} | {"late"}
    assert sorted(e["data"]["order_id"] for e in landed(tmp_path)) == sorted(expected)
    for path in files:
        relative = path.relative_to(tmp_path / "landing" / "streams" / "orders").as_posix()
        assert relative.startswith(datetime.now(UTC).strftime("%Y/%m/%d/"))
        year, month, day, hour, name = relative.split("/")
        assert name.startswith(f"orders-1-{year}-{month}-{day}-{hour}-") and len(name) == len(
            "orders-1-2026-11-30-11-20-08-45a6c137-4d21-4253-9ef5-4baacdd0b7a9.jsonl.gz"
        )
    assert not list((tmp_path / "landing" / "streams" / "orders" / "_open").iterdir())
