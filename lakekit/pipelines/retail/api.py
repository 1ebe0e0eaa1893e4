"""The retail read API on `lake serve`: GET /v1/customers/{customer_id}, a customer and their latest invoices.

Read from the DynamoDB tables load_retail_dynamodb fills: `Customers` (key customer_id) and `Invoices`
(key customer_id + invoice_no, local secondary index by_invoiced_at on customer_id + invoiced_at);
their names the environment's (conf names:, the loader's and the deployment's rule). The client comes from
boto3's standard configuration (AWS_ENDPOINT_URL_DYNAMODB for a local stand-in), made at the first request.

Statuses: 200 {"customer": {...}, "invoices": [latest first]}; 400 a customer id that is not 1 to 12
digits, or `invoices` not a whole number from 1 to 100 (default 10); 401 a missing or wrong x-api-key
(the service's check, as on the ingest route); 404 a customer not in Customers (guests never are);
503 when DynamoDB cannot be read (a missing table, no connection). Money (net_spent, total_amount) is
a JSON string holding the stored decimal exactly, with at least two decimals ("27.50"); counts are JSON
integers; booleans are booleans. A `Server-Timing: dynamodb;dur=MS` header gives the time spent in DynamoDB.
"""

from __future__ import annotations

import re
import threading
import time
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

CUSTOMERS_TABLE, INVOICES_TABLE = "Customers", "Invoices"
BY_INVOICED_AT = "by_invoiced_at"
DEFAULT_INVOICES, MAX_INVOICES = 10, 100
MONEY = frozenset({"net_spent", "total_amount"})
CENTS = Decimal("0.01")
_CUSTOMER_ID = re.compile(r"[0-9]{1,12}")
_COUNT = re.compile(r"-?[0-9]+")


def money(text: str) -> str:
    """A stored amount as text with at least two decimals, exactly (DynamoDB gives 27.50 back as 27.5)."""
    amount = Decimal(text)
    exponent = amount.as_tuple().exponent
    return str(amount.quantize(CENTS)) if isinstance(exponent, int) and exponent > -2 else str(amount)


def plain(item: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A DynamoDB item as JSON values: money as decimal text, other whole numbers as integers, S, BOOL, NULL as is."""
    found: dict[str, Any] = {}
    for name, value in item.items():
        ((kind, data),) = value.items()
        if kind == "N" and name in MONEY:
            found[name] = money(data)
        elif kind == "N":
            found[name] = int(data) if _COUNT.fullmatch(data) else data
        elif kind == "NULL":
            found[name] = None
        else:
            found[name] = data
    return found


def _timing(started: float) -> dict[str, str]:
    """Server-Timing: the time spent waiting on DynamoDB, so a client can tell it from the service's own."""
    return {"Server-Timing": f"dynamodb;dur={(time.perf_counter() - started) * 1000:.1f}"}


def _error(status: int, error: str, started: float | None = None) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers=_timing(started) if started else None)


def customer_router(settings: Any) -> APIRouter:
    """GET /v1/customers/{customer_id} over the environment's tables (settings.names), with one DynamoDB client."""
    from botocore.exceptions import BotoCoreError, ClientError

    customers = settings.names.serving_table(CUSTOMERS_TABLE)
    invoices = settings.names.serving_table(INVOICES_TABLE)
    made: list[Any] = []
    lock = threading.Lock()

    def client():
        # Made at the first request: `lake serve` starts (and ingests) without a region or endpoint set.
        with lock:
            if not made:
                import boto3
                from botocore.config import Config

                config = Config(max_pool_connections=64, retries={"mode": "standard", "max_attempts": 3})
                made.append(boto3.client("dynamodb", config=config))
            return made[0]

    router = APIRouter()

    @router.get("/v1/customers/{customer_id}")
    def get_customer(customer_id: str, request: Request) -> JSONResponse:
        if not _CUSTOMER_ID.fullmatch(customer_id):
            return _error(400, f"customer id {customer_id!r} is not 1 to 12 digits")
        wanted = request.query_params.get("invoices", str(DEFAULT_INVOICES))
        if not re.fullmatch(r"[0-9]{1,3}", wanted) or not 1 <= int(wanted) <= MAX_INVOICES:
            return _error(400, f"invoices must be a whole number from 1 to {MAX_INVOICES}, got {wanted!r}")
        key = {"customer_id": {"S": customer_id}}
        started = time.perf_counter()
        try:
            found = client().get_item(TableName=customers, Key=key)
            if "Item" not in found:
                return _error(404, f"no customer {customer_id}", started)
            latest = client().query(
                TableName=invoices,
                IndexName=BY_INVOICED_AT,
                KeyConditionExpression="customer_id = :customer",
                ExpressionAttributeValues={":customer": key["customer_id"]},
                ScanIndexForward=False,
                Limit=int(wanted),
            )
        except ClientError as error:
            return _error(503, f"DynamoDB: {error.response.get('Error', {}).get('Message') or error}", started)
        except BotoCoreError as error:
            return _error(503, f"DynamoDB: {error}", started)
        answer = {"customer": plain(found["Item"]), "invoices": [plain(i) for i in latest["Items"]]}
        return JSONResponse(answer, headers=_timing(started))

    return router
