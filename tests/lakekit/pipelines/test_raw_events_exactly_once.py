"""raw_events exactly once: kill -9 the streaming job after a micro-batch published its rows but before Spark
committed it, run it again: every landed event is in raw.orders_events once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.helpers import read_table, run_job
from tests.lakekit.pipelines.test_orders import ORDER, changed, land, stored

LAKE = Path(sys.executable).with_name("lake")


def test_a_killed_streaming_run_rerun_writes_each_event_once(spark, lake_root):
    expected = []
    for number, name in enumerate(["a", "b", "c"]):  # one micro-batch per file (max_files_per_batch=1)
        lines = []
        for line in range(4):
            record_id = f"r{number}{line}"
            day = "29" if line % 2 else "30"  # each batch spans two p_dates
            lines.append(
                stored(changed(ORDER, order_id=f"o{number}{line}"), record_id, f"2026-11-{day}T10:00:0{line}Z")
            )
            expected.append(record_id)
        land(lake_root, name, lines)
    env = {**os.environ, "LAKE_FAILPOINTS": "stream.after_publish.batch=1"}
    killed = subprocess.run(
        [
            str(LAKE),
            "run",
            "raw_events",
            "--lake-root",
            lake_root,
            "--arg",
            "stream=orders",
            "--arg",
            "max_files_per_batch=1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert "failpoint raw_events/stream.after_publish.batch=1: killing this process" in killed.stdout
    written = Counter(r["_record_id"] for r in read_table(spark, lake_root, "raw.orders_events").collect())
    assert sorted(written) == sorted(expected[:8])  # batches 0 and 1 published, 1 not committed

    run_job(lake_root, "raw_events", stream="orders", max_files_per_batch="1")
    written = Counter(r["_record_id"] for r in read_table(spark, lake_root, "raw.orders_events").collect())
    assert written == Counter(expected)  # batch 1 ran again and replaced its files; batch 2 added
