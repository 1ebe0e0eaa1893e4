"""Write DynamoDB exports as AWS lays them out in S3, for samples, tests and benchmarks.

An export is requested with S3Prefix = the table's landing folder (landing/dynamodb/<table>), so its
manifests are under <prefix>/AWSDynamoDB/<ExportId>/ and manifest-files.json names each data file by its
S3 key, `<prefix>/AWSDynamoDB/<ExportId>/data/<name>.json.gz` (layout OWN) or the prefix's shared data
folder `<prefix>/AWSDynamoDB/data/<name>.json.gz` (layout SHARED), with its itemCount, md5Checksum
(base64 of the MD5 of the stored .json.gz bytes) and etag (S3's single-part ETag: the hex MD5). A full
export writes an empty (zero-byte) file for each empty partition. Where this comes from, and what is
inferred rather than recorded: docs/dynamodb_exports.md.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

FULL, INCREMENTAL = "FULL_EXPORT", "INCREMENTAL_EXPORT"
OWN, SHARED = "own", "shared"  # data files in <ExportId>/data/, or in the prefix's AWSDynamoDB/data/
BUCKET = "lake-landing"


def ddb_encode(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB JSON attribute value (numbers as strings, as DynamoDB sends them)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, Decimal)):
        return {"N": str(value)}
    if isinstance(value, float):
        raise TypeError("DynamoDB numbers are exact: pass an int or a Decimal, not a float")
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": base64.b64encode(value).decode()}
    if isinstance(value, (set, frozenset)):
        items = sorted(value)
        if all(isinstance(v, str) for v in items):
            return {"SS": items}
        if all(isinstance(v, bytes) for v in items):
            return {"BS": [base64.b64encode(v).decode() for v in items]}
        return {"NS": [str(v) for v in items]}
    if isinstance(value, (list, tuple)):
        return {"L": [ddb_encode(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: ddb_encode(v) for k, v in value.items()}}
    raise TypeError(f"cannot encode {type(value).__name__} as DynamoDB JSON")


def ddb_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: ddb_encode(v) for k, v in item.items()}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def export_id_for(moment: datetime, salt: str) -> str:
    """An id shaped like AWS's: 14-digit epoch milliseconds, a dash, 8 hex digits."""
    millis = int(moment.timestamp() * 1000)
    return f"{millis:014d}-{hashlib.sha1(f'{millis}{salt}'.encode()).hexdigest()[:8]}"


@dataclass
class Change:
    """One item's net change in an incremental export window."""

    keys: dict[str, Any]
    new_image: dict[str, Any] | None = None  # None: deleted
    old_image: dict[str, Any] | None = None  # None: did not exist before the window
    write_time: datetime | None = None


@dataclass
class ExportFolder:
    table: str
    export_id: str
    path: Path
    lines: list[str] = field(default_factory=list)
    data_files: list[Path] = field(default_factory=list)


def s3_prefix_for(table: str) -> str:
    """The S3Prefix the export is requested with: the table's landing folder, relative to the lake root
    (in the deployment <lake prefix>/landing/dynamodb/<table>)."""
    return f"landing/dynamodb/{table}"


def _write(
    folder: Path,
    table: str,
    export_id: str,
    summary: dict[str, Any],
    chunks: list[list[str]],
    complete: bool,
    layout: str,
) -> ExportFolder:
    if layout not in (OWN, SHARED):
        raise ValueError(f"layout must be {OWN!r} or {SHARED!r}, not {layout!r}")
    prefix = s3_prefix_for(table)
    data_key = f"AWSDynamoDB/{export_id}/data" if layout == OWN else "AWSDynamoDB/data"
    data = folder.parent.parent / data_key  # folder is <table>/AWSDynamoDB/<ExportId>
    data.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_started").write_text("")
    manifest, files = [], []
    for index, chunk in enumerate(chunks):
        name = hashlib.sha1(f"{export_id}-{index}".encode()).hexdigest()[:26] + ".json.gz"
        payload = "".join(line + "\n" for line in chunk).encode()
        stored = gzip.compress(payload, compresslevel=6, mtime=0) if chunk else b""
        (data / name).write_bytes(stored)
        files.append(data / name)
        digest = hashlib.md5(stored)
        manifest.append(
            {
                "itemCount": len(chunk),
                "md5Checksum": base64.b64encode(digest.digest()).decode(),
                "etag": digest.hexdigest(),
                "dataFileS3Key": f"{prefix}/{data_key}/{name}",
            }
        )
    (folder / "manifest-files.json").write_text("".join(json.dumps(m) + "\n" for m in manifest))
    if complete:  # AWS writes the summary last; without it the export is still being written
        (folder / "manifest-summary.json").write_text(json.dumps(summary, indent=3))
    return ExportFolder(table, export_id, folder, [line for chunk in chunks for line in chunk], files)


def _chunks(lines: list[str], files: int, empty_files: int = 0) -> list[list[str]]:
    """`lines` dealt over `files` files (one file at least), then `empty_files` empty ones."""
    return [lines[i :: max(1, files)] for i in range(max(1, files))] + [[] for _ in range(empty_files)]


def _summary(table: str, export_id: str, count: int, export_type: str, **times: str) -> dict[str, Any]:
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}"
    return {
        "version": "2020-06-30" if export_type == FULL else "2023-08-01",
        "exportArn": f"{arn}/export/{export_id}",
        "tableArn": arn,
        "tableId": hashlib.md5(table.encode()).hexdigest(),
        **times,
        "s3Bucket": BUCKET,
        "s3Prefix": s3_prefix_for(table),
        "s3SseAlgorithm": "AES256",
        "s3SseKmsKeyId": None,
        "manifestFilesS3Key": f"{s3_prefix_for(table)}/AWSDynamoDB/{export_id}/manifest-files.json",
        "billedSizeBytes": 0,
        "itemCount": count,
        "outputFormat": "DYNAMODB_JSON",
        **({"outputView": "NEW_AND_OLD_IMAGES"} if export_type == INCREMENTAL else {}),
        "exportType": export_type,
    }


def write_full_export(
    landing: Path,
    table: str,
    export_time: datetime,
    items: Iterable[dict[str, Any]],
    extra_lines: Iterable[str] = (),
    files: int = 1,
    complete: bool = True,
    export_id: str | None = None,
    layout: str = OWN,
    empty_files: int = 0,
) -> ExportFolder:
    """A FULL_EXPORT of `items` under landing/dynamodb/<table>/AWSDynamoDB/<id>/; `extra_lines` go in as they are.

    The lines are dealt over `files` data files; `empty_files` more stand for empty partitions.
    """
    export_id = export_id or export_id_for(export_time, table + "full")
    lines = [json.dumps({"Item": ddb_item(item)}) for item in items] + list(extra_lines)
    summary = _summary(
        table,
        export_id,
        len(lines),
        FULL,
        startTime=_iso(export_time),
        endTime=_iso(export_time),
        exportTime=_iso(export_time),
    )
    folder = Path(landing) / "dynamodb" / table / "AWSDynamoDB" / export_id
    return _write(folder, table, export_id, summary, _chunks(lines, files, empty_files), complete, layout)


def write_incremental_export(
    landing: Path,
    table: str,
    from_time: datetime,
    to_time: datetime,
    changes: Iterable[Change],
    extra_lines: Iterable[str] = (),
    files: int = 1,
    complete: bool = True,
    export_id: str | None = None,
    layout: str = OWN,
) -> ExportFolder:
    """An INCREMENTAL_EXPORT (NEW_AND_OLD_IMAGES) of the window [from_time, to_time)."""
    export_id = export_id or export_id_for(to_time, table + "incr" + _iso(from_time))
    lines = []
    for change in changes:
        record: dict[str, Any] = {
            "Metadata": {"WriteTimestampMicros": {"N": str(int((change.write_time or from_time).timestamp() * 1e6))}},
            "Keys": ddb_item(change.keys),
        }
        if change.new_image is not None:
            record["NewImage"] = ddb_item(change.new_image)
        if change.old_image is not None:
            record["OldImage"] = ddb_item(change.old_image)
        lines.append(json.dumps(record))
    lines += list(extra_lines)
    summary = _summary(
        table,
        export_id,
        len(lines),
        INCREMENTAL,
        startTime=_iso(to_time),
        endTime=_iso(to_time),
        exportFromTime=_iso(from_time),
        exportToTime=_iso(to_time),
    )
    folder = Path(landing) / "dynamodb" / table / "AWSDynamoDB" / export_id
    return _write(folder, table, export_id, summary, _chunks(lines, files), complete, layout)
