"""AWS Lambda entry of the ingest API: the FastAPI app `lake serve` runs, putting to Kinesis, behind API Gateway.

Copied into the Lambda bundle by `make ingest-bundle`. API Gateway checks the caller's API key (and its
usage plan); the app keeps its own x-api-key check, so a request that reached it without going through
a key-checked method is still refused.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

_GATEWAY_KEY = secrets.token_urlsafe(32)  # known to this process only: never leaves it
_handler = None


def _build():
    from mangum import Mangum

    from lakekit.catalog.streams import load_stream
    from lakekit.serve.app import create_app
    from lakekit.serve.stores import KinesisSink

    kinesis_names = json.loads(os.environ["LAKE_KINESIS_STREAMS"])  # {event stream: Kinesis stream name}
    streams = {name: load_stream(name) for name in kinesis_names}
    return Mangum(create_app(streams, KinesisSink(kinesis_names), [_GATEWAY_KEY]), lifespan="off")


def with_gateway_key(event: dict[str, Any]) -> dict[str, Any]:
    """The event with x-api-key set to this process's key when API Gateway has checked the caller's key."""
    if not ((event.get("requestContext") or {}).get("identity") or {}).get("apiKey"):
        return event
    event = dict(event)
    for field, value in (("headers", _GATEWAY_KEY), ("multiValueHeaders", [_GATEWAY_KEY])):
        headers = {k: v for k, v in (event.get(field) or {}).items() if k.lower() != "x-api-key"}
        event[field] = {**headers, "x-api-key": value}
    return event


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _handler
    if _handler is None:
        _handler = _build()
    return _handler(with_gateway_key(event), context)
