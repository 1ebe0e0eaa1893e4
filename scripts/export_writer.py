"""Write DynamoDB exports exactly as AWS lays them out in S3, for samples, tests and benchmarks."""

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


def _write(
    folder: Path, table: str, export_id: str, summary: dict[str, Any], lines: list[str], files: int, complete: bool
) -> ExportFolder:
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    (folder / "_started").write_text("")
    manifest = []
    chunks = [lines[i::files] for i in range(files)] if lines else [[]]
    for index, chunk in enumerate(chunks):
        name = hashlib.sha1(f"{export_id}-{index}".encode()).hexdigest()[:26] + ".json.gz"
        payload = "".join(line + "\n" for line in chunk).encode()
        (data / name).write_bytes(gzip.compress(payload, compresslevel=6, mtime=0))
        manifest.append(
            {
                "itemCount": len(chunk),
                "md5Checksum": base64.b64encode(hashlib.md5(payload).digest()).decode(),
                "etag": hashlib.md5(payload).hexdigest() + "-1",
                "dataFileS3Key": f"exports/AWSDynamoDB/{export_id}/data/{name}",
            }
        )
    (folder / "manifest-files.json").write_text("".join(json.dumps(m) + "\n" for m in manifest))
    if complete:  # AWS writes the summary last; without it the export is still being written
        (folder / "manifest-summary.json").write_text(json.dumps(summary, indent=3))
    return ExportFolder(table, export_id, folder, lines)


def _summary(table: str, export_id: str, count: int, export_type: str, **times: str) -> dict[str, Any]:
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}"
    return {
        "version": "2020-06-30" if export_type == FULL else "2023-08-01",
        "exportArn": f"{arn}/export/{export_id}",
        "tableArn": arn,
        "tableId": hashlib.md5(table.encode()).hexdigest(),
        **times,
        "s3Bucket": "lake-landing",
        "s3Prefix": "exports",
        "s3SseAlgorithm": "AES256",
        "s3SseKmsKeyId": None,
        "manifestFilesS3Key": f"exports/AWSDynamoDB/{export_id}/manifest-files.json",
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
) -> ExportFolder:
    """A FULL_EXPORT of `items` under landing/dynamodb/<table>/AWSDynamoDB/<id>/; `extra_lines` go in as they are."""
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
    return _write(folder, table, export_id, summary, lines, files, complete)


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
    return _write(folder, table, export_id, summary, lines, files, complete)
