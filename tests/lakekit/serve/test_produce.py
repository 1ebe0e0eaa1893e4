"""`lake produce`: seed-shaped events posted in batches, the same events for the same seed, a summary."""

from __future__ import annotations

import re

from lakekit import cli
from lakekit.serve.stores import FileSink
from tests.lakekit.serve.conftest import KEY
from tests.lakekit.serve.test_app import landed


def produce(url: str, *extra: str) -> list[str]:
    return ["stream", "produce", "orders", "--url", url, "--count", "250", "--batch", "100", "--quiet", *extra]


def test_produce_posts_reproducible_batches_and_sums_them_up(tmp_path, serve, capsys):
    first, second = FileSink(str(tmp_path / "a"), ["orders"]), FileSink(str(tmp_path / "b"), ["orders"])
    url_a, url_b = serve(first).url, serve(second).url
    assert cli.main(produce(url_a, "--api-key", KEY, "--seed", "3", "--concurrency", "2")) == 0
    summary = capsys.readouterr().out.splitlines()[0]
    assert re.fullmatch(
        r"orders: 250 accepted, 0 rejected, 0 failed of 250 event\(s\) in 3 request\(s\), 0 retried; "
        r"[0-9.]+s, [0-9]+ events/s, p50 [0-9]+ ms, p99 [0-9]+ ms",
        summary,
    ), summary
    assert cli.main(produce(url_b, "--api-key", KEY, "--seed", "3")) == 0
    first.close(), second.close()
    events_a = sorted((e["data"]["order_id"], e["data"]["order_date"]) for e in landed(tmp_path / "a"))
    events_b = sorted((e["data"]["order_id"], e["data"]["order_date"]) for e in landed(tmp_path / "b"))
    assert len(events_a) == 250 and events_a == events_b


def test_produce_reports_what_the_service_refused_and_fails(tmp_path, serve, capsys):
    served = serve(FileSink(str(tmp_path), ["orders"]))
    assert cli.main(produce(served.url, "--api-key", "wrong")) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("orders: 0 accepted, 0 rejected, 250 failed of 250 event(s) in 3 request(s), 0 retried;")
    assert out[1] == "  HTTP 401: missing or wrong x-api-key"
