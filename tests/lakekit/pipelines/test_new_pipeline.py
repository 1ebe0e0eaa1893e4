"""A sixth pipeline, added by files of its own: nothing in lakekit/, catalog/ or the CLI changes to take it.

The pipeline is a package written in a temporary folder, with its catalog YAML in its own `catalog`
subpackage, and a distribution's metadata declaring both (entry point groups `lakekit.pipelines` and
`lakekit.catalog`): what a pipeline shipped as its own wheel would carry. The `lake` command finds its
job and workflow through the registry and runs them on a temporary lake.
"""

from __future__ import annotations

import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import types as T

from lakekit.catalog import model
from lakekit.cli import main
from lakekit.core import registry

PACKAGE = "shop_items_pipeline"

PIPELINE_MODULE = '''
"""The shop items pipeline: the newest snapshot in landing/shop_items/ (JSON lines) -> curated.shop_items (Delta)."""

from __future__ import annotations

from pyspark.sql import functions as F

from lakekit.core.job import JobRun
from lakekit.core.registry import Job, Pipeline, Step
from lakekit.tables import TableHandle

LANDING = "landing/shop_items"
TABLE = "curated.shop_items"
JOB = "curated_shop_items"


def run_curated_shop_items(run: JobRun) -> None:
    """The table made equal to the newest snapshot file (by name): its items upserted, the others deleted."""
    items = TableHandle(run, TABLE).register()
    schema = items.table.schema
    landed_df = run.spark.read.schema(schema).json(run.settings.path(*LANDING.split("/")))
    landed_df = landed_df.withColumn("_file", F.input_file_name())
    newest = landed_df.agg(F.max("_file")).first()[0]
    items.write(items.current(), landed_df.where(F.col("_file") == newest).drop("_file"))


PIPELINE = Pipeline(
    name="shop_items",
    jobs=(Job(JOB, run_curated_shop_items, {}, f"{LANDING} -> {TABLE}", reads=(LANDING,), writes=(TABLE,)),),
    workflows={"shop_items": (Step(JOB),)},
)
'''

TABLE_YAML = """
layer: curated
name: shop_items
description: One row per shop item, as in the newest snapshot landed.
format: delta
location: curated/shop_items
primary_key: [item_id]
columns:
  - {name: item_id, type: bigint}
  - {name: name, type: string}
  - {name: price, type: "decimal(10,2)"}
"""

ENTRY_POINTS = f"""
[lakekit.pipelines]
shop_items = {PACKAGE}

[lakekit.catalog]
shop_items = {PACKAGE}.catalog
"""

SCHEMA = T.StructType(
    [
        T.StructField("item_id", T.LongType()),
        T.StructField("name", T.StringType()),
        T.StructField("price", T.DecimalType(10, 2)),
    ]
)


def _clear_caches() -> None:
    registry.pipelines.cache_clear()
    model.load_table.cache_clear()
    model.catalog_roots.cache_clear()


@pytest.fixture
def shop_items_installed(tmp_path):
    """The pipeline's package and its distribution metadata on sys.path, as `pip install` would leave them."""
    site = tmp_path / "site"
    (site / PACKAGE / "catalog" / "curated").mkdir(parents=True)
    (site / PACKAGE / "__init__.py").write_text(textwrap.dedent(PIPELINE_MODULE))
    (site / PACKAGE / "catalog" / "__init__.py").write_text("")
    (site / PACKAGE / "catalog" / "curated" / "shop_items.yaml").write_text(TABLE_YAML)
    metadata = site / f"{PACKAGE}-0.1.dist-info"
    metadata.mkdir()
    (metadata / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: 0.1\n")
    (metadata / "entry_points.txt").write_text(ENTRY_POINTS)
    sys.path.insert(0, str(site))
    _clear_caches()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
        _clear_caches()


def land(lake_root: str, name: str, lines: list[str]) -> None:
    folder = Path(lake_root) / "landing" / "shop_items"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(line + "\n" for line in lines))


def test_a_pipeline_in_its_own_package_runs_through_the_registry_and_the_cli(
    shop_items_installed, spark, lake_root, capsys
):
    assert "curated_shop_items" in registry.job_names()
    assert [s.job for s in registry.workflow("shop_items")] == ["curated_shop_items"]
    assert "curated.shop_items" in [t.qualified_name for t in model.all_tables()]
    assert main(["job", "list"]) == 0
    assert "curated_shop_items" in capsys.readouterr().out

    land(
        lake_root,
        "2026-12-01.jsonl",
        [
            '{"item_id": 1, "name": "kettle", "price": 24.50}',
            '{"item_id": 2, "name": "lamp", "price": 12.00}',
            '{"item_id": 3, "name": "rug", "price": null}',
        ],
    )
    assert main(["workflow", "run", "shop_items", "--lake-root", lake_root]) == 0
    path = str(Path(lake_root) / "curated" / "shop_items")
    expected = [(1, "kettle", Decimal("24.50")), (2, "lamp", Decimal("12.00")), (3, "rug", None)]
    assert_df_equality(
        spark.read.format("delta").load(path),
        spark.createDataFrame(expected, SCHEMA),
        ignore_row_order=True,
    )

    # The next snapshot: a price changed, an item gone, one new. The job MERGEs the table into it.
    land(
        lake_root,
        "2026-12-02.jsonl",
        [
            '{"item_id": 1, "name": "kettle", "price": 22.00}',
            '{"item_id": 3, "name": "rug", "price": null}',
            '{"item_id": 4, "name": "vase", "price": 9.99}',
        ],
    )
    assert main(["job", "run", "curated_shop_items", "--lake-root", lake_root]) == 0
    expected = [(1, "kettle", Decimal("22.00")), (3, "rug", None), (4, "vase", Decimal("9.99"))]
    assert_df_equality(
        spark.read.format("delta").load(path),
        spark.createDataFrame(expected, SCHEMA),
        ignore_row_order=True,
    )
    assert "curated.shop_items" in capsys.readouterr().out


def test_once_uninstalled_the_pipeline_is_gone():
    assert "curated_shop_items" not in registry.job_names()
    with pytest.raises(model.CatalogError):
        model.load_table("curated.shop_items")
