"""A Delta table's log read as files, without Spark: its newest version, and the state a version's checksum records.

A job asks these before or after its one real query: a Spark query for them (DESCRIBE HISTORY, DESCRIBE
DETAIL) costs a SQL execution and a job or two each, every run, whatever the size of the change.
"""

from __future__ import annotations

import json
import re

from lakekit.core.storage import storage_for

COMMIT = re.compile(r"(\d{20})\.json")


def log_dir(path: str) -> str:
    return f"{path.rstrip('/')}/_delta_log"


def latest_version(path: str) -> int | None:
    """The table's newest committed version, None when `path` holds no Delta table.

    As Delta finds it: from the last checkpoint (`_last_checkpoint`) on, the highest NNN.json in one
    listing, so the cost does not grow with the table's history. (Coordinated commits, a Delta 3.3
    preview no table here enables, keep commits not yet backfilled under `_commits/`: not read here.)
    """
    storage = storage_for(path)
    log = log_dir(path)
    checkpoint = None
    pointer = _read_if_there(storage, f"{log}/_last_checkpoint")
    if pointer:
        try:
            checkpoint = int(json.loads(pointer)["version"])
        except (ValueError, KeyError, TypeError):  # unreadable: the whole log is listed, as Delta does
            checkpoint = None
    start_after = None if checkpoint is None else f"{checkpoint:020d}"
    versions = [
        int(found.group(1))
        for entry in storage.list_files(log, start_after=start_after)
        if (found := COMMIT.fullmatch(entry.rsplit("/", 1)[-1]))
    ]
    return max(versions, default=checkpoint)


def has_version_after(path: str, version: int | None) -> bool:
    """Whether the Delta table at `path` has a commit after `version` (None: any commit), from one listing of
    its log's entries after that version: the cost does not grow with the table's history."""
    after = None if version is None else f"{version:020d}.json"
    entries = storage_for(path).list_files(log_dir(path), start_after=after)
    return any(COMMIT.fullmatch(e.rsplit("/", 1)[-1]) for e in entries)


def _read_if_there(storage, path: str) -> str | None:
    """The file's text, or None when it is not there (locally FileNotFoundError, on S3 NoSuchKey); other
    errors are raised."""
    try:
        return storage.read_text(path)
    except FileNotFoundError:
        return None
    except Exception as error:
        if getattr(error, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def checksum(path: str, version: int) -> dict | None:
    """What Delta recorded in version's checksum file (`NNN.crc`: numFiles, tableSizeBytes, protocol, metadata),
    or None when there is none (a writer that does not write them, or a crash between commit and checksum)."""
    text = _read_if_there(storage_for(path), f"{log_dir(path)}/{version:020d}.crc")
    if text is None:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if {"numFiles", "protocol", "metadata"} <= set(found) else None
