"""Writing curated Delta tables: the first load, and compaction of partitions that gathered many files."""

from __future__ import annotations

from datetime import date

import pytest
from delta.tables import DeltaTable

from lakekit.catalog.model import TableDef
from lakekit.sinks.delta import (
    BROADCAST_MAX_ROWS,
    apply_changes,
    broadcast_if_small,
    compact,
    files_per_partition,
    is_empty,
    load_into_empty,
)
from transforms.changes import DELETE, UPSERT

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


def _hinted(df) -> bool:
    """Whether the frame carries a broadcast hint (in its analyzed plan)."""
    return "broadcast" in df._jdf.queryExecution().analyzed().toString().lower()


@pytest.mark.parametrize("limit, hinted", [(BROADCAST_MAX_ROWS, True), (1, False)])
def test_merge_broadcasts_its_change_set_only_while_small(spark, tmp_path, monkeypatch, limit, hinted):
    """apply_changes hints the change set it merges while it has at most BROADCAST_MAX_ROWS rows."""
    import lakekit.sinks.delta as delta_sink

    path = str(tmp_path / "things")
    create_empty(spark, path)
    load_into_empty(spark, TABLE, path, spark.createDataFrame([(1, "a", D1), (2, "b", D2)], TABLE.schema))
    sources = []
    real = delta_sink.broadcast_if_small
    monkeypatch.setattr(delta_sink, "BROADCAST_MAX_ROWS", limit)
    monkeypatch.setattr(delta_sink, "broadcast_if_small", lambda df, n: sources.append(real(df, n)) or sources[-1])
    changes = spark.createDataFrame(
        [(1, "A", D1, UPSERT), (2, "b", D2, DELETE), (3, "c", D3, UPSERT)],
        "id int, value string, day date, _action string",
    )

    result = apply_changes(spark, TABLE, path, changes)

    assert (result.upserted, result.deleted, result.version) == (2, 1, 2)
    assert rows(spark, path) == [(1, "A", D1), (3, "c", D3)]
    (source,) = sources
    assert _hinted(source) is hinted


@pytest.mark.parametrize("changed, strategy", [(10, "BroadcastHashJoin"), (BROADCAST_MAX_ROWS + 1, "SortMergeJoin")])
def test_touched_rows_lookup_broadcasts_the_key_set_only_while_small(spark, changed, strategy):
    """The campaign job's one scan of the table for touched items (its real join), hinted by row count."""
    from lakekit.pipelines.campaign import _rows_of

    target = spark.createDataFrame(
        [(f"u{i}", f"c{i % 3}", i) for i in range(50)], "user_id string, campaign_id string, n int"
    )
    keys = spark.createDataFrame([("u1", "c1"), ("u4", "c1")], "user_id string, campaign_id string")
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")  # the planner's own estimate must not decide
    try:
        flagged = _rows_of(target, broadcast_if_small(keys, changed), None)
        plan = flagged._jdf.queryExecution().executedPlan().toString()
        assert strategy in plan
        assert sorted(r["n"] for r in flagged.collect()) == [1, 4]
    finally:
        spark.conf.unset("spark.sql.autoBroadcastJoinThreshold")
