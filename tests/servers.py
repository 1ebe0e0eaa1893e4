"""Local stand-ins the tests start: a CFPB-shaped complaint search API, and moto_server for DynamoDB."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def complaint(complaint_id: int | None, received: str, **fields) -> dict:
    """A hit's `_source` as the API sends it (values modelled on recorded responses)."""
    source = {
        "product": "Debt collection",
        "complaint_what_happened": "",
        "date_sent_to_company": f"{received}T12:00:00-05:00",
        "issue": "Attempts to collect debt not owed",
        "sub_product": "Other debt",
        "zip_code": "80118",
        "tags": None,
        "has_narrative": False,
        "complaint_id": None if complaint_id is None else str(complaint_id),
        "timely": "Yes",
        "consumer_consent_provided": None,
        "company_response": "Closed with explanation",
        "submitted_via": "Web",
        "company": "Rowland Avenue Management, Inc.",
        "date_received": f"{received}T12:00:00-05:00",
        "state": "CO",
        "consumer_disputed": "N/A",
        "company_public_response": None,
        "sub_issue": "Debt is not yours",
    }
    source.update(fields)
    return {k: v for k, v in source.items() if v is not ...}  # `...` leaves a field out, as the 2026 API does


def _sort_key(source: dict, doc_id: str) -> tuple[int, str]:
    day = date.fromisoformat(str(source.get("date_received") or "1970-01-01")[:10])
    # date_received is noon US Eastern (UTC-5) of its day: the API's sort value is that instant in ms.
    return int(datetime(day.year, day.month, day.day, 17, tzinfo=UTC).timestamp() * 1000), doc_id


class CfpbApi(ThreadingHTTPServer):
    """The search endpoint over `complaints` (hit `_source`s): date_received_min/max (inclusive days),
    sort=created_date_asc, size, frm and search_after=<ms>_<id>, hits.total as {value, relation}.

    Scripted replies (status, body, headers) are served first, one a request, before any real page;
    `bodies` replaces the body of the n-th request (from 1). Every request's parameters are recorded.
    """

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _CfpbHandler)
        self.complaints: list[dict] = []
        self.scripted: list[tuple[int, bytes, dict]] = []
        self.bodies: dict[int, bytes] = {}
        self.requests: list[dict[str, str]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/data-research/consumer-complaints/search/api/v1/"

    def handle_error(self, request, client_address) -> None:  # a client that hung up: fine
        pass

    def page(self, params: dict[str, str]) -> dict:
        low, high = params.get("date_received_min"), params.get("date_received_max")
        assert params.get("sort") == "created_date_asc", params
        size, frm = int(params["size"]), int(params.get("frm", 0))
        assert 0 <= frm <= 10_000 and frm % size == 0, params
        matches = []
        for source in self.complaints:
            day = str(source.get("date_received") or "")[:10]
            if (not low or day >= low) and (not high or day <= high):
                doc_id = source.get("complaint_id") or f"x{id(source)}"
                matches.append((_sort_key(source, doc_id), doc_id, source))
        matches.sort(key=lambda m: m[0])
        if params.get("search_after"):
            ms, _, doc_id = params["search_after"].partition("_")
            matches_after = [m for m in matches if m[0] > (int(ms), doc_id)]
        else:
            matches_after = matches
        window = matches_after[frm : frm + size]
        hits = [
            {"_index": "complaint-public-v2", "_id": d, "_score": None, "_source": s, "sort": [k[0], k[1]]}
            for k, d, s in window
        ]
        return {
            "took": 3,
            "timed_out": False,
            "hits": {"total": {"value": len(matches), "relation": "eq"}, "max_score": None, "hits": hits},
            "_meta": {"license": "CC0", "total_record_count": len(self.complaints), "break_points": {}},
        }


class _CfpbHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: CfpbApi = self.server
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        with server.lock:
            server.requests.append(params)
            number = len(server.requests)
            scripted = server.scripted.pop(0) if server.scripted else None
        if scripted is not None:
            status, body, headers = scripted
        else:
            status, headers = 200, {}
            body = server.bodies.get(number) or json.dumps(server.page(params)).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def start_cfpb_api() -> CfpbApi:
    server = CfpbApi()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def stop(server: CfpbApi) -> None:
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MotoServer:
    """`moto_server` in its own process on a free local port; `env` points boto3 at it (standard variables)."""

    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        moto = Path(sys.executable).with_name("moto_server")
        self.process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start on port {self.port}") from None
                time.sleep(0.1)

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL_DYNAMODB": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def scan_items(endpoint: str, table: str) -> list[dict]:
    """Every item of a DynamoDB table (attribute-value form), by complaint id."""
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    items = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        items += page["Items"]
    return sorted(items, key=lambda item: int(item["complaint_id"]["N"]))
