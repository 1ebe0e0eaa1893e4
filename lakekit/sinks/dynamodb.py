"""DynamoDB tables as a sink: items from rows, BatchWriteItem in chunks of 25, retried until every item is written.

The client comes from boto3's standard configuration (region, credentials, AWS_ENDPOINT_URL_DYNAMODB or
AWS_ENDPOINT_URL for a local stand-in): nothing project-specific.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lakekit.catalog.serving import ServingTable

BATCH_SIZE = 25  # BatchWriteItem's limit
THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


class DynamoDBError(RuntimeError):
    """The table is missing or a write could not be completed; the message says which and why."""


def client():
    import boto3

    return boto3.client("dynamodb")


def attribute_value(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value: text S, bool BOOL, numbers N, dates YYYY-MM-DD, lists L."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": repr(value)}
    if isinstance(value, datetime):
        return {"S": value.isoformat()}
    if isinstance(value, date):
        return {"S": value.isoformat()}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list | tuple):
        return {"L": [attribute_value(v) for v in value if v is not None]}
    raise TypeError(f"no DynamoDB type for {type(value).__name__} {value!r}")


def to_item(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A row as a DynamoDB item: every attribute that is not null."""
    return {name: attribute_value(value) for name, value in row.items() if value is not None}


def chunks(items: Iterable[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def create_table_request(table: ServingTable, name: str | None = None) -> dict[str, Any]:
    """CreateTable's arguments for a declared serving table (on-demand), under `name` if given."""
    key_schema = [{"AttributeName": table.partition_key.name, "KeyType": "HASH"}]
    if table.sort_key is not None:
        key_schema.append({"AttributeName": table.sort_key.name, "KeyType": "RANGE"})
    request: dict[str, Any] = {
        "TableName": name or table.name,
        "KeySchema": key_schema,
        "AttributeDefinitions": [{"AttributeName": a.name, "AttributeType": a.type} for a in table.attributes],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.local_secondary_indexes:
        request["LocalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": table.partition_key.name, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key.name, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": index.projection},
            }
            for index in table.local_secondary_indexes
        ]
    return request


def ensure_table(dynamodb, table: ServingTable, create: bool, name: str | None = None) -> bool:
    """Whether the table exists; with `create`, make it from its declaration (on-demand) when it does not.

    `name` overrides the declared name (same keys and indexes). Returns True when it created the table.
    Without `create` a missing table is a DynamoDBError.
    """
    name = name or table.name
    try:
        dynamodb.describe_table(TableName=name)
        return False
    except dynamodb.exceptions.ResourceNotFoundException:
        if not create:
            raise DynamoDBError(
                f"DynamoDB table {name} does not exist in {dynamodb.meta.region_name} "
                "(the deployment creates it; only a local run creates it itself)"
            ) from None
    dynamodb.create_table(**create_table_request(table, name))
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return True


@dataclass(frozen=True)
class Deletion:
    """An item to delete, by its key (attribute-value form), in a batch written by BatchWriter."""

    key: dict[str, dict[str, Any]]


class BatchWriter:
    """Writes items to one table with BatchWriteItem, at most 25 a request.

    Items DynamoDB returns as UnprocessedItems, and whole requests refused for throttling, are sent
    again after an exponential backoff (`backoff_seconds`, doubled each time up to `max_wait_seconds`);
    after `attempts` tries without progress the write fails with a DynamoDBError.
    """

    def __init__(
        self,
        dynamodb,
        table: str,
        attempts: int = 12,
        backoff_seconds: float = 0.05,
        max_wait_seconds: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.dynamodb = dynamodb
        self.table = table
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.max_wait_seconds = max_wait_seconds
        self.sleep = sleep
        self.requests = 0  # BatchWriteItem calls made
        self.written = 0  # items written

    def _wait(self, failed_tries: int) -> None:
        self.sleep(min(self.max_wait_seconds, self.backoff_seconds * 2 ** (failed_tries - 1)))

    def write(self, items: list[dict[str, dict[str, Any]] | Deletion]) -> None:
        """Write up to 25 items (in DynamoDB's attribute-value form) or Deletions; returns once all are done.

        A batch may not name one key twice (BatchWriteItem refuses it).
        """
        if len(items) > BATCH_SIZE:
            raise ValueError(f"a batch holds at most {BATCH_SIZE} items, got {len(items)}")
        from botocore.exceptions import ClientError

        requests = [
            {"DeleteRequest": {"Key": item.key}} if isinstance(item, Deletion) else {"PutRequest": {"Item": item}}
            for item in items
        ]
        failed_tries = 0
        while requests:
            self.requests += 1
            try:
                reply = self.dynamodb.batch_write_item(RequestItems={self.table: requests})
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if code not in THROTTLED:
                    raise DynamoDBError(f"BatchWriteItem on {self.table} failed: {error}") from None
                failed_tries += 1
                last = f"throttled ({code})"
            else:
                left = (reply.get("UnprocessedItems") or {}).get(self.table, [])
                self.written += len(requests) - len(left)
                failed_tries = 0 if len(left) < len(requests) else failed_tries + 1
                requests = left
                last = f"{len(left)} item(s) left unprocessed"
                if not requests:
                    return
                failed_tries = max(failed_tries, 1)
            if failed_tries >= self.attempts:
                raise DynamoDBError(
                    f"BatchWriteItem on {self.table}: {len(requests)} item(s) not written after {failed_tries} "
                    f"tries without progress; last: {last}"
                )
            self._wait(failed_tries)
