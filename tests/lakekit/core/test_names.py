"""Physical names (lakekit/core/names.py): templates with the environment, explicit names, the services' rules."""

from __future__ import annotations

import json

import pytest

from lakekit.core.names import Names
from lakekit.core.settings import ConfigError, load_names, load_settings

AWS_LIKE = {
    "templates": {
        "database": "{environment}_{layer}",
        "serving_table": "{environment}-{table}",
        "stream": "lake-{environment}-{stream}",
        "job": "{environment}-{job}",
        "workflow": "{environment}-{workflow}",
        "workgroup": "lake-{environment}",
    },
    "fixed": {"serving_table": {"Customers": "crm-customers"}},
}


@pytest.fixture(autouse=True)
def _no_names_from_the_shell(monkeypatch):
    for variable in ("LAKE_ENVIRONMENT", "LAKE_NAMES", "LAKE_CONF_DIR", "LAKE_ENV"):
        monkeypatch.delenv(variable, raising=False)


def test_templates_fill_in_the_environment_and_a_fixed_name_wins():
    names = Names.from_conf(AWS_LIKE, environment="dev")
    assert [names.database("raw"), names.database("curated")] == ["dev_raw", "dev_curated"]
    assert [names.serving_table("Invoices"), names.serving_table("Customers")] == ["dev-Invoices", "crm-customers"]
    assert [names.stream("orders"), names.job("ingest_users"), names.workflow("users"), names.workgroup()] == [
        "lake-dev-orders",
        "dev-ingest_users",
        "dev-users",
        "lake-dev",
    ]


def test_local_runs_keep_the_plain_layer_and_table_names():
    names = load_settings("local", "/tmp").names
    assert [names.database("raw"), names.database("curated"), names.serving_table("Customers")] == [
        "raw",
        "curated",
        "Customers",
    ]
    assert (names.stream("orders"), names.workgroup()) == ("orders", "primary")


def test_aws_takes_the_environment_from_lake_environment(monkeypatch):
    monkeypatch.setenv("LAKE_ENVIRONMENT", "prod")
    names = load_names("aws")
    assert (names.database("curated"), names.serving_table("consumer_complaints")) == (
        "prod_curated",
        "prod-consumer_complaints",
    )


def test_a_template_that_needs_the_environment_without_one_is_a_clear_error():
    with pytest.raises(ConfigError) as raised:
        load_names("aws").database("raw")
    assert str(raised.value) == (
        "names.templates.database ('{environment}_{layer}') needs the environment: set LAKE_ENVIRONMENT (e.g. dev) "
        "or names.environment in the conf (a deployed job gets its names as --names)"
    )


def test_names_given_as_json_win_over_the_conf_and_need_no_environment():
    given = json.dumps({"database": {"raw": "x_raw", "curated": "x_curated"}, "stream": {"orders": "ev-orders"}})
    names = Names.from_conf(AWS_LIKE, given=given)
    assert (names.database("raw"), names.stream("orders"), names.serving_table("Customers")) == (
        "x_raw",
        "ev-orders",
        "crm-customers",
    )


@pytest.mark.parametrize(
    ("conf", "environment", "call", "message"),
    [
        (
            {"templates": {"database": "{environment}-{layer}"}},
            "dev",
            lambda n: n.database("raw"),
            "names.templates.database ('{environment}-{layer}') gives 'dev-raw': a database name must be lowercase "
            "letters, digits and _ (Athena's rule), 1 to 255",
        ),
        (
            {"templates": {"database": "{environment}_{layer}"}},
            "Dev",
            lambda n: n.database("raw"),
            "names.templates.database ('{environment}_{layer}') gives 'Dev_raw': a database name must be lowercase "
            "letters, digits and _ (Athena's rule), 1 to 255",
        ),
        (
            {"fixed": {"database": {"curated": "Curated"}}},
            None,
            lambda n: n.database("curated"),
            "names.fixed.database.curated gives 'Curated': a database name must be lowercase letters, digits and _ "
            "(Athena's rule), 1 to 255",
        ),
        (
            {"templates": {"stream": "{environment}-{stream}-" + "x" * 60}},
            "dev",
            lambda n: n.stream("orders"),
            f"names.templates.stream ('{{environment}}-{{stream}}-{'x' * 60}') gives 'dev-orders-{'x' * 60}': a "
            "stream name must be letters, digits, _ . - (Firehose's rule), 1 to 64",
        ),
    ],
)
def test_a_name_the_service_would_refuse_is_a_clear_error_naming_the_key(conf, environment, call, message):
    with pytest.raises(ConfigError) as raised:
        call(Names.from_conf(conf, environment=environment))
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("conf", "given", "message"),
    [
        (
            {"templates": {"job": "{environment}-{layer}"}},
            None,
            "names: names.templates.job uses {layer}; it may use {environment}, {job}",
        ),
        ({"templates": {"bucket": "{environment}"}}, None, "names: names.templates.bucket: unknown kind 'bucket'"),
        ({"prefix": "x"}, None, "names: unknown key names.prefix (known: environment, templates, fixed)"),
        ({}, "{not json", "--names is not JSON {kind: {name: physical name}}"),
        ({}, '{"stream": {"orders": 7}}', "--names.stream must map names to names (strings)"),
    ],
)
def test_a_malformed_names_section_is_refused(conf, given, message):
    with pytest.raises(ConfigError) as raised:
        Names.from_conf(conf, given=given)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        (
            {"serve": {"kinesis": {"stream_prefix": "lake-"}}},
            "conf/x.yaml: serve.kinesis.stream_prefix is no longer read; set names.templates.stream instead",
        ),
        (
            {"sources": {"complaints": {"dynamodb_table": "t"}}},
            "conf/x.yaml: sources.complaints.dynamodb_table is no longer read; a serving table's name is "
            "names.fixed.serving_table.<its catalog/serving/ name> (else names.templates.serving_table)",
        ),
    ],
)
def test_a_key_that_named_a_resource_before_names_is_refused(tmp_path, monkeypatch, conf, message):
    (tmp_path / "x.yaml").write_text(json.dumps({"lake_root": "/tmp", **conf}))
    monkeypatch.setenv("LAKE_CONF_DIR", str(tmp_path))
    with pytest.raises(ConfigError) as raised:
        load_settings("x")
    assert str(raised.value) == message


def test_a_deployed_jobs_physical_name_leaves_its_lock_bookmark_and_log_under_the_registry_name(tmp_path, capsys):
    """Glue passes --JOB_NAME <the environment's job name>; the run is still the registry's job."""
    from lakekit.core.registry import run_job

    argv = ["jobs/load_retail_dynamodb.py", "--JOB_NAME", "dev-load_retail_dynamodb", "--lake_root", str(tmp_path)]
    run_job("load_retail_dynamodb", argv)
    out = capsys.readouterr().out
    assert "[load_retail_dynamodb] nothing new since the bookmark" in out and "dev-load_retail_dynamodb" not in out
    assert "dev-load_retail_dynamodb" not in [p.name for p in tmp_path.rglob("*")]
