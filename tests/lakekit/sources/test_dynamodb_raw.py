"""The raw DynamoDB job's publish: marked in progress (WRITING) before its first delete or move, rewrites included."""

from __future__ import annotations

import shutil
from pathlib import Path

from lakekit.core.settings import load_settings
from lakekit.core.state import DISABLE, PAUSE, Bookmarks
from lakekit.sources.dynamodb import raw
from lakekit.sources.dynamodb.changes import committed_exports
from tests.helpers import run_job
from tests.lakekit.pipelines.test_campaign_exactly_once import SAMPLES_LANDING, table_rows

JOB, TABLE = "raw_user_campaign", "raw.user_campaign"
# The samples' complete user_Campaign exports (the third is still being written).
EXPORTS = ["01795154400000-b4c3d7f5", "01795158000000-97ae9182"]


def spy_on_publish(monkeypatch, lake_root: str) -> dict[str, tuple[str, bool]]:
    """{export id: (its status in the export log, whether readers see it)} at the start of each publish."""
    seen: dict[str, tuple[str, bool]] = {}
    log = raw.ExportLog(load_settings("local", lake_root), JOB)
    publish = raw.publish_staged

    def spy(storage, staging, partition_dir, prefix):
        seen[prefix] = (log.load()[prefix]["status"], prefix in log.written())
        return publish(storage, staging, partition_dir, prefix)

    monkeypatch.setattr(raw, "publish_staged", spy)
    return seen


def test_a_rewrite_of_a_written_export_is_marked_writing_before_its_files_are_replaced(spark, lake_root, monkeypatch):
    shutil.copytree(SAMPLES_LANDING, Path(lake_root) / "landing")
    run_job(lake_root, JOB, job_bookmark_option=PAUSE)  # WRITTEN in the export log, not in the bookmark
    rows = table_rows(spark, lake_root, TABLE)
    seen = spy_on_publish(monkeypatch, lake_root)

    for option in (PAUSE, DISABLE):  # both write again exports the log says are WRITTEN
        seen.clear()
        run_job(lake_root, JOB, job_bookmark_option=option)
        assert seen == {e: (raw.WRITING, False) for e in EXPORTS}, option
        assert sorted(raw.ExportLog(load_settings("local", lake_root), JOB).written()) == EXPORTS
        assert table_rows(spark, lake_root, TABLE) == rows


def test_an_export_left_writing_by_a_killed_rewrite_is_written_again_by_the_next_run(spark, lake_root, monkeypatch):
    shutil.copytree(SAMPLES_LANDING, Path(lake_root) / "landing")
    run_job(lake_root, JOB)
    rows = table_rows(spark, lake_root, TABLE)
    settings = load_settings("local", lake_root)
    log = raw.ExportLog(settings, JOB)
    exports = log.load()
    # What a job-bookmark-disable run killed in the middle of rewriting the first export leaves:
    # the export bookmarked, but WRITING in the log, and its files half replaced.
    exports[EXPORTS[0]]["status"] = raw.WRITING
    log.save(exports)
    partition = Path(lake_root) / "raw" / "user_campaign" / f"p_date={exports[EXPORTS[0]]['p_date']}"
    for half_published in partition.glob(f"{EXPORTS[0]}-*"):
        half_published.unlink()
    assert EXPORTS[0] in Bookmarks(settings).position(JOB)["exports"]
    assert sorted(committed_exports_of(lake_root)) == EXPORTS[1:]  # readers skip it meanwhile

    seen = spy_on_publish(monkeypatch, lake_root)
    run_job(lake_root, JOB)

    assert seen == {EXPORTS[0]: (raw.WRITING, False)}
    assert sorted(committed_exports_of(lake_root)) == EXPORTS
    assert table_rows(spark, lake_root, TABLE) == rows


def committed_exports_of(lake_root: str) -> dict[str, dict]:
    class Run:  # what committed_exports reads of a job run
        settings = load_settings("local", lake_root)

    return committed_exports(Run(), JOB)
