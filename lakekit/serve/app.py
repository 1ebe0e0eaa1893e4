"""The ingest API: POST /v1/streams/{stream}/records, one event or {"records": [...]}, stored before the 200.

Statuses: 200 stored (durably); 400 a body or an event that does not fit (nothing of the request is
stored); 401 a missing or wrong x-api-key; 404 an unknown stream; 413 over PutRecords' limits (500
events, 5 MiB a request, 1 MiB an event); 503 with Retry-After when the sink cannot take more.

Beside it, the read APIs the pipelines declare (routers given to create_app), behind the same x-api-key.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from lakekit.catalog.streams import StreamDef
from lakekit.serve.stores import Record, Sink, SinkFullError

MAX_RECORDS = 500
MAX_REQUEST_BYTES = 5 * 1024 * 1024
MAX_EVENT_BYTES = 1024 * 1024
# The API Gateway -> Kinesis body the seed's producer sends: the event is base64 in Data.
KINESIS_FIELDS = {"StreamName", "PartitionKey", "Data", "ExplicitHashKey"}


@dataclass(frozen=True)
class Limits:
    max_records: int = MAX_RECORDS
    max_request_bytes: int = MAX_REQUEST_BYTES
    max_event_bytes: int = MAX_EVENT_BYTES


class KeyRefusedError(Exception):
    """A request to a read API without a valid x-api-key: answered 401 like the ingest route."""


class RequestError(Exception):
    def __init__(self, status: int, error: str, rejected: list[dict[str, Any]] | None = None):
        super().__init__(error)
        self.status, self.error, self.rejected = status, error, rejected


def _error(status: int, error: str, **extra: Any) -> JSONResponse:
    headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
    return JSONResponse({"error": error, **extra}, status_code=status, headers=headers)


def key_is_valid(given: str | None, keys: tuple[bytes, ...]) -> bool:
    """Compared with every key in constant time (no early exit), so the timing says nothing about a key."""
    if given is None:
        return False
    candidate = given.encode()
    valid = False
    for key in keys:
        valid |= hmac.compare_digest(candidate, key)
    return valid


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"request body of {declared} bytes is over the limit of {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def split_records(body: bytes, limits: Limits) -> list[Any]:
    """The items of a body: one event, or the list under "records" (events or API Gateway Kinesis bodies)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise RequestError(400, f"the body is not JSON: {error}") from None
    if isinstance(document, dict) and set(document) == {"records"}:
        items = document["records"]
        if not isinstance(items, list):
            raise RequestError(400, '"records" must be a list of events')
        if not items:
            raise RequestError(400, '"records" is empty')
        if len(items) > limits.max_records:
            raise RequestError(413, f"{len(items)} records is over the limit of {limits.max_records} a request")
        return items
    return [document]


def is_kinesis_body(item: Any) -> bool:
    return isinstance(item, dict) and "Data" in item and set(item) <= KINESIS_FIELDS


def decode_item(item: Any, limits: Limits) -> tuple[Any, dict[str, str]]:
    """(the event, its producer metadata); a Kinesis body's Data is base64 of the event's JSON."""
    if not is_kinesis_body(item):
        return item, {}
    try:
        data = base64.b64decode(item["Data"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ValueError("Data is not base64") from None
    if len(data) > limits.max_event_bytes:
        raise OverflowError(f"Data of {len(data)} bytes is over the limit of {limits.max_event_bytes} an event")
    try:
        event = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise ValueError(f"Data is not base64 of a JSON event: {error}") from None
    meta = {k: str(item[k]) for k in ("StreamName", "PartitionKey") if item.get(k) is not None}
    return event, meta


def envelope(event: Any, meta: dict[str, str], record_id: str, received_at: str, stream: str) -> bytes:
    stored = {
        "record_id": record_id,
        "received_at": received_at,
        "stream": stream,
        "partition_key": meta.get("PartitionKey"),
        "stream_name": meta.get("StreamName"),
        "data": event,
    }
    # orjson writes a float by its shortest repr, as json does: 57.31 stays 57.31.
    return orjson.dumps(stored, option=orjson.OPT_APPEND_NEWLINE)


def build_records(stream: StreamDef, items: list[Any], limits: Limits) -> tuple[list[Record], list[str]]:
    """The records to store, with their server ids; RequestError 400 (every bad event's reason) or 413."""
    received = datetime.now(UTC)
    received_at = received.isoformat(timespec="microseconds").replace("+00:00", "Z")
    micros = int(received.timestamp() * 1_000_000)
    salt = secrets.token_hex(5)
    records, ids, rejected = [], [], []
    for index, item in enumerate(items):
        try:
            event, meta = decode_item(item, limits)
        except OverflowError as error:
            raise RequestError(413, f"record {index}: {error}") from None
        except ValueError as error:
            rejected.append({"index": index, "reason": str(error)})
            continue
        problem = stream.problem(event)
        if problem:
            rejected.append({"index": index, "reason": problem})
            continue
        # Sortable: receive time, then position in the request; unique across requests by the salt.
        record_id = f"{micros:014x}{index:04x}{salt}"
        line = envelope(event, meta, record_id, received_at, stream.name)
        if len(line) > limits.max_event_bytes:
            raise RequestError(413, f"record {index} is over the limit of {limits.max_event_bytes} bytes an event")
        field = event.get(stream.partition_key) if isinstance(event, dict) and stream.partition_key else None
        key = meta.get("PartitionKey") or (str(field) if field not in (None, "") else record_id)
        records.append(Record(line, key))
        ids.append(record_id)
    if rejected:
        raise RequestError(400, f"{len(rejected)} of {len(items)} event(s) rejected; nothing stored", rejected)
    return records, ids


def create_app(
    streams: dict[str, StreamDef],
    sink: Sink,
    api_keys: list[str],
    limits: Limits | None = None,
    tick_seconds: float = 1.0,
    routers: list[APIRouter] | tuple[APIRouter, ...] = (),
) -> FastAPI:
    """The service: the ingest route of `streams` into `sink`, and `routers` (read APIs) behind the same keys."""
    limits = limits or Limits()
    keys = tuple(k.encode() for k in api_keys if k)
    if not keys:
        raise ValueError("no API key: set LAKE_API_KEYS (comma-separated) or serve.api_keys in the conf")

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        async def roll():
            while True:
                await asyncio.sleep(tick_seconds)
                await run_in_threadpool(sink.tick)

        roller = asyncio.create_task(roll())
        try:
            yield
        finally:
            roller.cancel()
            # SIGTERM (uvicorn's graceful shutdown) ends here: the open files are published.
            sink.close()

    app = FastAPI(title="lake ingest", lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "streams": sorted(streams)}

    @app.post("/v1/streams/{stream}/records")
    async def put_records(stream: str, request: Request):
        if not key_is_valid(request.headers.get("x-api-key"), keys):
            return _error(401, "missing or wrong x-api-key")
        if stream not in streams:
            return _error(404, f"unknown stream {stream!r}; streams: {', '.join(sorted(streams))}")
        try:
            body = await read_body(request, limits.max_request_bytes)
            records, ids = build_records(streams[stream], split_records(body, limits), limits)
        except RequestError as error:
            extra = {"rejected": error.rejected} if error.rejected is not None else {}
            return _error(error.status, error.error, **extra)
        try:
            await run_in_threadpool(sink.put, stream, records)
        except SinkFullError as error:
            return _error(503, str(error), retry_after=error.retry_after)
        return {"accepted": len(ids), "record_ids": ids}

    def require_key(request: Request) -> None:
        if not key_is_valid(request.headers.get("x-api-key"), keys):
            raise KeyRefusedError

    @app.exception_handler(KeyRefusedError)
    async def key_refused(_request: Request, _error_: KeyRefusedError) -> JSONResponse:
        return _error(401, "missing or wrong x-api-key")

    for router in routers:
        app.include_router(router, dependencies=[Depends(require_key)])
    return app
