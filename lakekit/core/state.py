"""Job bookmarks of our own, kept under <lake_root>/_state/ (Glue's do not cover Delta or DataFrame reads)."""

from __future__ import annotations

import json
import time
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
