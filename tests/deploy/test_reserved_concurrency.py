"""The ingest Lambda reserves concurrency only when conf says so (deploy.api.reserved_concurrency): Lambda keeps 100
of an account's concurrency unreserved and a new account's quota can be as low as 10, so any reservation there fails
the deployment (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html)."""

from __future__ import annotations

import copy

import pytest

from deploy.config import DeployConfigError
from tests.deploy.test_stack import of_type


def _ingest_function(resources: dict) -> dict:
    (function,) = [
        f for f in of_type(resources, "AWS::Lambda::Function").values() if f.get("Handler") == "ingest_handler.handler"
    ]
    return function


def test_by_default_nothing_is_reserved(templates, conf):
    assert conf["deploy"]["api"].get("reserved_concurrency") is None
    for template in templates.values():
        assert "ReservedConcurrentExecutions" not in _ingest_function(template["Resources"])


def test_a_configured_value_is_reserved_in_that_environment_only(conf, tmp_path):
    from deploy.stack import build_app

    conf = copy.deepcopy(conf)
    conf["deploy"]["environments"]["prod"] = {
        **(conf["deploy"]["environments"]["prod"] or {}),
        "api": {"reserved_concurrency": 25},
    }
    assembly = build_app(tmp_path, conf).synth()
    found = {
        s.stack_name: _ingest_function(s.template["Resources"]).get("ReservedConcurrentExecutions")
        for s in assembly.stacks
    }
    prefix = conf["deploy"]["stack_name"]
    assert found == {f"{prefix}-dev": None, f"{prefix}-prod": 25}
    # The other api keys still come from deploy.api (an environment overrides only what it names).
    prod = next(s for s in assembly.stacks if s.stack_name == f"{prefix}-prod")
    assert _ingest_function(prod.template["Resources"])["MemorySize"] == conf["deploy"]["api"]["lambda_memory_mib"]


@pytest.mark.parametrize("value", [0, -1, "20", 2.5, True])
def test_a_bad_value_is_refused_naming_the_key(value):
    from deploy.stack import _reserved_concurrency

    with pytest.raises(DeployConfigError, match=r"deploy\.api\.reserved_concurrency: null or a whole number >= 1"):
        _reserved_concurrency({"reserved_concurrency": value})


def test_the_key_once_read_is_refused_naming_its_replacement():
    from deploy.stack import _reserved_concurrency

    with pytest.raises(DeployConfigError, match="deploy.api.concurrency is no longer read; set deploy.api.reserved"):
        _reserved_concurrency({"concurrency": 20})


def test_a_bad_value_in_conf_stops_the_synthesis(conf, tmp_path):
    from deploy.stack import build_app

    conf = copy.deepcopy(conf)
    conf["deploy"]["api"]["reserved_concurrency"] = "twenty"
    with pytest.raises(DeployConfigError, match="not 'twenty'"):
        build_app(tmp_path, conf)
