"""The campaign pipeline reads DynamoDB exports as AWS writes them: in either data-file layout, and a complete
export that does not match its manifest (a file missing, an itemCount or md5Checksum that disagrees, a
malformed line) fails the raw job, applies nothing of it or of the exports after it, and is applied
exactly once by the run after it is fixed."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from chispa import assert_df_equality
from moto import mock_aws
from pyspark.sql import functions as F

from lakekit import cli
from lakekit.core.settings import load_settings
from lakekit.core.state import Bookmarks
from lakekit.sources.dynamodb.exports import discover
from lakekit.sources.dynamodb.raw import ExportLog, read_verified_lines
from scripts.export_writer import OWN, SHARED, Change, write_full_export, write_incremental_export
from scripts.samples import campaign as campaign_samples
from tests.helpers import read_table, run_campaign, run_job

REPO = Path(__file__).resolve().parents[3]
JOB, TABLE, SOURCE = "raw_user_campaign", "raw.user_campaign", "user_Campaign"
T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def assert_same(actual_df, expected_df) -> None:
    assert_df_equality(actual_df, expected_df, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def test_both_data_file_layouts_give_the_same_curated_tables(spark, tmp_path, monkeypatch):
    # The samples keep user_Campaign's incremental data files in the prefix's shared AWSDynamoDB/data/;
    # the same samples written with every export's files in its own data/ must give the same tables.
    shared_root, own_root = tmp_path / "shared", tmp_path / "own"
    shutil.copytree(REPO / "samples" / "landing", shared_root / "landing")
    monkeypatch.setattr(campaign_samples, "SHARED", OWN)
    campaign_samples.write(own_root)
    assert not (own_root / "landing" / "dynamodb" / SOURCE / "AWSDynamoDB" / "data").exists()
    assert (shared_root / "landing" / "dynamodb" / SOURCE / "AWSDynamoDB" / "data").is_dir()

    for root in (shared_root, own_root):
        run_campaign(str(root))

    for name in ("curated.campaign_tasks", "curated.campaign_task_progress"):
        assert_same(read_table(spark, str(shared_root), name), read_table(spark, str(own_root), name))
    # Not two empty tables: the shared layout's incremental export (heidi joins, erin's item deleted) applied.
    progress_df = read_table(spark, str(shared_root), "curated.campaign_task_progress")
    users = {r.user_id for r in progress_df.select("user_id").distinct().collect()}
    assert "USER#heidi" in users and "USER#erin" not in users


def item(user: str, state: str = "JOINED") -> dict:
    return {
        "userID": user,
        "campaignID": "CAMP#spring",
        "userCampaignProgressState": state,
        "createdAt": "2026-11-19T05:00:00Z",
        "updatedAt": "2026-11-19T05:00:00Z",
        "totalTaskRewardsEarned": Decimal("0"),
    }


def key(user: str) -> dict:
    return {"userID": user, "campaignID": "CAMP#spring"}


def raw_ops(spark, lake_root: str):
    """(user, operation, export) of every raw row: an export applied twice shows its rows twice."""
    return read_table(spark, lake_root, TABLE).select("user_id", "_op", "_export_id")


def ops_df(spark, rows: list[tuple[str, str, str]]):
    return spark.createDataFrame(rows, "user_id string, _op string, _export_id string")


def state_of(lake_root: str) -> tuple[dict, dict]:
    settings = load_settings("local", lake_root)
    return ExportLog(settings, JOB).load(), Bookmarks(settings).position(JOB)


def corrupt(case: str, data_file: Path, manifest: Path) -> None:
    if case == "missing":
        data_file.unlink()
    elif case == "item_count":
        entries = [json.loads(line) for line in manifest.read_text().splitlines()]
        entries[0]["itemCount"] += 1
        manifest.write_text("".join(json.dumps(e) + "\n" for e in entries))
    elif case == "md5":  # same number of lines, one value changed: only the checksum can tell
        text = gzip.decompress(data_file.read_bytes()).decode().replace("IN_PROGRESS", "COMPLETED__")
        data_file.write_bytes(gzip.compress(text.encode(), mtime=0))
    elif case == "malformed":
        manifest.write_text(manifest.read_text() + '{"itemCount": 1, "dataFileS3Key": "landing/dyn\n')


@pytest.mark.parametrize("case", ["missing", "item_count", "md5", "malformed"])
def test_a_corrupt_export_fails_the_job_applies_nothing_and_applies_once_fixed(spark, lake_root, capsys, case):
    landing = Path(lake_root) / "landing"
    full = write_full_export(landing, SOURCE, T0, [item("USER#ann"), item("USER#bea")])
    run_job(lake_root, JOB)
    # Rows, not a cached frame: Spark would answer a later read of the same files from the cache.
    before_df = ops_df(spark, [tuple(r) for r in raw_ops(spark, lake_root).collect()])
    before_state = state_of(lake_root)
    # The next window (its files in the shared data folder, split over two files) and the one after it.
    changes = [
        Change(key("USER#ann"), item("USER#ann", "IN_PROGRESS"), item("USER#ann"), T0),
        Change(key("USER#cid"), item("USER#cid", "IN_PROGRESS"), None, T0),
        Change(key("USER#bea"), None, item("USER#bea"), T0),
    ]
    broken = write_incremental_export(landing, SOURCE, T0, T1, changes, files=2, layout=SHARED)
    later = write_incremental_export(
        landing, SOURCE, T1, T2, [Change(key("USER#dot"), item("USER#dot"), None, T1)], layout=SHARED
    )
    data_file, manifest = broken.data_files[0], broken.path / "manifest-files.json"
    good_bytes, good_manifest = data_file.read_bytes(), manifest.read_text()
    corrupt(case, data_file, manifest)

    assert cli.main(["job", "run", JOB, "--lake-root", lake_root]) == 1

    file_key = str(data_file.relative_to(lake_root))
    entry = json.loads(good_manifest.splitlines()[0])
    not_applied = "neither it nor the 1 export(s) after it applied, the next run tries again"
    stored_md5 = b64md5(data_file.read_bytes()) if data_file.exists() else None
    expected = {
        "missing": f"export {broken.export_id}: 1 data file(s) listed in manifest-files.json are missing, "
        f"first {file_key} (looked for at {data_file}); nothing applied by this run, the next run tries again",
        "item_count": f"export {broken.export_id}: data file {file_key}: itemCount in manifest-files.json is "
        f"{entry['itemCount'] + 1}, {entry['itemCount']} line(s) read from it; {not_applied}",
        "md5": f"export {broken.export_id}: data file {file_key}: md5Checksum in manifest-files.json is "
        f"{entry['md5Checksum']}, its stored bytes give {stored_md5}; {not_applied}",
        "malformed": f"export {broken.export_id}: manifest-files.json line 3 is not JSON (Unterminated string "
        "starting at: line 1 column 35 (char 34)); nothing applied by this run, the next run tries again",
    }[case]
    assert capsys.readouterr().err == f"lake: {expected}\n"
    assert_same(raw_ops(spark, lake_root), before_df)
    assert state_of(lake_root) == before_state  # neither export log nor bookmark names the two exports
    assert not (Path(lake_root) / "quarantine" / JOB / f"export_id={broken.export_id}").exists()

    data_file.write_bytes(good_bytes)
    manifest.write_text(good_manifest)
    run_job(lake_root, JOB)
    run_job(lake_root, JOB)  # nothing new: applied once, not again

    assert_same(
        raw_ops(spark, lake_root),
        ops_df(
            spark,
            [
                ("USER#ann", "SNAPSHOT", full.export_id),
                ("USER#bea", "SNAPSHOT", full.export_id),
                ("USER#ann", "UPDATE", broken.export_id),
                ("USER#cid", "INSERT", broken.export_id),
                ("USER#bea", "DELETE", broken.export_id),
                ("USER#dot", "INSERT", later.export_id),
            ],
        ),
    )
    assert sorted(ExportLog(load_settings("local", lake_root), JOB).written()) == sorted(
        [full.export_id, broken.export_id, later.export_id]
    )


def test_empty_data_files_are_zero_items(spark, tmp_path):
    # AWS writes an empty file for each empty partition of a full export; a zero-byte file (the writer's)
    # and a gzip stream of nothing (20 bytes) both hold no item.
    export = write_full_export(tmp_path / "landing", SOURCE, T0, [item("USER#ann")], empty_files=1)
    gzip_of_nothing = export.data_files[1].with_name("gzip-of-nothing.json.gz")
    gzip_of_nothing.write_bytes(gzip.compress(b"", mtime=0))
    manifest = export.path / "manifest-files.json"
    entry = {"itemCount": 0, "md5Checksum": b64md5(gzip_of_nothing.read_bytes()), "etag": "-"}
    manifest.write_text(
        manifest.read_text() + json.dumps({**entry, "dataFileS3Key": str(gzip_of_nothing.relative_to(tmp_path))}) + "\n"
    )
    assert export.data_files[1].stat().st_size == 0

    [found], _ = discover(load_settings("local", str(tmp_path)), SOURCE)
    lines_df = read_verified_lines(spark, found).select("_text", "_source_file", "_line_number")

    expected_line = json.dumps(
        {
            "Item": {
                "userID": {"S": "USER#ann"},
                "campaignID": {"S": "CAMP#spring"},
                "userCampaignProgressState": {"S": "JOINED"},
                "createdAt": {"S": "2026-11-19T05:00:00Z"},
                "updatedAt": {"S": "2026-11-19T05:00:00Z"},
                "totalTaskRewardsEarned": {"N": "0"},
            }
        }
    )
    assert [f.item_count for f in found.files] == [1, 0, 0]
    assert_same(
        lines_df,
        spark.createDataFrame(
            [(expected_line, str(export.data_files[0].relative_to(tmp_path)), 1)],
            "_text string, _source_file string, _line_number long",
        ).select("_text", "_source_file", F.col("_line_number")),
    )


def test_an_empty_file_the_manifest_counts_items_in_is_refused(spark, tmp_path):
    export = write_full_export(tmp_path / "landing", SOURCE, T0, [item("USER#ann")], empty_files=1)
    manifest = export.path / "manifest-files.json"
    entries = [json.loads(line) for line in manifest.read_text().splitlines()]
    entries[1]["itemCount"] = 2
    manifest.write_text("".join(json.dumps(e) + "\n" for e in entries))
    [found], _ = discover(load_settings("local", str(tmp_path)), SOURCE)
    with pytest.raises(ValueError) as error:
        read_verified_lines(spark, found)
    assert str(error.value) == (
        f"export {export.export_id}: data file {entries[1]['dataFileS3Key']}: itemCount in manifest-files.json "
        "is 2, 0 line(s) read from it"
    )


def test_the_writers_md5_checksum_and_etag_are_what_s3_gives_the_stored_bytes():
    """md5Checksum is base64 of the MD5 of the stored .json.gz bytes, the etag S3's single-part ETag (its hex
    MD5, as moto's S3 computes it): checked on every data file of the samples, empty ones included."""
    landing = REPO / "samples" / "landing" / "dynamodb"
    entries = [
        json.loads(line)
        for manifest in sorted(landing.rglob("manifest-files.json"))
        for line in manifest.read_text().splitlines()
    ]
    assert len(entries) == 7 and 0 in {e["itemCount"] for e in entries}
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="lake")
        for entry in entries:
            body = (landing.parent / entry["dataFileS3Key"].removeprefix("landing/")).read_bytes()
            etag = s3.put_object(Bucket="lake", Key=entry["dataFileS3Key"], Body=body)["ETag"].strip('"')
            assert (entry["etag"], base64.b64decode(entry["md5Checksum"]).hex()) == (etag, etag)
