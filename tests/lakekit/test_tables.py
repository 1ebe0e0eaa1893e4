"""The table handle on a temporary lake: raw files listed and read, and a curated write (first load, then MERGE)."""

from __future__ import annotations

from datetime import date

import pytest
from pyspark.sql import types as T

from lakekit.catalog.model import TableDef
from lakekit.core.job import JobRun
from lakekit.core.settings import load_settings
from lakekit.core.state import Bookmarks
from lakekit.tables import TableHandle

RAW = TableDef(
    layer="raw",
    name="handle_events",
    description="test table",
    format="parquet",
    location="raw/handle_events",
    columns=({"name": "id", "type": "int"}, {"name": "p_date", "type": "date"}),
    partition_keys=("p_date",),
)
CURATED = TableDef(
    layer="curated",
    name="handle_things",
    description="test table",
    format="delta",
    location="curated/handle_things",
    columns=({"name": "id", "type": "int"}, {"name": "value", "type": "string"}, {"name": "day", "type": "date"}),
    partition_keys=("day",),
    primary_key=("id",),
)
D1, D2 = date(2026, 1, 1), date(2026, 1, 2)


@pytest.fixture
def run(spark, lake_root) -> JobRun:
    settings = load_settings("local", lake_root)
    return JobRun(
        "handle_test", {"job_bookmark_option": "job-bookmark-enable"}, settings, Bookmarks(settings), _spark=spark
    )


def test_raw_files_lists_the_parquet_files_of_each_p_date_and_read_keeps_their_partition(spark, run):
    raw = TableHandle(run, RAW)
    schema = T.StructType([T.StructField("id", T.IntegerType())])
    for day, ids in ((D1, [1, 2]), (D2, [3])):
        spark.createDataFrame([(i,) for i in ids], schema).coalesce(1).write.parquet(f"{raw.path}/p_date={day}")
    import pathlib

    pathlib.Path(raw.path, "p_date=2026-01-03").mkdir()  # a partition without a file
    pathlib.Path(raw.path, "_staging").mkdir()  # not a partition

    files = raw.raw_files()
    assert sorted(files) == ["2026-01-01", "2026-01-02"]
    for day, paths in files.items():
        assert (
            len(paths) == 1 and paths[0].startswith(f"{raw.path}/p_date={day}/part-") and paths[0].endswith(".parquet")
        )
    assert sorted(raw.read(files["2026-01-02"]).collect()) == [(3, D2)]
    assert sorted(raw.read().collect()) == [(1, D1), (2, D1), (3, D2)]


def test_write_loads_an_empty_table_then_merges_by_its_key_and_reports_one_line(spark, run, capsys):
    things = TableHandle(run, CURATED).register()
    schema = things.table.schema
    assert things.current() is None

    first = things.write(
        None, spark.createDataFrame([("a", 1, D1), ("b", 2, D1), ("c", 3, D2)], "value string, id int, day date")
    )
    assert (first.upserted, first.deleted) == (3, 0)
    assert sorted(things.read().collect()) == [(1, "a", D1), (2, "b", D1), (3, "c", D2)]

    old_df = things.current().filter("id IN (1, 2)")
    new_df = spark.createDataFrame([(1, "A", D1)], schema)  # 1 changed, 2 gone
    merged = things.write(old_df, new_df)
    assert (merged.upserted, merged.deleted, merged.version) == (1, 1, first.version + 1)
    assert sorted(things.read().collect()) == [(1, "A", D1), (3, "c", D2)]

    unchanged = things.write(things.current(), things.read(), note="incremental")
    assert unchanged.version is None
    assert capsys.readouterr().out.splitlines() == [
        f"[handle_test] curated.handle_things: version {first.version}, 3 row(s) inserted or updated, 0 deleted",
        f"[handle_test] curated.handle_things: version {merged.version}, 1 row(s) inserted or updated, 1 deleted",
        "[handle_test] curated.handle_things: nothing changed, no new version",
    ]
    with pytest.raises(ValueError, match="is not empty"):
        things.write(None, new_df)
