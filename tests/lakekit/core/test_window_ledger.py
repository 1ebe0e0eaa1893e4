"""The date-window ledger under _state/ledgers/: what to fetch next, and what a fetch records."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from lakekit.core.settings import load_settings
from lakekit.core.state import DONE, PENDING, Window, WindowLedger, chunk_days


def d(text: str) -> date:
    return date.fromisoformat(text)


def w(start: str, end: str) -> Window:
    return Window(d(start), d(end))


def ledger(tmp_path: Path) -> WindowLedger:
    return WindowLedger(load_settings("local", str(tmp_path)), "ingest_x")


def test_days_are_cut_into_windows_the_last_one_shorter_and_halves_split_a_window():
    assert chunk_days(d("2024-01-30"), d("2024-02-05"), 3) == [
        w("2024-01-30", "2024-02-01"),
        w("2024-02-02", "2024-02-04"),
        w("2024-02-05", "2024-02-05"),
    ]
    assert chunk_days(d("2024-01-02"), d("2024-01-01"), 3) == []
    assert w("2024-01-01", "2024-01-02").halves() == (w("2024-01-01", "2024-01-01"), w("2024-01-02", "2024-01-02"))
    assert w("2024-01-01", "2024-01-05").halves() == (w("2024-01-01", "2024-01-02"), w("2024-01-03", "2024-01-05"))
    assert Window.parse("2024-01-01..2024-01-05") == w("2024-01-01", "2024-01-05")


def test_pending_windows_come_first_done_days_are_skipped_and_refetch_takes_them_again(tmp_path):
    book = ledger(tmp_path)
    assert book.resume_date() is None
    assert book.plan(d("2024-01-01"), d("2024-01-07"), 3) == [
        w("2024-01-01", "2024-01-03"),
        w("2024-01-04", "2024-01-06"),
        w("2024-01-07", "2024-01-07"),
    ]
    book.done(w("2024-01-01", "2024-01-03"), hits=12, fetched_at="2026-11-20T06:00:00+00:00")
    book.update(w("2024-01-06", "2024-01-08"), PENDING, error="HTTP 503", cursor="1704_99", fetched=5)
    # Days 04-05 and 09-10 are new; 06-08 pending (first); 01-03 done (skipped).
    assert book.plan(d("2024-01-01"), d("2024-01-10"), 3) == [
        w("2024-01-06", "2024-01-08"),
        w("2024-01-04", "2024-01-05"),
        w("2024-01-09", "2024-01-10"),
    ]
    assert book.plan(d("2024-01-01"), d("2024-01-03"), 3, refetch=True) == [
        w("2024-01-06", "2024-01-08"),
        w("2024-01-01", "2024-01-03"),
    ]
    assert book.resume_date() == d("2024-01-04")

    # What is on disk, read back by a new ledger: done forgets the progress and the error.
    book.done(w("2024-01-06", "2024-01-08"), hits=9, fetched_at="2026-11-21T06:00:00+00:00")
    stored = json.loads((tmp_path / "_state" / "ledgers" / "ingest_x.json").read_text())
    assert stored["windows"] == {
        "2024-01-01..2024-01-03": {
            "start": "2024-01-01", "end": "2024-01-03", "state": DONE, "hits": 12,
            "fetched_at": "2026-11-20T06:00:00+00:00",
        },
        "2024-01-06..2024-01-08": {
            "start": "2024-01-06", "end": "2024-01-08", "state": DONE, "hits": 9,
            "fetched_at": "2026-11-21T06:00:00+00:00",
        },
    }  # fmt: skip
    again = ledger(tmp_path)
    assert again.windows(DONE) == [w("2024-01-01", "2024-01-03"), w("2024-01-06", "2024-01-08")]
    assert again.resume_date() == d("2024-01-09")


def test_a_split_window_is_replaced_by_its_parts_pending(tmp_path):
    book = ledger(tmp_path)
    whole = w("2024-01-01", "2024-01-04")
    book.update(whole, PENDING)
    book.split(whole, whole.halves())
    assert ledger(tmp_path).windows(PENDING) == [w("2024-01-01", "2024-01-02"), w("2024-01-03", "2024-01-04")]
    assert ledger(tmp_path).windows(DONE) == []
