"""DynamoDB exports to S3 as AWS lays them out: AWSDynamoDB/<ExportId>/ with manifests and data/."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from lakekit.core.settings import Settings
from lakekit.core.storage import storage_for

log = logging.getLogger(__name__)

FULL, INCREMENTAL = "FULL_EXPORT", "INCREMENTAL_EXPORT"


class ExportError(ValueError):
    """An export folder that cannot be read as AWS writes it."""


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


@dataclass(frozen=True)
class Export:
    table: str
    export_id: str
    path: str
    export_type: str
    export_time: datetime | None  # full: exportTime
    from_time: datetime | None  # incremental: exportFromTime (inclusive)
    to_time: datetime | None  # incremental: exportToTime (exclusive)
    item_count: int | None
    data_files: tuple[str, ...]

    @property
    def effective_time(self) -> datetime:
        """The moment whose state the export describes: a full export's exportTime, an incremental's end."""
        return self.export_time if self.export_type == FULL else self.to_time

    @property
    def order_key(self) -> tuple:
        # At equal times a full export comes last: it describes the whole table at that moment.
        return (self.effective_time, 1 if self.export_type == FULL else 0, self.export_id)

    def to_json(self) -> dict:
        return {
            "export_type": self.export_type,
            "effective_time": self.effective_time.isoformat(),
            "from_time": self.from_time.isoformat() if self.from_time else None,
            "item_count": self.item_count,
        }


def export_order_key(export_id: str, meta: dict) -> tuple:
    """The same order as Export.order_key, from a bookmark's record of the export."""
    return (datetime.fromisoformat(meta["effective_time"]), 1 if meta["export_type"] == FULL else 0, export_id)


def landing_dir(settings: Settings, table: str) -> str:
    return settings.path("landing", "dynamodb", table, "AWSDynamoDB")


def _manifest_data_files(text: str, export_id: str, path: str) -> list[str]:
    """The data files manifest-files.json lists (one JSON object a line), as paths under the export's data/."""
    data_files = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            raise ExportError(f"export {export_id}: manifest-files.json line {number} is not JSON ({error})") from None
        key = entry.get("dataFileS3Key") if isinstance(entry, dict) else None
        if not isinstance(key, str) or not key.strip():
            raise ExportError(f"export {export_id}: manifest-files.json line {number} has no dataFileS3Key")
        # The manifest names S3 keys under the export's original bucket/prefix; the files sit in data/.
        data_files.append(f"{path}/data/{key.rsplit('/', 1)[-1]}")
    return data_files


def read_export(storage, table: str, path: str) -> Export:
    export_id = path.rstrip("/").rsplit("/", 1)[-1]
    try:
        summary = json.loads(storage.read_text(f"{path}/manifest-summary.json"))
    except json.JSONDecodeError as error:
        raise ExportError(f"export {export_id}: manifest-summary.json is not JSON ({error})") from None
    if not isinstance(summary, dict):
        raise ExportError(f"export {export_id}: manifest-summary.json is not a JSON object")
    export_type = summary.get("exportType", FULL)
    if export_type not in (FULL, INCREMENTAL):
        raise ExportError(f"export {export_id}: unknown exportType {export_type!r}")
    if summary.get("outputFormat", "DYNAMODB_JSON") != "DYNAMODB_JSON":
        raise ExportError(f"export {export_id}: outputFormat {summary.get('outputFormat')} is not supported")
    manifest_path = f"{path}/manifest-files.json"
    if not storage.exists(manifest_path):
        raise ExportError(f"export {export_id}: manifest-summary.json present but manifest-files.json missing")
    data_files = _manifest_data_files(storage.read_text(manifest_path), export_id, path)
    export = Export(
        table=table,
        export_id=export_id,
        path=path,
        export_type=export_type,
        export_time=_parse_time(summary.get("exportTime")),
        from_time=_parse_time(summary.get("exportFromTime")),
        to_time=_parse_time(summary.get("exportToTime")),
        item_count=summary.get("itemCount"),
        data_files=tuple(data_files),
    )
    if export.effective_time is None:
        wanted = "exportTime" if export_type == FULL else "exportToTime"
        raise ExportError(f"export {export_id}: manifest-summary.json has no {wanted}")
    missing = [f for f in data_files if not storage.exists(f)]
    if missing:
        raise ExportError(f"export {export_id}: {len(missing)} data file(s) in the manifest are missing: {missing[0]}")
    return export


def discover(
    settings: Settings, table: str, known: set[str] | frozenset[str] = frozenset()
) -> tuple[list[Export], list[str]]:
    """Complete exports of `table` not in `known`, in the order they apply, and notes about folders passed over.

    One listing of the landing prefix finds the export folders; only folders not in `known` (the exports
    already processed) are opened, so a run's S3 requests do not grow with the exports of the past.
    A folder without manifest-summary.json is still being written (AWS writes it last): skipped.
    """
    storage = storage_for(settings.lake_root)
    exports, notes = [], []
    for path in storage.list_dirs(landing_dir(settings, table)):
        export_id = path.rsplit("/", 1)[-1]
        if export_id in known:
            continue
        if not storage.exists(f"{path}/manifest-summary.json"):
            notes.append(f"export {export_id}: no manifest-summary.json yet (still being written), skipped")
            continue
        try:
            exports.append(read_export(storage, table, path))
        except ExportError as error:
            notes.append(f"{error}; skipped")
    return sorted(exports, key=lambda e: e.order_key), notes
