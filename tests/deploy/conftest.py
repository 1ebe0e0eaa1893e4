"""One synthesis for the deploy tests: `python deploy/app.py` (as `make deploy-check` and `cdk` run it) into a
temporary cloud assembly, read back as CDK assertion Templates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lakekit.core.settings import deep_merge

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cdk_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cdk.out")
    env = {**os.environ, "CDK_OUTDIR": str(out), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    done = subprocess.run(
        [sys.executable, str(REPO / "deploy" / "app.py")], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def conf() -> dict:
    """conf/base.yaml with conf/aws.yaml over it, as files: what the tests expect is read from them, not from the
    app's own reading of them (the merge is tests/lakekit/core/test_settings.py's)."""
    base, aws = (yaml.safe_load((REPO / "conf" / f"{name}.yaml").read_text()) for name in ("base", "aws"))
    return deep_merge(base, aws)


@pytest.fixture(scope="session")
def stack_names(conf) -> list[str]:
    return [f"{conf['deploy']['stack_name']}-{name}" for name in conf["deploy"]["environments"]]


@pytest.fixture(scope="session")
def physical(conf):
    """physical(kind, name): the first environment's name of a resource, as conf/aws.yaml's names.templates spell
    it (read from the file with str.format, not through lakekit.core.names)."""
    environment = next(iter(conf["deploy"]["environments"]))
    placeholders = {"database": "layer", "serving_table": "table", "stream": "stream", "job": "job"}
    placeholders |= {"workflow": "workflow"}

    def name(kind: str, logical: str | None = None) -> str:
        fixed = ((conf["names"].get("fixed") or {}).get(kind) or {}).get(logical)
        if fixed:
            return fixed
        values = {"environment": environment, **({placeholders[kind]: logical} if kind in placeholders else {})}
        return conf["names"]["templates"][kind].format(**values)

    return name


@pytest.fixture(scope="session")
def templates(cdk_out, stack_names) -> dict[str, dict]:
    return {name: json.loads((cdk_out / f"{name}.template.json").read_text()) for name in stack_names}


@pytest.fixture(scope="session")
def template(templates, stack_names):
    """The first environment's stack as a CDK assertions Template (every environment is built by the same code)."""
    from aws_cdk.assertions import Template

    return Template.from_json(templates[stack_names[0]])


@pytest.fixture(scope="session")
def resources(templates, stack_names) -> dict[str, dict]:
    return templates[stack_names[0]]["Resources"]
