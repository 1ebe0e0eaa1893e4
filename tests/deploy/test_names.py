"""dev and prod in one account and region: no physical name twice, and each stack's jobs, Lambda and IAM
statements name that stack's own databases, tables and streams.

What names a resource is CloudFormation's own contract: the `primaryIdentifier` of the resource type's
registry schema (cfn-lint ships the schemas AWS publishes), read for every resource of both templates,
whatever its type; no list of today's names.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from importlib import resources as package_files
from pathlib import Path
from typing import Any

import pytest

from lakekit.core.settings import read_conf
from tests.deploy.test_stack import jsonata, render

REPO = Path(__file__).resolve().parents[2]
ACCOUNT, REGION = "123456789012", "eu-west-1"
# Resources AWS keeps once per account and region, whatever their stack: API Gateway's account settings
# (its CloudWatch role: "one per Region per account", API Gateway developer guide). Not a name, so not
# found by the identifier sweep; the stacks of one account must not both set it.
ACCOUNT_SINGLETONS = {"AWS::ApiGateway::Account"}
OVERRIDDEN_ENV, OVERRIDE = "prod", "crm-prod-customers"


@pytest.fixture(scope="module")
def shared_conf() -> dict:
    """conf/aws.yaml (over conf/base.yaml) with every environment in the same explicit account and region."""
    conf = copy.deepcopy(read_conf("aws", REPO / "conf").merged)
    for name in conf["deploy"]["environments"]:
        conf["deploy"]["environments"][name] = {
            **(conf["deploy"]["environments"][name] or {}),
            "account": ACCOUNT,
            "region": REGION,
        }
    # One environment names one serving table itself: the stack, the grants, the loader and the API follow.
    overridden = conf["deploy"]["environments"][OVERRIDDEN_ENV]
    overridden["names"] = {"fixed": {"serving_table": {"Customers": OVERRIDE}}}
    return conf


@pytest.fixture(scope="module")
def shared(shared_conf, tmp_path_factory) -> dict[str, dict]:
    """{environment: its synthesized template}, both stacks in one account and region."""
    from deploy.stack import build_app

    out = tmp_path_factory.mktemp("shared-cdk.out")
    assembly = build_app(out, shared_conf).synth()
    stacks = {s.stack_name: s for s in assembly.stacks}
    prefix = shared_conf["deploy"]["stack_name"]
    found = {env: stacks[f"{prefix}-{env}"].template for env in shared_conf["deploy"]["environments"]}
    assert len(found) == 2, sorted(stacks)
    return found


@cache
def _schema(resource_type: str) -> dict[str, Any]:
    schemas = package_files.files("cfnlint.data.schemas")
    providers = json.loads(schemas.joinpath("providers", "us-east-1.json").read_text())
    assert resource_type in providers, f"no CloudFormation schema for {resource_type}"
    return json.loads(schemas.joinpath("resources", f"{providers[resource_type]}.json").read_text())


def _at(properties: dict[str, Any], path: str) -> Any:
    value: Any = properties
    for key in path.removeprefix("/properties/").split("/"):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _part(value: Any, stack: str) -> str:
    """One part of an identifier as text: the account and region are the same in both stacks; anything else
    computed (a reference to a resource) is that stack's own."""
    pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws"}
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("Ref") in pseudo:
        return pseudo[value["Ref"]]
    return f"{stack}:{json.dumps(value, sort_keys=True)}"


def physical_names(stack: str, template: dict) -> dict[tuple, str]:
    """{(type, identifier...): logical id} of every resource whose identifier the template sets: the primary
    identifier's properties, or (AWS::Glue::Table's Name) the create-only property of the same name inside
    the input. A resource whose identifier the template leaves out gets one generated for its stack."""
    found: dict[tuple, str] = {}
    for logical, resource in template["Resources"].items():
        kind = resource["Type"]
        if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
            continue  # CDK's own resources: their id is their Lambda's answer
        schema = _schema(kind)
        properties = resource.get("Properties", {})
        parts = []
        for path in schema["primaryIdentifier"]:
            value = _at(properties, path)
            if value is None:
                key = path.rsplit("/", 1)[1]
                inner = [p for p in schema.get("createOnlyProperties", []) if p.endswith(f"/{key}") and p != path]
                value = _at(properties, inner[0]) if inner else None
            if value is None:
                break
            parts.append(_part(value, stack))
        else:
            found[(kind, *parts)] = logical
    return found


def test_no_physical_name_is_in_both_stacks(shared):
    names = {env: physical_names(env, template) for env, template in shared.items()}
    dev, prod = names.values()
    assert not set(dev) & set(prod), sorted(set(dev) & set(prod))
    # The sweep found the names the issue lists, each with the environment in it.
    kinds = {key[0] for key in dev}
    assert {
        "AWS::Glue::Database",
        "AWS::Glue::Table",
        "AWS::Glue::Job",
        "AWS::Glue::Workflow",
        "AWS::Glue::Trigger",
        "AWS::Kinesis::Stream",
        "AWS::KinesisFirehose::DeliveryStream",
        "AWS::DynamoDB::Table",
        "AWS::Athena::WorkGroup",
    } <= kinds, kinds
    for env, found in names.items():
        for key in found:
            if any(p.startswith(f"{env}:") for p in key[1:]):
                continue  # a part is another of the stack's resources: the identifier is the stack's own
            assert any(env in p for p in key[1:]), (env, key)


def test_the_account_settings_are_set_by_one_stack_the_other_deploys_after_it(shared, shared_conf, tmp_path):
    owners = [env for env, t in shared.items() if any(r["Type"] in ACCOUNT_SINGLETONS for r in t["Resources"].values())]
    first, second = shared_conf["deploy"]["environments"]
    assert owners == [first]
    from deploy.stack import build_app

    manifest_dir = tmp_path / "out"
    build_app(manifest_dir, shared_conf).synth()
    manifest = json.loads((manifest_dir / "manifest.json").read_text())
    prefix = shared_conf["deploy"]["stack_name"]
    assert f"{prefix}-{first}" in manifest["artifacts"][f"{prefix}-{second}"]["dependencies"]


def _jobs(template: dict) -> dict[str, dict]:
    return {
        r["Properties"]["Name"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Glue::Job"
    }


def _of_type(template: dict, kind: str) -> list[dict]:
    return [r.get("Properties", {}) for r in template["Resources"].values() if r["Type"] == kind]


def _allow_statements(template: dict):
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        documents = [properties["PolicyDocument"]] if resource["Type"] == "AWS::IAM::Policy" else []
        if resource["Type"] == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in properties.get("Policies", [])]
        for document in documents:
            for statement in document["Statement"]:
                if statement["Effect"] == "Allow":
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    found = (
                        statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                    )
                    yield actions, [render(r) for r in found]


def test_jobs_lambda_and_iam_name_their_own_stacks_resources(shared):
    deployed_by_env = {}
    for env, template in shared.items():
        databases = {p["DatabaseName"] for p in _of_type(template, "AWS::Glue::Database")}
        tables = {p["TableName"] for p in _of_type(template, "AWS::DynamoDB::Table")}
        streams = {p["Name"] for p in _of_type(template, "AWS::Kinesis::Stream")}
        deliveries = {p["DeliveryStreamName"] for p in _of_type(template, "AWS::KinesisFirehose::DeliveryStream")}
        assert databases and tables and streams and deliveries == streams
        assert databases == {f"{env}_raw", f"{env}_curated"}  # conf: "{environment}_{layer}"
        # Glue tables are registered in the stack's databases.
        assert {p["DatabaseName"] for p in _of_type(template, "AWS::Glue::Table")} == databases
        # Every job gets the same names: the stack's databases, serving tables and streams.
        for name, job in _jobs(template).items():
            given = json.loads(job["DefaultArguments"]["--names"])
            assert set(given["database"].values()) == databases, name
            assert set(given["serving_table"].values()) == tables, name
            assert set(given["stream"].values()) == streams, name
        # The Lambda puts to the stack's streams.
        (function,) = [
            f for f in _of_type(template, "AWS::Lambda::Function") if f.get("Handler") == "ingest_handler.handler"
        ]
        assert set(json.loads(function["Environment"]["Variables"]["LAKE_KINESIS_STREAMS"]).values()) == streams
        # IAM: the Glue databases and DynamoDB tables the roles may use are the stack's.
        granted_databases, written_tables = set(), set()
        for actions, arns in _allow_statements(template):
            for arn in arns:
                database = re.search(r":database/([^/*]+)$", arn)
                if database and any(a.startswith("glue:") for a in actions):
                    granted_databases.add(database.group(1))
                table = re.search(r":table/([^/]+)$", arn)
                if table and "dynamodb:BatchWriteItem" in actions:
                    written_tables.add(table.group(1))
            assert not any(a.startswith("athena:") for a in actions), "a role may use Athena: job roles are not users"
        assert granted_databases - {"default"} == databases
        assert written_tables == tables
        # The workflow triggers start the stack's jobs.
        jobs = set(_jobs(template))
        for trigger in _of_type(template, "AWS::Glue::Trigger"):
            assert {a["JobName"] for a in trigger["Actions"]} <= jobs
        deployed_by_env[env] = databases | tables | streams | jobs
    dev, prod = deployed_by_env.values()
    assert not dev & prod


def test_the_workgroup_enforces_encrypted_results_in_the_lake_and_a_scan_limit(shared, shared_conf):
    cutoff = shared_conf["deploy"]["athena"]["bytes_scanned_cutoff_gib"] * 1024**3
    for env, template in shared.items():
        (workgroup,) = _of_type(template, "AWS::Athena::WorkGroup")
        assert workgroup["Name"] == f"lake-{env}"  # conf: "lake-{environment}"
        configuration = workgroup["WorkGroupConfiguration"]
        assert configuration["EnforceWorkGroupConfiguration"] is True
        assert configuration["BytesScannedCutoffPerQuery"] == cutoff
        assert configuration["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
        results = configuration["ResultConfiguration"]
        assert re.fullmatch(r"s3://\$\{Lake\w+\}/lake/_athena_results/", render(results["OutputLocation"]))
        assert results["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}


def test_every_query_file_is_a_named_query_with_only_its_databases_renamed(shared):
    files = {
        p.relative_to(REPO / "queries").with_suffix("").as_posix(): p.read_text() for p in REPO.glob("queries/**/*.sql")
    }
    assert len(files) >= 10
    for env, template in shared.items():
        workgroup = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::Athena::WorkGroup")
        queries = {q["Name"]: q for q in _of_type(template, "AWS::Athena::NamedQuery")}
        assert sorted(queries) == sorted(files)
        for name, text in files.items():
            query = queries[name]
            assert query["WorkGroup"] == {"Ref": workgroup} and query["Database"] == f"{env}_curated", name
            deployed = query["QueryString"]
            assert not re.search(r"\b(curated|raw)\.", deployed), name  # no layer database left unrenamed
            assert re.search(rf"\b{env}_(curated|raw)\.", deployed), name
            # Renaming the environment's databases back gives the shipped file, byte for byte.
            assert re.sub(rf"\b{env}_(curated|raw)\b", r"\1", deployed) == text, name


def _role_statements(template: dict, role_arn: dict):
    (logical, _) = role_arn["Fn::GetAtt"]
    for policy in template["Resources"][logical]["Properties"].get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]


def test_one_override_names_the_table_the_stack_makes_and_grants_and_the_loader_and_api_use(shared, monkeypatch):
    import boto3
    from botocore.stub import Stubber
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from lakekit.core.settings import load_settings
    from lakekit.pipelines import complaints
    from lakekit.pipelines.retail import jobs as retail
    from lakekit.pipelines.retail.api import customer_router

    template = shared[OVERRIDDEN_ENV]
    tables = {p["TableName"] for p in _of_type(template, "AWS::DynamoDB::Table")}
    invoices = f"{OVERRIDDEN_ENV}-Invoices"  # the template's, conf: "{environment}-{table}"
    assert {OVERRIDE, invoices} <= tables and f"{OVERRIDDEN_ENV}-Customers" not in tables
    job = _jobs(template)[f"{OVERRIDDEN_ENV}-load_retail_dynamodb"]
    written = [
        render(r).rsplit("table/", 1)[1]
        for statement in _role_statements(template, job["Role"])
        if "dynamodb:BatchWriteItem" in statement["Action"]
        for r in statement["Resource"]
    ]
    assert sorted(written) == sorted([OVERRIDE, invoices])

    # The job, with the arguments the stack gives it: its loader writes the table the stack made.
    for variable in ("LAKE_ENVIRONMENT", "LAKE_NAMES", "LAKE_CONF_DIR"):
        monkeypatch.delenv(variable, raising=False)
    settings = load_settings("aws", "s3://lake-bucket/lake", names=job["DefaultArguments"]["--names"])
    feeds = []
    for module in (retail, complaints):
        monkeypatch.setattr(module, "load_feed", lambda run, feed, bookmark: feeds.append(feed) or _Nothing())
    run = type("Run", (), {"settings": settings, "args": {}, "position": lambda self: {}, "say": print})()
    retail.run_load_retail_dynamodb(run)
    complaints.run_load_complaints_dynamodb(run)
    assert [f.table_name for f in feeds] == [OVERRIDE, invoices, f"{OVERRIDDEN_ENV}-consumer_complaints"]

    # The lookup API over the same settings reads it.
    client = boto3.client("dynamodb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_response("get_item", {}, {"TableName": OVERRIDE, "Key": {"customer_id": {"S": "17850"}}})
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
    app = FastAPI()
    app.include_router(customer_router(settings))
    with stubber:
        answer = TestClient(app).get("/v1/customers/17850")
    assert (answer.status_code, answer.json()) == (404, {"error": "no customer 17850"})
    stubber.assert_no_pending_responses()


class _Nothing:
    version = None


def test_the_export_tokens_of_the_two_environments_differ_for_the_same_window(shared):
    """A ClientToken is the account's for 8 hours: the same token with another bucket is an ExportConflictException
    (DynamoDB API reference, ExportTableToPointInTime)."""
    window = {"from": "2026-11-30T10:00:00.000Z", "to": "2026-11-30T11:00:00.000Z"}
    tokens = {}
    for env, template in shared.items():
        (machine,) = _of_type(template, "AWS::StepFunctions::StateMachine")
        definition = json.loads(render(machine["DefinitionString"]))
        for branch in definition["States"]["Export tables"]["Branches"]:
            (export,) = [s for s in branch["States"].values() if s.get("Resource", "").endswith("PointInTime")]
            arguments = export["Arguments"]
            tokens[(env, arguments["TableArn"].rsplit("/", 1)[1])] = jsonata(arguments["ClientToken"], window)
    assert len(set(tokens.values())) == len(tokens) == 4, tokens
