"""DynamoDB exports to S3 as AWS lays them out: AWSDynamoDB/<ExportId>/ manifests naming each data file's key."""

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
class DataFile:
    """One line of manifest-files.json: where the file is under the lake root, and what AWS says it holds."""

    path: str
    key: str  # its dataFileS3Key, as the manifest gives it
    item_count: int
    md5: str  # md5Checksum: base64 of the MD5 of the stored (.json.gz) bytes


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
    files: tuple[DataFile, ...]

    @property
    def data_files(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files)

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


# The folder of an export prefix where AWS may put the data files of all its exports: never an export.
SHARED_DATA = "data"


def _resolve_key(key: str, s3_prefix: str | None, table_dir: str) -> str | None:
    """The lake path of a dataFileS3Key, None when it is in neither form AWS writes.

    The export was requested with S3Prefix = the table's landing folder (`table_dir`), so a key is
    `<s3Prefix>/AWSDynamoDB/...`; the developer guide's own example gives keys without the prefix
    (`AWSDynamoDB/...`): both are read as `<table_dir>/AWSDynamoDB/...`.
    """
    prefix = (s3_prefix or "").strip("/")
    relative = key[len(prefix) + 1 :] if prefix and key.startswith(prefix + "/") else key
    parts = relative.split("/")
    if parts[0] != "AWSDynamoDB" or len(parts) < 3 or any(p in ("", ".", "..") for p in parts):
        return None
    return f"{table_dir}/{relative}"


def _manifest_entry(line: str, number: int, export_id: str, s3_prefix: str | None, table_dir: str) -> DataFile:
    where = f"export {export_id}: manifest-files.json line {number}"
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as error:
        raise ExportError(f"{where} is not JSON ({error})") from None
    key = entry.get("dataFileS3Key") if isinstance(entry, dict) else None
    if not isinstance(key, str) or not key.strip():
        raise ExportError(f"{where} has no dataFileS3Key")
    count, md5 = entry.get("itemCount"), entry.get("md5Checksum")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ExportError(f"{where} ({key}): itemCount {count!r} is not a count")
    if not isinstance(md5, str) or not md5:
        raise ExportError(f"{where} ({key}): md5Checksum {md5!r} is not a checksum")
    path = _resolve_key(key, s3_prefix, table_dir)
    if path is None:
        raise ExportError(
            f"{where}: dataFileS3Key {key!r} is neither <s3Prefix>/AWSDynamoDB/... (s3Prefix {s3_prefix!r}) "
            "nor AWSDynamoDB/..., so it is not a file of this export prefix"
        )
    return DataFile(path=path, key=key, item_count=count, md5=md5)


def _manifest_files(text: str, export_id: str, s3_prefix: str | None, table_dir: str) -> list[DataFile]:
    """The data files manifest-files.json lists (one JSON object a line), where each dataFileS3Key points."""
    files = [
        _manifest_entry(line, number, export_id, s3_prefix, table_dir)
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip()
    ]
    seen: set[str] = set()
    for data_file in files:
        if data_file.path in seen:
            raise ExportError(f"export {export_id}: manifest-files.json lists {data_file.key} twice")
        seen.add(data_file.path)
    return files


def read_export(storage, table: str, path: str) -> Export:
    export_id = path.rstrip("/").rsplit("/", 1)[-1]
    table_dir = path.rstrip("/").rsplit("/", 2)[0]  # <landing>/dynamodb/<table>: the export's S3Prefix
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
    s3_prefix = summary.get("s3Prefix")
    if s3_prefix is not None and not isinstance(s3_prefix, str):
        raise ExportError(f"export {export_id}: manifest-summary.json s3Prefix {s3_prefix!r} is not a string")
    files = _manifest_files(storage.read_text(manifest_path), export_id, s3_prefix, table_dir)
    export = Export(
        table=table,
        export_id=export_id,
        path=path,
        export_type=export_type,
        export_time=_parse_time(summary.get("exportTime")),
        from_time=_parse_time(summary.get("exportFromTime")),
        to_time=_parse_time(summary.get("exportToTime")),
        item_count=summary.get("itemCount"),
        files=tuple(files),
    )
    if export.effective_time is None:
        wanted = "exportTime" if export_type == FULL else "exportToTime"
        raise ExportError(f"export {export_id}: manifest-summary.json has no {wanted}")
    # One HEAD a file on S3: an export prefix's shared data folder holds every export's files, so a
    # listing of it would grow with the exports of the past.
    missing = [f for f in files if not storage.exists(f.path)]
    if missing:
        raise ExportError(
            f"export {export_id}: {len(missing)} data file(s) listed in manifest-files.json are missing, "
            f"first {missing[0].key} (looked for at {missing[0].path})"
        )
    return export


def discover(
    settings: Settings, table: str, known: set[str] | frozenset[str] = frozenset()
) -> tuple[list[Export], list[str]]:
    """Complete exports of `table` not in `known`, in the order they apply, and notes about folders passed over.

    One listing of the landing prefix finds the export folders; only folders not in `known` (the exports
    already processed) are opened, so a run's S3 requests do not grow with the exports of the past.
    A folder without manifest-summary.json is still being written (AWS writes it last): skipped with a
    note. The prefix's shared data folder is no export. A complete export that cannot be read as AWS
    writes it raises ExportError: applying the exports after it would apply them out of order.
    """
    storage = storage_for(settings.lake_root)
    exports, notes = [], []
    for path in storage.list_dirs(landing_dir(settings, table)):
        export_id = path.rsplit("/", 1)[-1]
        if export_id in known or export_id == SHARED_DATA:
            continue
        if not storage.exists(f"{path}/manifest-summary.json"):
            notes.append(f"export {export_id}: no manifest-summary.json yet (still being written), skipped")
            continue
        exports.append(read_export(storage, table, path))
    return sorted(exports, key=lambda e: e.order_key), notes
