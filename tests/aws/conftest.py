"""The local AWS of these tests (see tests/cloud.py) and the wheel in a fresh venv, built once for the session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cloud import REPO, moto_server

moto = pytest.fixture(scope="module")(moto_server)


@pytest.fixture(scope="session")
def venv(tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel; pyspark, delta-spark, boto3 and PyYAML come from the dev venv's
    site-packages through a .pth line (what Glue's runtime provides; installing them from pip's cache
    instead takes about 77 s here). The dev venv's editable install is not seen: .pth files of a folder
    added that way are not run."""
    import pyspark

    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("lakekit-*.whl")
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "_glue_runtime.pth").write_text(str(Path(pyspark.__file__).parents[1]) + "\n")
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    return venv
