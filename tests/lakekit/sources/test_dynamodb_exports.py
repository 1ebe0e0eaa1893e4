"""An export whose manifest-files.json cannot be read is reported and skipped, never a crash, and never
blocks the exports after it; once its manifest is fixed the next run loads it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakekit.core.settings import Settings
from lakekit.sources.dynamodb.exports import FULL, INCREMENTAL, discover
from scripts.export_writer import Change, write_full_export, write_incremental_export
from tests.helpers import read_table, run_job

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
T3 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
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


def land_exports(root: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """A full export, two incrementals with a broken manifest each, and a good incremental after them;
    the folders, and the broken manifests as the writer first wrote them."""
    landing = root / "landing"
    full = write_full_export(landing, TABLE, T0, [item("USER#ann")])
    corrupt = write_incremental_export(landing, TABLE, T0, T1, [insert("USER#bea", T0)])
    keyless = write_incremental_export(landing, TABLE, T1, T2, [insert("USER#cid", T1)])
    later = write_incremental_export(landing, TABLE, T2, T3, [insert("USER#dot", T2)])
    originals = {
        name: (e.path / "manifest-files.json").read_text() for name, e in (("corrupt", corrupt), ("keyless", keyless))
    }
    manifest = corrupt.path / "manifest-files.json"
    manifest.write_text(manifest.read_text() + '{"itemCount":1,"dataFileS3Key":"exports/AWS\n')
    (keyless.path / "manifest-files.json").write_text('{"itemCount":1,"md5Checksum":"x"}\n')
    folders = {"full": full.path, "corrupt": corrupt.path, "keyless": keyless.path, "later": later.path}
    return folders, originals


def test_a_broken_manifest_line_is_reported_and_the_export_skipped(tmp_path):
    folders, _ = land_exports(tmp_path)
    exports, notes = discover(Settings(env="local", lake_root=str(tmp_path), metastore="derby"), TABLE)
    assert [(e.export_type, e.path) for e in exports] == [
        (FULL, str(folders["full"])),
        (INCREMENTAL, str(folders["later"])),
    ]
    corrupt_id, keyless_id = folders["corrupt"].name, folders["keyless"].name
    assert sorted(notes) == sorted(
        [
            f"export {corrupt_id}: manifest-files.json line 2 is not JSON "
            "(Unterminated string starting at: line 1 column 32 (char 31)); skipped",
            f"export {keyless_id}: manifest-files.json line 1 has no dataFileS3Key; skipped",
        ]
    )


@pytest.mark.parametrize("line", ["[1, 2]", '"just text"', '{"dataFileS3Key": ""}', '{"dataFileS3Key": 7}'])
def test_a_manifest_line_that_is_not_an_entry_is_reported(tmp_path, line):
    folder = write_full_export(tmp_path / "landing", TABLE, T0, [item("USER#ann")]).path
    (folder / "manifest-files.json").write_text(line + "\n")
    exports, notes = discover(Settings(env="local", lake_root=str(tmp_path), metastore="derby"), TABLE)
    assert exports == []
    assert notes == [f"export {folder.name}: manifest-files.json line 1 has no dataFileS3Key; skipped"]


def test_the_raw_job_goes_on_past_a_broken_export_and_loads_it_once_fixed(spark, lake_root, capsys):
    folders, good_manifests = land_exports(Path(lake_root))

    run_job(lake_root, "raw_user_campaign")
    out = capsys.readouterr().out
    assert f"export {folders['corrupt'].name}: manifest-files.json line 2 is not JSON" in out
    assert f"export {folders['keyless'].name}: manifest-files.json line 1 has no dataFileS3Key" in out

    def users() -> list[tuple[str, str]]:
        raw_df = read_table(spark, lake_root, "raw.user_campaign")
        return sorted((r.user_id, r._export_id) for r in raw_df.select("user_id", F.col("_export_id")).collect())

    assert users() == sorted([("USER#ann", folders["full"].name), ("USER#dot", folders["later"].name)])

    for name, text in good_manifests.items():
        (folders[name] / "manifest-files.json").write_text(text)
    run_job(lake_root, "raw_user_campaign")
    assert users() == sorted(
        [
            ("USER#ann", folders["full"].name),
            ("USER#bea", folders["corrupt"].name),
            ("USER#cid", folders["keyless"].name),
            ("USER#dot", folders["later"].name),
        ]
    )
