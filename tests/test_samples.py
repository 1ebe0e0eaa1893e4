"""samples/ is exactly what scripts/make_samples.py writes (each pipeline's module in scripts/samples/), in AWS's
export layout."""

from __future__ import annotations

import json
from pathlib import Path

from lakekit.core.settings import Settings
from lakekit.sources.dynamodb.exports import FULL, INCREMENTAL, discover
from scripts.make_samples import main as make_samples
from scripts.make_samples import writers

REPO = Path(__file__).resolve().parent.parent


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_committed_samples_are_what_the_script_writes(tmp_path):
    make_samples(tmp_path)
    assert _tree(tmp_path) == _tree(REPO / "samples")


def test_every_pipeline_with_samples_has_its_own_module():
    assert sorted(writers()) == ["campaign", "complaints", "retail", "users"]


def test_samples_are_discovered_in_time_order_and_the_unfinished_export_is_skipped():
    settings = Settings(env="local", lake_root=str(REPO / "samples"), metastore="derby")
    exports, notes = discover(settings, "user_Campaign")
    assert [(e.export_type, e.effective_time.isoformat()) for e in exports] == [
        (FULL, "2026-11-20T06:00:00+00:00"),
        (INCREMENTAL, "2026-11-20T07:00:00+00:00"),
    ]
    assert len(notes) == 1 and "still being written" in notes[0]
    summary = json.loads((Path(exports[1].path) / "manifest-summary.json").read_text())
    assert (summary["version"], summary["outputView"], summary["exportFromTime"]) == (
        "2023-08-01",
        "NEW_AND_OLD_IMAGES",
        "2026-11-20T06:00:00.000Z",
    )
