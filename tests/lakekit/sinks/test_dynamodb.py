"""The DynamoDB sink against botocore's Stubber: batches of 25, UnprocessedItems and throttling retried."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber

from lakekit.catalog.serving import KeyAttribute, LocalIndex, ServingTable, load_serving_table, serving_tables
from lakekit.sinks.dynamodb import (
    BatchWriter,
    Deletion,
    DynamoDBError,
    attribute_value,
    chunks,
    create_table_request,
    ensure_table,
    to_item,
)

ITEMS = ServingTable("items_t", "a test table", KeyAttribute("id", "N"))


@pytest.fixture
def dynamodb():
    client = boto3.client(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def item(number: int) -> dict:
    return {"id": {"N": str(number)}, "name": {"S": f"item {number}"}}


def puts(*numbers: int) -> dict:
    return {"T": [{"PutRequest": {"Item": item(n)}} for n in numbers]}


def test_rows_become_items_without_their_nulls():
    row = {
        "id": 4930328,
        "day": date(2024, 5, 1),
        "at": datetime(2024, 5, 1, 17, 0, 0, 123456),
        "tags": ["Older American", "Servicemember"],
        "empty": [],
        "timely": True,
        "disputed": False,
        "amount": Decimal("12.50"),
        "text": "",
        "gone": None,
    }
    assert to_item(row) == {
        "id": {"N": "4930328"},
        "day": {"S": "2024-05-01"},
        "at": {"S": "2024-05-01T17:00:00.123456"},
        "tags": {"L": [{"S": "Older American"}, {"S": "Servicemember"}]},
        "empty": {"L": []},
        "timely": {"BOOL": True},
        "disputed": {"BOOL": False},
        "amount": {"N": "12.50"},
        "text": {"S": ""},
    }
    with pytest.raises(TypeError, match="no DynamoDB type for dict"):
        attribute_value({"a": 1})


def test_items_go_in_chunks_of_25():
    assert [len(c) for c in chunks(range(60))] == [25, 25, 10]
    assert list(chunks([])) == []
    assert list(chunks(range(25))) == [list(range(25))]


def test_unprocessed_items_and_throttled_requests_are_sent_again_with_backoff(dynamodb):
    client, stubber = dynamodb
    numbers = list(range(1, 26))
    stubber.add_response("batch_write_item", {"UnprocessedItems": puts(3, 7)}, {"RequestItems": puts(*numbers)})
    stubber.add_client_error(
        "batch_write_item",
        service_error_code="ProvisionedThroughputExceededException",
        http_status_code=400,
        expected_params={"RequestItems": puts(3, 7)},
    )
    stubber.add_response("batch_write_item", {"UnprocessedItems": puts(7)}, {"RequestItems": puts(3, 7)})
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": puts(7)})
    waits: list[float] = []
    writer = BatchWriter(client, "T", backoff_seconds=0.5, sleep=waits.append)
    writer.write([item(n) for n in numbers])
    # After progress the wait starts again from the first backoff; throttling without progress doubles it.
    assert waits == [0.5, 1.0, 0.5]
    assert (writer.requests, writer.written) == (4, 25)
    with pytest.raises(ValueError, match="at most 25 items, got 26"):
        writer.write([item(n) for n in range(26)])


def test_a_batch_that_never_goes_through_and_other_errors_are_clear(dynamodb):
    client, stubber = dynamodb
    for _ in range(3):
        stubber.add_response("batch_write_item", {"UnprocessedItems": puts(1)}, {"RequestItems": puts(1)})
    waits: list[float] = []
    writer = BatchWriter(client, "T", attempts=3, backoff_seconds=1, max_wait_seconds=1.5, sleep=waits.append)
    with pytest.raises(DynamoDBError, match=r"T: 1 item\(s\) not written after 3 tries without progress"):
        writer.write([item(1)])
    assert waits == [1, 1.5]
    stubber.add_client_error("batch_write_item", service_error_code="ValidationException", http_status_code=400)
    with pytest.raises(DynamoDBError, match="BatchWriteItem on T failed: .*ValidationException"):
        writer.write([item(1)])


def test_a_missing_table_is_an_error_unless_it_may_be_created(dynamodb):
    client, stubber = dynamodb
    stubber.add_client_error("describe_table", service_error_code="ResourceNotFoundException", http_status_code=400)
    with pytest.raises(
        DynamoDBError, match="DynamoDB table items_t does not exist in eu-west-1 .the deployment creates it"
    ):
        ensure_table(client, ITEMS, create=False)

    stubber.add_response(
        "describe_table", {"Table": {"TableName": "items_t", "TableStatus": "ACTIVE"}}, {"TableName": "items_t"}
    )
    assert ensure_table(client, ITEMS, create=False) is False

    stubber.add_client_error("describe_table", service_error_code="ResourceNotFoundException", http_status_code=400)
    stubber.add_response(
        "create_table",
        {"TableDescription": {"TableName": "items_t", "TableStatus": "CREATING"}},
        {
            "TableName": "items_t",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "N"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    stubber.add_response(
        "describe_table", {"Table": {"TableName": "items_t", "TableStatus": "ACTIVE"}}, {"TableName": "items_t"}
    )
    assert ensure_table(client, ITEMS, create=True) is True


def test_a_declared_table_is_created_with_its_sort_key_and_local_index():
    assert create_table_request(load_serving_table("Invoices"), "Invoices_test") == {
        "TableName": "Invoices_test",
        "KeySchema": [
            {"AttributeName": "customer_id", "KeyType": "HASH"},
            {"AttributeName": "invoice_no", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "customer_id", "AttributeType": "S"},
            {"AttributeName": "invoice_no", "AttributeType": "S"},
            {"AttributeName": "invoiced_at", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "LocalSecondaryIndexes": [
            {
                "IndexName": "by_invoiced_at",
                "KeySchema": [
                    {"AttributeName": "customer_id", "KeyType": "HASH"},
                    {"AttributeName": "invoiced_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }
    assert load_serving_table("Invoices").local_secondary_indexes == (
        LocalIndex("by_invoiced_at", KeyAttribute("invoiced_at", "S"), "ALL"),
    )
    assert [t.name for t in serving_tables()] == ["Customers", "Invoices", "consumer_complaints"]


def test_deletions_and_puts_go_in_one_batch(dynamodb):
    client, stubber = dynamodb
    requests = [{"PutRequest": {"Item": item(1)}}, {"DeleteRequest": {"Key": {"id": {"N": "2"}}}}]
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {"T": requests}})
    writer = BatchWriter(client, "T")
    writer.write([item(1), Deletion({"id": {"N": "2"}})])
    assert (writer.written, writer.requests) == (2, 1)
