"""The wheel Glue loads with --additional-python-modules works on its own, with no source tree on the path."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from lakekit.core.settings import load_settings
from lakekit.catalog.model import all_tables, load_table
from importlib import resources
import lakekit
aws = load_settings("aws", "s3://bucket/lake")
local = load_settings("local")
print(json.dumps({
    "package": lakekit.__file__,
    "aws": [aws.env, aws.lake_root, aws.metastore, aws.spark["conf"]["spark.sql.session.timeZone"]],
    "local": [local.env, local.metastore, local.spark["master"]],
    "conf_files": sorted(p.name for p in resources.files("lakekit.conf").iterdir() if p.name.endswith(".yaml")),
    "sources": [sorted(aws.sources), sorted(local.sources), aws.jobs["default"]["timeout_minutes"]],
    "tables": [t.qualified_name for t in all_tables()],
    "progress_key": list(load_table("curated.campaign_task_progress").primary_key),
    "path": sys.path,
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("lakekit-*.whl")
    return built


def test_wheel_holds_the_runtime_transforms_jobs_catalog_and_conf_and_no_test_data_writer(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"catalog/{p.relative_to(REPO / 'catalog')}" for p in (REPO / "catalog").rglob("*.yaml")}
    expected |= {f"lakekit/conf/{p.name}" for p in (REPO / "conf").glob("*.yaml")}
    expected |= {f"transforms/{p.name}" for p in (REPO / "transforms").glob("*.py")}
    expected |= {f"lakekit/{p.relative_to(REPO / 'lakekit')}" for p in (REPO / "lakekit").rglob("*.py")}
    expected |= {f"jobs/{p.name}" for p in (REPO / "jobs").glob("*.py")}
    expected.add("lakekit/core/log4j2-quiet.properties")  # Spark's quiet logging, passed to the JVM by path
    assert expected <= names, sorted(expected - names)
    assert not any(n.startswith(("tests/", "samples/", "scripts/", "bench/")) for n in names)
    assert not any("export_writer" in n for n in names)


def test_installed_wheel_loads_local_and_aws_settings_and_the_catalog(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The wheel alone plus PyYAML and pydantic (the conf's schema), at this venv's versions (pydantic pins its core):
    # Spark and boto3 are the Glue runtime's, and not needed to load settings.
    schema = ["pydantic", "pydantic-core", "annotated-types", "typing-extensions", "typing-inspection"]
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel), "pyyaml"]
        + [f"{name}=={version(name)}" for name in schema],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run(
        [str(python), "-c", PROBE], cwd=work, capture_output=True, text=True, env={"PATH": "", "HOME": str(tmp_path)}
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["package"].startswith(str(venv))
    assert not any(str(REPO) in p for p in found["path"])
    assert found["aws"] == ["aws", "s3://bucket/lake", "glue", "UTC"]
    assert found["local"] == ["local", "derby", "local[2]"]
    # conf/base.yaml ships beside the overlays, and both environments read its sources and job defaults.
    assert found["conf_files"] == ["aws.yaml", "base.yaml", "local.yaml"]
    assert found["sources"] == [["complaints", "users"], ["complaints", "users"], 2880]
    assert found["tables"] == [
        "curated.campaign_task_progress",
        "curated.campaign_tasks",
        "curated.complaints",
        "curated.orders",
        "curated.product_details",
        "curated.purchase_details",
        "curated.retail_customers",
        "curated.retail_invoice_lines",
        "curated.retail_invoices",
        "curated.shipping_addresses",
        "curated.user_locations",
        "curated.users",
        "raw.campaign_info",
        "raw.complaints",
        "raw.orders_events",
        "raw.retail_events",
        "raw.user_campaign",
        "raw.users",
    ]
    assert found["progress_key"] == ["user_id", "campaign_id", "task_id"]
