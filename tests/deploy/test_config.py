"""The deploy settings: environments laid over the `deploy:` defaults, lock timeouts, per-job overrides."""

import pytest

from deploy.config import DeployConfigError, environments

CONF = {
    "jobs": {"default": {"timeout_minutes": 600}, "slow_job": {"timeout_minutes": 1440}},
    "serve": {"kinesis": {"stream_prefix": "ev-"}},
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


def test_kinesis_names_follow_the_ingest_services_prefix():
    assert environments(CONF)[0].kinesis_name("orders") == "ev-orders"
    assert environments({**CONF, "serve": {}})[0].kinesis_name("orders") == "lake-orders"


def test_a_conf_without_environments_is_refused_in_one_line():
    with pytest.raises(DeployConfigError, match="no deploy.environments"):
        environments({"deploy": {"stack_name": "lake"}})
