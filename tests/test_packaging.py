"""The wheel Glue loads with --additional-python-modules holds the library, runtime, jobs and catalog YAML."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_contains_library_runtime_jobs_and_catalog(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("campaign_lake-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"catalog/{p.relative_to(REPO / 'catalog')}" for p in (REPO / "catalog").rglob("*.yaml")}
    expected |= {f"transforms/{p.name}" for p in (REPO / "transforms").glob("*.py")}
    expected |= {f"lakekit/{p.name}" for p in (REPO / "lakekit").glob("*.py")}
    expected |= {f"jobs/{p.name}" for p in (REPO / "jobs").glob("*.py")}
    assert expected <= names, sorted(expected - names)
    assert not any(n.startswith(("tests/", "samples/", "scripts/")) for n in names)
