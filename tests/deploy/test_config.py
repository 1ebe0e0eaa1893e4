"""The deploy settings: environments laid over the `deploy:` defaults, lock timeouts, per-job overrides."""

import pytest

from deploy.config import DeployConfigError, environments
from lakekit.core.settings import ConfigError

CONF = {
    "jobs": {"default": {"timeout_minutes": 600}, "slow_job": {"timeout_minutes": 1440}},
    "names": {"templates": {"stream": "ev-{environment}-{stream}"}},
    "deploy": {
        "stack_name": "lake",
        "environments": {"dev": None, "prod": {"glue": {"workers": 10}, "jobs": {"big_job": {"worker_type": "G.2X"}}}},
        "glue": {"worker_type": "G.1X", "workers": 2, "default_timeout_minutes": 2880},
        "jobs": {"big_job": {"workers": 4, "dynamodb_tables": ["Customers"]}},
    },
}


def test_an_environment_overrides_only_the_keys_it_names():
    dev, prod = environments(CONF)
    assert (dev.stack_name, prod.stack_name) == ("lake-dev", "lake-prod")
    assert (dev.job_setting("any_job", "workers"), prod.job_setting("any_job", "workers")) == (2, 10)
    assert dev.job_setting("big_job", "worker_type") == "G.1X"
    assert prod.job_setting("big_job", "worker_type") == "G.2X"
    assert (dev.job_setting("big_job", "workers"), prod.job_setting("big_job", "workers")) == (4, 4)
    assert prod.job_setting("big_job", "dynamodb_tables") == ["Customers"]
    assert dev.job_setting("any_job", "dynamodb_tables") is None
    assert CONF["deploy"]["glue"]["workers"] == 2  # the conf itself is left as it was


def test_a_jobs_timeout_is_its_own_lock_timeout_then_the_default_then_the_deploy_fallback():
    dev = environments(CONF)[0]
    assert (dev.timeout_minutes("slow_job"), dev.timeout_minutes("any_job")) == (1440, 600)
    bare = environments({**CONF, "jobs": {}})[0]
    assert bare.timeout_minutes("slow_job") == 2880


def test_kinesis_names_follow_the_names_template_of_each_environment():
    dev, prod = environments(CONF)
    assert (dev.kinesis_name("orders"), prod.kinesis_name("orders")) == ("ev-dev-orders", "ev-prod-orders")
    assert environments({**CONF, "names": {}})[0].kinesis_name("orders") == "orders"  # the embedded default


def test_an_environment_may_override_its_names():
    conf = {**CONF, "deploy": {**CONF["deploy"], "environments": {"dev": None, "prod": {"names": {"fixed": {}}}}}}
    conf["deploy"]["environments"]["prod"]["names"]["fixed"] = {"serving_table": {"Customers": "crm-customers"}}
    dev, prod = environments(conf)
    assert (dev.names.serving_table("Customers"), prod.names.serving_table("Customers")) == (
        "Customers",
        "crm-customers",
    )
    assert "names" not in prod.deploy


def test_a_retired_name_key_is_refused_naming_its_replacement():
    with pytest.raises(ConfigError, match=r"serve.kinesis.stream_prefix is no longer read; set names.templates.stream"):
        environments({**CONF, "serve": {"kinesis": {"stream_prefix": "ev-"}}})


def test_a_conf_without_environments_is_refused_in_one_line():
    with pytest.raises(DeployConfigError, match="no deploy.environments"):
        environments({"deploy": {"stack_name": "lake"}})
