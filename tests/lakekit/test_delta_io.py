"""Writing curated Delta tables: the first load, and compaction of partitions that gathered many files."""

from __future__ import annotations

from datetime import date

from delta.tables import DeltaTable

from lakekit.catalog import TableDef
from lakekit.delta_io import (
    BROADCAST_MAX_ROWS,
    broadcast_if_small,
    compact,
    files_per_partition,
    is_empty,
    load_into_empty,
)

TABLE = TableDef(
    layer="curated",
    name="things",
    description="test table",
    format="delta",
    location="curated/things",
    columns=({"name": "id", "type": "int"}, {"name": "value", "type": "string"}, {"name": "day", "type": "date"}),
    partition_keys=("day",),
    primary_key=("id",),
    compact_min_files=3,
)
D1, D2, D3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)


def create_empty(spark, path: str) -> None:
    DeltaTable.create(spark).location(path).addColumns(TABLE.schema).partitionedBy("day").execute()


def rows(spark, path: str) -> list[tuple]:
    return sorted(tuple(r) for r in spark.read.format("delta").load(path).select("id", "value", "day").collect())


def test_first_load_appends_one_file_per_partition(spark, tmp_path):
    path = str(tmp_path / "things")
    create_empty(spark, path)
    assert is_empty(spark, path)
    data = [(i, f"v{i}", [D1, D2, None][i % 3]) for i in range(300)]
    # Spread over many input partitions: without the repartition each would write its own file.
    source = spark.createDataFrame(data, TABLE.schema).repartition(8)

    result = load_into_empty(spark, TABLE, path, source)

    assert (result.upserted, result.deleted, result.version) == (300, 0, 1)
    assert rows(spark, path) == sorted(data, key=lambda r: r[0])
    assert files_per_partition(spark, TABLE, path) == {("2026-01-01",): 1, ("2026-01-02",): 1, (None,): 1}
    assert not is_empty(spark, path)


def test_compaction_rewrites_only_crowded_partitions_and_keeps_the_rows(spark, tmp_path):
    path = str(tmp_path / "things")
    create_empty(spark, path)
    data = []
    for batch in range(3):  # D1 and null: 3 files each (crowded); D2 and D3: fewer
        part = [(batch * 10 + 1, f"a{batch}", D1), (batch * 10 + 2, f"n{batch}", None)]
        part += [(batch * 10 + 3, f"b{batch}", D2)] if batch < 2 else [(batch * 10 + 4, "c", D3)]
        data += part
        spark.createDataFrame(part, TABLE.schema).coalesce(1).write.format("delta").mode("append").save(path)
    before = files_per_partition(spark, TABLE, path)
    assert before == {("2026-01-01",): 3, (None,): 3, ("2026-01-02",): 2, ("2026-01-03",): 1}

    assert compact(spark, TABLE, path) == 2

    after = files_per_partition(spark, TABLE, path)
    assert after == {("2026-01-01",): 1, (None,): 1, ("2026-01-02",): 2, ("2026-01-03",): 1}
    assert rows(spark, path) == sorted(data, key=lambda r: (r[0],))
    assert DeltaTable.forPath(spark, path).history(1).first()["operation"] == "OPTIMIZE"
    assert compact(spark, TABLE, path) == 0  # nothing crowded any more: no new version
    assert DeltaTable.forPath(spark, path).history(1).first()["operation"] == "OPTIMIZE"
    assert DeltaTable.forPath(spark, path).history().count() == 5


def test_small_key_sets_are_broadcast_to_the_join_and_large_ones_are_not(spark):
    big = spark.range(1000).withColumnRenamed("id", "k")
    keys = spark.range(10).withColumnRenamed("id", "k")

    def join_strategy(side) -> str:
        plan = big.join(side, "k", "left")._jdf.queryExecution().executedPlan().toString()
        return "broadcast" if "BroadcastHashJoin" in plan else "shuffle"

    # Without a hint, the planner's estimate of this side decides; the hint overrides it while small.
    with_hint = broadcast_if_small(keys, 10)
    without_hint = broadcast_if_small(keys, BROADCAST_MAX_ROWS + 1)
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    try:
        assert join_strategy(with_hint) == "broadcast"
        assert join_strategy(without_hint) == "shuffle"
    finally:
        spark.conf.unset("spark.sql.autoBroadcastJoinThreshold")
