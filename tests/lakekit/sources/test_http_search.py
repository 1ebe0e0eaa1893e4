"""search_after paging of an OpenSearch-shaped API, against a local CFPB-shaped server."""

from __future__ import annotations

import json

import pytest

from lakekit.sources.http import RetryPolicy, get, parse_search_page, search_after_pages, search_total
from tests.servers import complaint, start_cfpb_api, stop

FAST = RetryPolicy(timeout_seconds=5, attempts=3, backoff_seconds=0.001)
WINDOW = {"sort": "created_date_asc", "date_received_min": "2024-05-01", "date_received_max": "2024-05-02"}


@pytest.fixture
def api():
    server = start_cfpb_api()
    yield server
    stop(server)


def ids(page) -> list[str]:
    return [hit["_source"].get("complaint_id") for hit in page.document["hits"]["hits"]]


def test_pages_follow_the_last_hit_sort_value_with_the_offset_at_zero(api):
    # Seven complaints over three days, one outside the window; same-day ones come in id order.
    api.complaints = [complaint(n, day) for n, day in [(7, "2024-05-02"), (3, "2024-05-01"), (5, "2024-05-01")]]
    api.complaints += [complaint(n, "2024-05-02") for n in (11, 12, 13)] + [complaint(99, "2024-05-03")]
    api.scripted = [(429, b"Too Many Requests", {"Retry-After": "0"})]
    pages = list(search_after_pages(lambda p: get(api.url, p, FAST), WINDOW, 2, offset_param="frm"))
    assert [ids(p) for p in pages] == [["3", "5"], ["11", "12"], ["13", "7"]]
    assert [(p.total, p.hits, p.problem) for p in pages] == [(6, 2, None)] * 3
    noon = {"2024-05-01": 1714582800000, "2024-05-02": 1714669200000}
    assert [p.cursor for p in pages] == [
        f"{noon['2024-05-01']}_5",
        f"{noon['2024-05-02']}_12",
        f"{noon['2024-05-02']}_7",
    ]
    # The 429 was retried; the count reached hits.total after page 3, so no empty page was asked for.
    asked = [(r.get("search_after"), r["frm"], r["size"]) for r in api.requests]
    assert asked == [(None, "0", "2"), (None, "0", "2"), (pages[0].cursor, "0", "2"), (pages[1].cursor, "0", "2")]


def test_a_walk_resumes_after_a_cursor_and_stops_at_a_short_page(api):
    api.complaints = [complaint(n, "2024-05-01") for n in (1, 2, 3)]
    pages = list(search_after_pages(lambda p: get(api.url, p, FAST), WINDOW, 2, cursor="1714582800000_1", fetched=1))
    assert [ids(p) for p in pages] == [["2", "3"]]  # 1 + 2 = hits.total
    api.complaints = []
    pages = list(search_after_pages(lambda p: get(api.url, p, FAST), WINDOW, 2))
    assert [(p.total, p.hits, p.cursor) for p in pages] == [(0, 0, None)]


def test_a_body_that_is_not_a_search_page_ends_the_walk_with_its_problem(api):
    api.complaints = [complaint(n, "2024-05-01") for n in (1, 2, 3)]
    api.bodies = {2: b"<html>504 Gateway Time-out</html>"}
    pages = list(search_after_pages(lambda p: get(api.url, p, FAST), WINDOW, 2))
    assert [(p.hits, p.problem) for p in pages] == [
        (2, None),
        (0, "not JSON: Expecting value: line 1 column 1 (char 0)"),
    ]
    assert pages[1].response.body == b"<html>504 Gateway Time-out</html>"


@pytest.mark.parametrize(
    "body, problem",
    [
        (b'{"hits": {"total": 3}}', "no hits.hits"),
        (b'{"error": "rate limited"}', "no hits.hits"),
        (b"[1, 2]", "no hits.hits"),
        (b'{"hits": {"hits": {}}}', "no hits.hits"),
        (b'{"hits": ', "not JSON: Expecting value: line 1 column 10 (char 9)"),
    ],
)
def test_bodies_without_hits_are_not_search_pages(body, problem):
    assert parse_search_page(body) == (None, problem)


def test_hits_total_is_a_plain_int_or_a_value_object():
    for total, expected in [(5, 5), ({"value": 12000, "relation": "eq"}, 12000), (None, None), (True, None)]:
        document, _ = parse_search_page(json.dumps({"hits": {"total": total, "hits": []}}).encode())
        assert search_total(document) == expected
