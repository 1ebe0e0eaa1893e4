"""`lake produce retail --csv FILE` against a real ingest service: what lands, what is refused, what is unreadable."""

from __future__ import annotations

import gzip
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lakekit import cli
from lakekit.catalog.streams import load_stream
from lakekit.serve.app import create_app
from lakekit.serve.stores import FileSink
from tests.lakekit.serve.conftest import KEY, Served

HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"
ROWS = [
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,01-12-2010 08:26,2.55,17850.0,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,six,01-12-2010 08:26,3.39,17850.0,United Kingdom",  # line 3: unreadable
    "C536379,D,Discount,-1,13-12-2010 09:41,27.5,14527.0,United Kingdom",
    # line 5: read, but its stock code is over the stream's 32 characters: the service refuses it
    "536370,THIS STOCK CODE IS FAR TOO LONG FOR THE STREAM,ALARM CLOCK,24,13-12-2010 08:45,3.75,12583,France",
    "536370,22728,CAF\u00c9 ALARM CLOCK BAKELIKE PINK ,24,13-12-2010 08:45,3.75,12583,France",
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,01-12-2010 08:26,2.55,17850.0,United Kingdom",
    "536414,22139,,56,13-12-2010 11:52,0.0,,United Kingdom",
]


def event(line: int, invoice: str, line_no: int, stock: str, description, quantity: int, at: str, price: str,
          customer, country: str) -> dict:  # fmt: skip
    return {
        "invoice_no": invoice,
        "line_no": line_no,
        "stock_code": stock,
        "description": description,
        "quantity": quantity,
        "invoiced_at": at,
        "unit_price": price,
        "customer_id": customer,
        "country": country,
        "source_file": "retail.csv",
        "source_line": line,
    }


def landed(lake_root: Path) -> list[dict]:
    lines = []
    for path in sorted((lake_root / "landing" / "streams" / "retail").glob("*/*/*/*/*.jsonl.gz")):
        lines += [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    return lines


@pytest.fixture
def service(tmp_path):
    sink = FileSink(str(tmp_path / "lake"), ["retail"], roll_bytes=1 << 20, roll_seconds=3600)
    app = create_app({"retail": load_stream("retail")}, sink, [KEY], tick_seconds=0.05)
    with Served(app) as served:
        yield served
    sink.close()


def produce(path: Path, url: str, *extra: str) -> list[str]:
    return ["stream", "produce", "retail", "--csv", str(path), "--url", url, "--api-key", KEY, "--quiet", *extra]


def test_rows_are_posted_in_batches_and_every_unsent_row_is_named_by_line(tmp_path, service, capsys):
    path = tmp_path / "retail.csv"
    path.write_bytes("\n".join([HEADER, *ROWS, ""]).encode("latin-1"))
    assert cli.main(produce(path, service.url, "--batch", "2")) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "retail.csv: 7 row(s), encoding Latin-1 (not UTF-8: byte 0xc9 on line 6)",
        "columns Invoice, Price, Customer ID; dates D-M-YYYY H:MM[:SS] (detected from '13-12-2010 09:41')",
    ]
    assert re.fullmatch(
        r"retail: 7 row\(s\) read, 1 unreadable, 6 sent: 5 accepted, 1 refused, 0 not stored; "
        r"4 request\(s\), 0 retried, [0-9.]+s",
        out[2],
    ), out[2]
    assert out[3:] == [
        "unreadable (not sent):",
        "  line 3: quantity 'six' is not a whole number",
        "refused by the service:",
        "  line 5: event.stock_code must be shorter than or equal to 32 characters",
    ]
    service.__exit__(None, None, None)  # stopping publishes the open landing file
    uk = "United Kingdom"
    assert [event["data"] for event in landed(tmp_path / "lake")] == [
        event(2, "536365", 1, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, "2010-12-01T08:26:00", "2.55",
              "17850", uk),
        event(4, "C536379", 1, "D", "Discount", -1, "2010-12-13T09:41:00", "27.5", "14527", uk),
        # line 5's batch partner, sent again without it
        event(6, "536370", 2, "22728", "CAFÉ ALARM CLOCK BAKELIKE PINK ", 24, "2010-12-13T08:45:00", "3.75", "12583",
              "France"),
        event(7, "536365", 1, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, "2010-12-01T08:26:00", "2.55",
              "17850", uk),
        event(8, "536414", 1, "22139", None, 56, "2010-12-13T11:52:00", "0.0", None, uk),
    ]  # fmt: skip


def test_a_clean_file_exits_0_and_a_file_it_cannot_read_exits_1(tmp_path, service, capsys):
    path = tmp_path / "clean.csv"
    path.write_text("\n".join([HEADER, ROWS[0], ROWS[2], ""]))
    assert cli.main(produce(path, service.url)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2].startswith("retail: 2 row(s) read, 0 unreadable, 2 sent: 2 accepted, 0 refused, 0 not stored; ")
    assert len(out) == 3
    path.write_text("\n".join([HEADER, ROWS[0].replace("01-12-2010", "01-11-2010"), ""]))
    assert cli.main(produce(path, service.url)) == 1
    error = capsys.readouterr().err
    assert error == (
        f"lake: {path}: InvoiceDate is ambiguous: no day above 12 tells D-M from M-D (e.g. '01-11-2010 08:26'); "
        "say which with --date-format, e.g. D-M-YYYY\n"
    )
    assert cli.main([*produce(path, service.url), "--count", "3"]) == 2
    assert "--count and --seed make test events" in capsys.readouterr().err
    assert cli.main(["stream", "produce", "retail", "--url", service.url, "--api-key", KEY]) == 2
    assert capsys.readouterr().err == "lake: stream 'retail' is produced from a file: pass --csv FILE\n"


def test_a_wrong_key_leaves_every_row_not_stored_by_line(tmp_path, service, capsys):
    path = tmp_path / "r.csv"
    path.write_text("\n".join([HEADER, ROWS[0], ROWS[2], ""]))
    assert cli.main([*produce(path, service.url)[:-2], "wrong", "--quiet"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[3:] == [
        "not stored:",
        "  line 2: HTTP 401: missing or wrong x-api-key",
        "  line 3: HTTP 401: missing or wrong x-api-key",
    ]


class Busy(ThreadingHTTPServer):
    """Answers 429, then 503, then 200: what a throttling gateway and a full service say."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _BusyHandler)
        self.answers = [429, 503]
        self.bodies: list[dict] = []


class _BusyHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        status = self.server.answers.pop(0) if self.server.answers else 200
        self.server.bodies.append(body)
        answer = {"accepted": len(body["records"]), "record_ids": ["x"] * len(body["records"])}
        data = json.dumps(answer if status == 200 else {"error": "busy"}).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", "Retry-After": "0", "Content-Length": len(data)}.items():
            self.send_header(key, str(value))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def test_429_and_503_are_retried(tmp_path, capsys):
    server = Busy()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        path = tmp_path / "r.csv"
        path.write_text("\n".join([HEADER, ROWS[0], ROWS[2], ""]))
        assert cli.main(produce(path, f"http://127.0.0.1:{server.server_address[1]}")) == 0
    finally:
        server.shutdown()
        server.server_close()
    assert "2 accepted, 0 refused, 0 not stored; 1 request(s), 2 retried" in capsys.readouterr().out
    assert len(server.bodies) == 3 and server.bodies[0] == server.bodies[2]
