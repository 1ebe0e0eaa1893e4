"""Discovery of DynamoDB exports as AWS writes them: each data file where its manifest-files.json line's
dataFileS3Key points (the export's own data/ or the prefix's shared AWSDynamoDB/data/), the shared folder
no export, and a complete export whose manifests cannot be followed refused with an error, never skipped."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lakekit.core.settings import Settings
from lakekit.sources.dynamodb.exports import FULL, INCREMENTAL, ExportError, discover
from scripts.export_writer import OWN, SHARED, Change, write_full_export, write_incremental_export

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TABLE = "user_Campaign"


def item(user: str) -> dict:
    return {
        "userID": user,
        "campaignID": "CAMP#spring",
        "userCampaignProgressState": "JOINED",
        "createdAt": "2026-11-19T05:00:00Z",
        "updatedAt": "2026-11-19T05:00:00Z",
        "totalTaskRewardsEarned": Decimal("0"),
    }


def insert(user: str, at: datetime) -> Change:
    return Change({"userID": user, "campaignID": "CAMP#spring"}, item(user), None, at)


def settings(root: Path) -> Settings:
    return Settings(env="local", lake_root=str(root), metastore="derby")


def table_dir(root: Path) -> Path:
    return root / "landing" / "dynamodb" / TABLE


@pytest.mark.parametrize("layout", [OWN, SHARED])
def test_data_files_are_found_where_their_keys_point_and_the_shared_folder_is_no_export(tmp_path, layout):
    landing = tmp_path / "landing"
    full = write_full_export(landing, TABLE, T0, [item("USER#ann"), item("USER#bea")], files=2, layout=layout)
    incremental = write_incremental_export(landing, TABLE, T0, T1, [insert("USER#cid", T0)], layout=layout)
    unfinished = write_incremental_export(
        landing, TABLE, T1, T2, [insert("USER#dot", T1)], layout=layout, complete=False
    )

    exports, notes = discover(settings(tmp_path), TABLE)

    assert [(e.export_id, e.export_type, e.data_files) for e in exports] == [
        (full.export_id, FULL, tuple(str(p) for p in full.data_files)),
        (incremental.export_id, INCREMENTAL, tuple(str(p) for p in incremental.data_files)),
    ]
    assert notes == [f"export {unfinished.export_id}: no manifest-summary.json yet (still being written), skipped"]
    shared = table_dir(tmp_path) / "AWSDynamoDB" / "data"
    expected_dirs = {shared} if layout == SHARED else {full.path / "data", incremental.path / "data"}
    assert {p.parent for p in full.data_files + incremental.data_files} == expected_dirs
    assert shared.is_dir() == (layout == SHARED)


# s3Prefix and the form of the keys in AWS's developer guide examples (reference/README.md of the shared
# reference formats): the full export's summary has s3Prefix "2020-Nov" and a manifestFilesS3Key without
# it (AWSDynamoDB/<ExportId>/...); the incremental one's summary gives "20230919-prefix" and a key that
# starts with it. Both forms are read as <the table's landing folder>/AWSDynamoDB/...
@pytest.mark.parametrize(("s3_prefix", "with_prefix"), [("2020-Nov", False), ("20230919-prefix", True), (None, False)])
def test_a_key_with_or_without_the_export_prefix_is_read_under_the_tables_landing_folder(
    tmp_path, s3_prefix, with_prefix
):
    export = write_incremental_export(tmp_path / "landing", TABLE, T0, T1, [insert("USER#ann", T0)], layout=SHARED)
    summary_path = export.path / "manifest-summary.json"
    summary = json.loads(summary_path.read_text())
    summary_path.write_text(json.dumps({**summary, "s3Prefix": s3_prefix}))
    manifest_path = export.path / "manifest-files.json"
    entry = json.loads(manifest_path.read_text())
    relative = str(export.data_files[0].relative_to(table_dir(tmp_path)))  # AWSDynamoDB/data/<name>
    entry["dataFileS3Key"] = f"{s3_prefix}/{relative}" if with_prefix else relative
    manifest_path.write_text(json.dumps(entry) + "\n")

    exports, _ = discover(settings(tmp_path), TABLE)

    assert [e.data_files for e in exports] == [(str(export.data_files[0]),)]


def land_one(root: Path, manifest_text: str | None = None):
    export = write_full_export(root / "landing", TABLE, T0, [item("USER#ann")])
    if manifest_text is not None:
        (export.path / "manifest-files.json").write_text(manifest_text)
    return export


GOOD = '{"itemCount": 1, "md5Checksum": "x", "etag": "y", "dataFileS3Key": "%s"}'


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"itemCount":1,"dataFileS3Key":"landing/AWS', "line 1 is not JSON (Unterminated string starting at: "),
        ("[1, 2]", "line 1 has no dataFileS3Key"),
        ('"just text"', "line 1 has no dataFileS3Key"),
        ('{"dataFileS3Key": ""}', "line 1 has no dataFileS3Key"),
        ('{"dataFileS3Key": 7}', "line 1 has no dataFileS3Key"),
        ('{"md5Checksum": "x", "dataFileS3Key": "AWSDynamoDB/data/a.json.gz"}', "itemCount None is not a count"),
        ('{"itemCount": "1", "md5Checksum": "x", "dataFileS3Key": "AWSDynamoDB/data/a.json.gz"}', "itemCount '1'"),
        ('{"itemCount": 1, "dataFileS3Key": "AWSDynamoDB/data/a.json.gz"}', "md5Checksum None is not a checksum"),
        (GOOD % "elsewhere/AWSDynamoDB/data/a.json.gz", "dataFileS3Key 'elsewhere/AWSDynamoDB/data/a.json.gz' is"),
        (GOOD % "landing/dynamodb/user_Campaign/data/a.json.gz", "is neither <s3Prefix>/AWSDynamoDB/..."),
        (GOOD % "AWSDynamoDB/../../../_state/a.json.gz", "dataFileS3Key 'AWSDynamoDB/../../../_state/a.json.gz' is"),
    ],
)
def test_a_complete_export_whose_manifest_line_cannot_be_followed_is_refused(tmp_path, line, problem):
    export = land_one(tmp_path, line + "\n")
    with pytest.raises(ExportError) as error:
        discover(settings(tmp_path), TABLE)
    assert str(error.value).startswith(f"export {export.export_id}: manifest-files.json line 1")
    assert problem in str(error.value)


def test_the_whole_refusal_names_the_export_line_key_and_prefix(tmp_path):
    export = land_one(tmp_path, GOOD % "elsewhere/AWSDynamoDB/data/a.json.gz" + "\n")
    with pytest.raises(ExportError) as error:
        discover(settings(tmp_path), TABLE)
    assert str(error.value) == (
        f"export {export.export_id}: manifest-files.json line 1: dataFileS3Key "
        "'elsewhere/AWSDynamoDB/data/a.json.gz' is neither <s3Prefix>/AWSDynamoDB/... "
        "(s3Prefix 'landing/dynamodb/user_Campaign') nor AWSDynamoDB/..., so it is not a file of this export prefix"
    )


def test_a_missing_data_file_is_refused_naming_its_key(tmp_path):
    export = write_full_export(tmp_path / "landing", TABLE, T0, [item("USER#ann"), item("USER#bea")], files=2)
    export.data_files[1].unlink()
    with pytest.raises(ExportError) as error:
        discover(settings(tmp_path), TABLE)
    key = str(export.data_files[1].relative_to(tmp_path))
    assert str(error.value) == (
        f"export {export.export_id}: 1 data file(s) listed in manifest-files.json are missing, "
        f"first {key} (looked for at {export.data_files[1]})"
    )


def test_an_unfinished_export_with_a_broken_manifest_is_only_noted(tmp_path):
    export = write_full_export(tmp_path / "landing", TABLE, T0, [item("USER#ann")], complete=False)
    (export.path / "manifest-files.json").write_text("not json\n")
    assert discover(settings(tmp_path), TABLE) == (
        [],
        [f"export {export.export_id}: no manifest-summary.json yet (still being written), skipped"],
    )
