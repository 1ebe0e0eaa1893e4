"""Open tables: every table the lake writes reads the same through delta-rs or pyarrow as through Spark."""

from __future__ import annotations

import gzip
import random
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from deltalake import DeltaTable as RustDeltaTable
from deltalake.exceptions import DeltaProtocolError
from pyspark.sql import Row

from lakekit import cli
from lakekit.catalog.metastore import has_data
from lakekit.catalog.model import all_tables, load_table
from lakekit.pipelines.orders import make_order_event
from lakekit.serve.app import envelope
from scripts.samples.complaints import CFPB_DEMO_ARGS
from tests.helpers import read_table, run_campaign, run_job

REPO = Path(__file__).resolve().parent.parent
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory) -> str:
    """Every pipeline run on the samples: every catalog/ table written, MERGEs and replaces included."""
    root = tmp_path_factory.mktemp("open") / "lake"
    shutil.copytree(REPO / "samples" / "landing", root / "landing")
    run_campaign(str(root))
    run_job(str(root), "ingest_users", url=(REPO / "samples" / "randomuser").as_uri(), requests="2")
    run_job(str(root), "curated_users", date="ingested")
    run_job(str(root), "ingest_complaints", url=(REPO / "samples" / "cfpb").as_uri(), **CFPB_DEMO_ARGS)
    run_job(str(root), "curated_complaints")
    land_orders(root, count=120)
    run_job(str(root), "raw_events", stream="orders")
    run_job(str(root), "curated_orders")
    return str(root)


def land_orders(root: Path, count: int) -> None:
    """`count` seed-shaped order events (ids repeat, as the seed's do) in one landing file, as `lake serve` writes."""
    rng = random.Random(20)
    folder = root / "landing" / "streams" / "orders" / "2026" / "11" / "30" / "10"
    folder.mkdir(parents=True)
    lines = [
        envelope(
            make_order_event(rng, n), {}, f"r{n:05d}", f"2026-11-30T10:{n // 60:02d}:{n % 60:02d}.000000Z", "orders"
        )
        for n in range(count)
    ]
    (folder / "orders-1-2026-11-30-10-00-00-open.jsonl.gz").write_bytes(gzip.compress(b"".join(lines)))


def plain(value):
    """One value as both readers can agree on it: structs as dicts, times as naive UTC."""
    if isinstance(value, Row):
        return {k: plain(v) for k, v in value.asDict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def key(row: dict) -> str:
    return repr(sorted(row.items(), key=lambda kv: kv[0]))


def spark_rows(spark, root: str, name: str) -> list[dict]:
    table = load_table(name)
    rows = read_table(spark, root, name).select(*table.column_names).collect()
    return sorted(({k: plain(v) for k, v in r.asDict().items()} for r in rows), key=key)


def arrow_rows(arrow: pa.Table, columns: list[str]) -> list[dict]:
    return sorted(({c: plain(r[c]) for c in columns} for r in arrow.to_pylist()), key=key)


def raw_dataset(table, root: str) -> pa.Table:
    """A raw Parquet table through pyarrow's dataset API, partitions read Hive-style from the paths."""
    types = {"date": pa.date32(), "string": pa.string()}
    keys = pa.schema([(k, types[c["type"]]) for k in table.partition_keys for c in table.columns if c["name"] == k])
    partitioning = ds.HivePartitioning(keys, null_fallback=HIVE_NULL)
    return ds.dataset(table.location_under(root), format="parquet", partitioning=partitioning).to_table()


# The tables the campaign, users, complaints and orders pipelines write.
WRITTEN = [
    "curated.campaign_task_progress",
    "curated.campaign_tasks",
    "curated.complaints",
    "curated.orders",
    "curated.product_details",
    "curated.purchase_details",
    "curated.shipping_addresses",
    "curated.user_locations",
    "curated.users",
    "raw.campaign_info",
    "raw.complaints",
    "raw.orders_events",
    "raw.user_campaign",
    "raw.users",
]


def test_every_table_reads_the_same_with_delta_rs_or_pyarrow_as_with_spark(spark, lake):
    compared = []
    for table in [t for t in all_tables() if has_data(t, lake)]:
        expected = spark_rows(spark, lake, table.qualified_name)
        assert expected, f"{table.qualified_name} is empty: nothing to compare"
        if table.format == "delta":
            arrow = RustDeltaTable(table.location_under(lake)).to_pyarrow_table()
        else:
            arrow = raw_dataset(table, lake)
        assert sorted(arrow.column_names) == sorted(table.column_names), table.qualified_name
        assert arrow_rows(arrow, table.column_names) == expected, table.qualified_name
        compared.append(table.qualified_name)
    assert compared == WRITTEN


def test_money_stays_decimal_through_delta_rs(lake):
    arrow = RustDeltaTable(load_table("curated.campaign_task_progress").location_under(lake)).to_pyarrow_table()
    assert arrow.schema.field("reward_earned").type == pa.decimal128(38, 6)
    assert all(isinstance(v, Decimal) for v in arrow.column("reward_earned").to_pylist() if v is not None)


def test_features_of_an_old_lake_are_reported_kept_by_jobs_and_aligned_on_request(spark, lake, tmp_path, capsys):
    """A lake written when the progress table had deletion vectors: delta-rs cannot read it until --apply."""
    root = str(tmp_path / "old")
    shutil.copytree(lake, root)
    name = "curated.campaign_task_progress"
    path = load_table(name).location_under(root)
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')")
    spark.sql(f"DELETE FROM delta.`{path}` WHERE task_id = 'TASK#share'")  # leaves a deletion vector
    with pytest.raises(DeltaProtocolError, match="deletionVectors"):
        RustDeltaTable(path).to_pyarrow_table()
    capsys.readouterr()

    assert cli.main(["table", "features", name, "--lake-root", root]) == 1
    shown = capsys.readouterr().out
    assert "3/7" in shown and "deletionVectors" in shown
    assert "the table's protocol has deletionVectors, which catalog/ does not enable" in shown

    # A job run reports the difference and leaves the table's features alone (the rebuild puts the
    # deleted rows back, by a MERGE on the table as it is).
    run_job(root, "curated_campaign_task_progress", rebuild="true")
    said = capsys.readouterr().out
    assert f"{name}: the table's protocol has deletionVectors" in said
    assert "deletionVectors" in spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["tableFeatures"]
    rows_before = spark_rows(spark, root, name)
    assert rows_before == spark_rows(spark, lake, name)

    assert cli.main(["table", "features", name, "--lake-root", root, "--apply"]) == 0
    applied = capsys.readouterr().out
    assert "deletionVectors switched off and purged" in applied
    assert "history restarts at version 0" in applied
    assert "matches catalog/" in applied
    assert spark_rows(spark, root, name) == rows_before
    arrow = RustDeltaTable(path).to_pyarrow_table()
    assert arrow_rows(arrow, load_table(name).column_names) == rows_before
    assert RustDeltaTable(path).protocol().min_reader_version == 1
    assert list(Path(path).glob("_delta_log.before-*/00000000000000000000.json"))

    # Jobs go on over the new log: a rebuild finds nothing to change.
    run_job(root, "curated_campaign_task_progress", rebuild="true")
    assert spark_rows(spark, root, name) == rows_before
    assert cli.main(["table", "features", name, "--lake-root", root]) == 0
