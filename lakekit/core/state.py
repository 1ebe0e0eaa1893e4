"""State of our own under <lake_root>/_state/: job bookmarks (Glue's do not cover Delta or DataFrame reads), ledgers."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from lakekit.core.settings import Settings
from lakekit.core.storage import storage_for

ENABLE, DISABLE, PAUSE = "job-bookmark-enable", "job-bookmark-disable", "job-bookmark-pause"
OPTIONS = (ENABLE, DISABLE, PAUSE)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class StateStore:
    """JSON documents under <lake_root>/_state/<kind>/<job>.json, written atomically."""

    def __init__(self, settings: Settings, kind: str):
        self.settings = settings
        self.kind = kind
        self.storage = storage_for(settings.lake_root)

    def path(self, job: str) -> str:
        return self.settings.path("_state", self.kind, f"{job}.json")

    def load(self, job: str) -> dict[str, Any]:
        path = self.path(job)
        if not self.storage.exists(path):
            return {}
        return json.loads(self.storage.read_text(path))

    def save(self, job: str, document: dict[str, Any]) -> None:
        self.storage.write_text(self.path(job), json.dumps(document, indent=1, sort_keys=True) + "\n")

    def delete(self, job: str) -> None:
        self.storage.delete(self.path(job))

    def jobs(self) -> list[str]:
        folder = self.settings.path("_state", self.kind)
        names = [f.rsplit("/", 1)[-1] for f in self.storage.list_files(folder)]
        return sorted(n[: -len(".json")] for n in names if n.endswith(".json") and not n.startswith("."))


class Bookmarks(StateStore):
    """A job's position: what it has processed. Advanced only after the job's output is committed."""

    def __init__(self, settings: Settings):
        super().__init__(settings, "bookmarks")

    def position(self, job: str) -> dict[str, Any]:
        return self.load(job).get("position", {})

    def advance(self, job: str, position: dict[str, Any]) -> None:
        self.save(job, {"job": job, "updated_at": _now(), "position": position})


# ------------------------------------------------------------------------------------------ date windows
PENDING, DONE = "pending", "done"


@dataclass(frozen=True, order=True)
class Window:
    """A range of calendar days, both ends included."""

    start: date
    end: date

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def halves(self) -> tuple[Window, Window]:
        middle = self.start + timedelta(days=self.days // 2 - 1)
        return Window(self.start, middle), Window(middle + timedelta(days=1), self.end)

    @classmethod
    def parse(cls, key: str) -> Window:
        start, _, end = key.partition("..")
        return cls(date.fromisoformat(start), date.fromisoformat(end))


def chunk_days(start: date, end: date, window_days: int) -> list[Window]:
    """[start, end] cut into consecutive windows of `window_days` days (the last one may be shorter)."""
    windows = []
    while start <= end:
        last = min(end, start + timedelta(days=window_days - 1))
        windows.append(Window(start, last))
        start = last + timedelta(days=1)
    return windows


class WindowLedger:
    """Which day windows of a source were fetched: <lake_root>/_state/ledgers/<name>.json.

    Each window is `pending` (planned, started or failed: fetched again first by the next run) or `done`
    (every record fetched and landed; never fetched again unless asked). An entry carries what the
    fetch recorded: hit count, fetch time, the reason a window is still pending, and its own progress
    (`cursor`, `fetched`, `landed`) so that a retry resumes after the last landed page.
    Saved after every change: the ledger describes data already landed.
    """

    def __init__(self, settings: Settings, name: str):
        self.store = StateStore(settings, "ledgers")
        self.name = name
        self.entries: dict[str, dict[str, Any]] = self.store.load(name).get("windows", {})

    def save(self) -> None:
        self.store.save(self.name, {"name": self.name, "updated_at": _now(), "windows": self.entries})

    def entry(self, window: Window) -> dict[str, Any]:
        return self.entries.get(window.key, {})

    def windows(self, state: str) -> list[Window]:
        return sorted(Window.parse(k) for k, e in self.entries.items() if e.get("state") == state)

    def resume_date(self) -> date | None:
        """The day after the end of the last done window (None when no window is done)."""
        done = self.windows(DONE)
        return max(w.end for w in done) + timedelta(days=1) if done else None

    def _covered(self, day: date) -> bool:
        return any(w.start <= day <= w.end for w in self.windows(DONE) + self.windows(PENDING))

    def plan(self, start: date, end: date, window_days: int, refetch: bool = False) -> list[Window]:
        """The windows to fetch, in order: every pending window first, then [start, end] in windows of
        `window_days` days, leaving out days a done or pending window covers (unless `refetch`)."""
        pending = self.windows(PENDING)
        if refetch:
            fresh = [w for w in chunk_days(start, end, window_days) if w not in pending]
            return pending + fresh
        fresh: list[Window] = []
        day, run_start = start, None
        while day <= end + timedelta(days=1):
            free = day <= end and not self._covered(day)
            if free and run_start is None:
                run_start = day
            elif not free and run_start is not None:
                fresh += chunk_days(run_start, day - timedelta(days=1), window_days)
                run_start = None
            day += timedelta(days=1)
        return pending + fresh

    def update(self, window: Window, state: str, **fields: Any) -> None:
        entry = {**self.entry(window), **fields, "state": state, "start": window.start.isoformat()}
        entry["end"] = window.end.isoformat()
        self.entries[window.key] = {k: v for k, v in entry.items() if v is not None}
        self.save()

    def done(self, window: Window, hits: int, fetched_at: str, **fields: Any) -> None:
        """Every record of the window is landed: progress and any earlier failure are forgotten."""
        kept = {k: v for k, v in self.entry(window).items() if k not in ("cursor", "fetched", "error", "total")}
        self.entries[window.key] = kept
        self.update(window, DONE, hits=hits, fetched_at=fetched_at, **fields)

    def split(self, window: Window, parts: tuple[Window, ...]) -> None:
        """Replace `window` by `parts` (pending), e.g. when it holds more records than one query returns."""
        self.entries.pop(window.key, None)
        for part in parts:
            self.entries[part.key] = {"state": PENDING, "start": part.start.isoformat(), "end": part.end.isoformat()}
        self.save()
