"""The demo lake (the committed samples landed, the campaign workflow run) built once for the tests that read it."""

from __future__ import annotations

import shutil
from pathlib import Path

from lakekit.catalog.metastore import register_existing_tables
from tests.helpers import run_campaign

SAMPLES_LANDING = Path(__file__).resolve().parent.parent / "samples" / "landing"
_BUILT: list[str] = []


def demo_lake(spark, tmp_path_factory) -> str:
    """The demo lake's root, built on first use; its tables registered in the suite's metastore.

    Read-only for its users. Tests of other modules point the shared metastore's tables at their own
    lake roots, so every call points them back here.
    """
    if not _BUILT:
        root = tmp_path_factory.mktemp("demo") / "lake"
        shutil.copytree(SAMPLES_LANDING, root / "landing")
        run_campaign(str(root))
        _BUILT.append(str(root))
    register_existing_tables(spark, _BUILT[0])
    return _BUILT[0]
