"""A real ingest service on 127.0.0.1: uvicorn in a thread of this process, on a free port."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from lakekit.catalog.streams import load_stream
from lakekit.serve.app import Limits, create_app

KEY = "test-key-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    def __init__(self, app):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the ingest service did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def serve():
    """serve(sink, limits=None) -> a running service (stopped, and its sink closed, after the test)."""
    running = []

    def start(sink, limits: Limits | None = None, keys=(KEY, "test-key-2")):
        app = create_app({"orders": load_stream("orders")}, sink, list(keys), limits, tick_seconds=0.05)
        running.append(Served(app).__enter__())
        return running[-1]

    yield start
    for served in running:
        served.__exit__(None, None, None)


def post(url: str, body, key: str | None = KEY, stream: str = "orders", raw: bytes | None = None) -> httpx.Response:
    headers = {"x-api-key": key} if key is not None else {}
    target = f"{url}/v1/streams/{stream}/records"
    if raw is not None:
        return httpx.post(target, content=raw, headers={**headers, "content-type": "application/json"})
    return httpx.post(target, json=body, headers=headers)
