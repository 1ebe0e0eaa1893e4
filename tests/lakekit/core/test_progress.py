"""Progress inside a job: Spark's tasks done of total and the time spent, as timestamped lines off a terminal."""

from __future__ import annotations

import io
import re
import time

from lakekit.core.progress import snapshot, spark_progress


def test_off_a_terminal_progress_is_timestamped_lines_of_tasks_done(spark):
    out = io.StringIO()
    with spark_progress(spark, "slow_step", out=out, interval=0.3):
        spark.sparkContext.parallelize(range(4), 4).map(lambda x: time.sleep(0.4) or x).collect()
    lines = out.getvalue().splitlines()
    assert lines, "no progress line while Spark worked"
    pattern = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[slow_step\] (\d+)/4 Spark tasks \(1 job\), \d+s$")
    assert all(pattern.match(line) for line in lines), lines
    done = [int(pattern.match(line).group(1)) for line in lines]
    assert done == sorted(done)  # never goes backwards


def test_the_group_is_cleared_after_the_step(spark):
    with spark_progress(spark, "step", out=io.StringIO(), interval=60):
        spark.sparkContext.parallelize(range(3), 1).count()
        group = spark.sparkContext.getLocalProperty("spark.jobGroup.id")
    assert group.startswith("lake-step-")
    assert snapshot(spark, group).total >= 1
    assert spark.sparkContext.getLocalProperty("spark.jobGroup.id") is None


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_is_a_live_line_that_goes_away(spark):
    out = Terminal()
    with spark_progress(spark, "live_step", out=out):
        spark.sparkContext.parallelize(range(2), 2).map(lambda x: time.sleep(1.2) or x).collect()
    shown = out.getvalue()
    assert "live_step" in shown and "Spark tasks" in shown
    assert "\x1b[" in shown  # drawn with cursor control (rich), erased at the end: transient
