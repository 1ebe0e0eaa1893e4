"""CDK assertions on the synthesized stacks: every job, table, stream and schedule deployed, as the issue asks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Match

from lakekit.core import registry

REPO = Path(__file__).resolve().parents[2]
DELTA_CONF = (
    "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension"
    " --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog"
)


def render(value: Any) -> str:
    """A CloudFormation value as text: Ref X -> ${X}, GetAtt X.Y -> ${X.Y}, joins joined."""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(p) for p in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"${{{value['Ref']}}}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    if isinstance(value, dict) and "Fn::Sub" in value:
        return value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
    return json.dumps(value, sort_keys=True)


def of_type(resources: dict[str, dict], kind: str) -> dict[str, dict]:
    return {k: r.get("Properties", {}) for k, r in resources.items() if r["Type"] == kind}


@pytest.fixture(scope="session")
def lake_bucket(templates, stack_names) -> str:
    """The lake bucket's logical id, found from the stack's LakeRoot output (s3://${bucket}/lake)."""
    root = render(templates[stack_names[0]]["Outputs"]["LakeRoot"]["Value"])
    found = re.fullmatch(r"s3://\$\{(\w+)\}/lake", root)
    assert found, root
    return found.group(1)


@pytest.fixture(scope="session")
def glue_jobs(resources, physical) -> dict[str, dict]:
    """{registry job name: its Glue job}, each found under the environment's physical name."""
    deployed = {p["Name"]: p for p in of_type(resources, "AWS::Glue::Job").values()}
    scripts = sorted(p.stem for p in (REPO / "jobs").glob("*.py") if not p.name.startswith("_"))
    assert sorted(deployed) == sorted(physical("job", job) for job in scripts)
    return {job: deployed[physical("job", job)] for job in scripts}


# ---------------------------------------------------------------------------------------------------- jobs


def test_every_job_script_has_a_glue_job(glue_jobs):
    scripts = sorted(p.stem for p in (REPO / "jobs").glob("*.py") if not p.name.startswith("_"))
    assert scripts, "no job script found"
    assert sorted(glue_jobs) == scripts


def test_every_job_runs_the_wheel_with_delta_bookmarks_and_the_lake_root(glue_jobs, lake_bucket, conf):
    version = re.search(r'version="([^"]+)"', (REPO / "setup.py").read_text()).group(1)
    for name, job in glue_jobs.items():
        arguments = {k: render(v) for k, v in job["DefaultArguments"].items()}
        assert re.fullmatch(
            rf"s3://\$\{{{lake_bucket}\}}/artifacts/[0-9a-f]{{16}}/lakekit-{re.escape(version)}-py3-none-any\.whl",
            arguments["--additional-python-modules"],
        ), name
        assert arguments["--datalake-formats"] == "delta", name
        assert arguments["--conf"] == DELTA_CONF, name
        assert arguments["--job-bookmark-option"] == "job-bookmark-enable", name
        assert arguments["--enable-glue-datacatalog"] == "true", name
        assert arguments["--env"] == "aws", name
        assert arguments["--lake_root"] == f"s3://${{{lake_bucket}}}/lake", name
        assert job["GlueVersion"] == "5.1", name
        assert job["Command"]["Name"] == "glueetl", name
        assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}, name
        assert job["WorkerType"] == conf["deploy"]["glue"]["worker_type"], name
        assert job["NumberOfWorkers"] == conf["deploy"]["glue"]["workers"], name


def test_a_jobs_timeout_is_its_lock_expiry(glue_jobs, conf):
    """Glue stops a run at the same time its lock expires: jobs.<job>, then jobs.default, in conf."""
    locks = conf.get("jobs") or {}
    fallback = (locks.get("default") or {}).get("timeout_minutes", conf["deploy"]["glue"]["default_timeout_minutes"])
    for name, job in glue_jobs.items():
        assert job["Timeout"] == (locks.get(name) or {}).get("timeout_minutes", fallback), name


def test_each_job_and_function_has_its_own_role(resources, glue_jobs):
    roles = [render(job["Role"]) for job in glue_jobs.values()]
    roles += [render(f["Role"]) for f in of_type(resources, "AWS::Lambda::Function").values()]
    assert len(set(roles)) == len(roles)


# ------------------------------------------------------------------------------------------- orchestration


def _triggers(resources) -> dict[str, dict]:
    return {p["Name"]: p for p in of_type(resources, "AWS::Glue::Trigger").values()}


def test_every_workflow_runs_its_jobs_in_the_registry_order(resources, physical):
    triggers = _triggers(resources)
    workflows = {p["Name"]: p for p in of_type(resources, "AWS::Glue::Workflow").values()}
    assert sorted(workflows) == sorted(physical("workflow", w) for w in registry.workflows())
    for logical, steps in registry.workflows().items():
        name = physical("workflow", logical)
        assert workflows[name]["MaxConcurrentRuns"] == 1
        start = triggers[f"{name}-start"]
        assert start["WorkflowName"] == name
        assert [a["JobName"] for a in start["Actions"]] == [physical("job", steps[0].job)]
        for previous, step in zip(steps, steps[1:], strict=False):
            trigger = triggers[f"{name}-after-{previous.job}"]
            assert trigger["Type"] == "CONDITIONAL" and trigger["WorkflowName"] == name
            assert trigger["Predicate"]["Conditions"] == [
                {"JobName": physical("job", previous.job), "LogicalOperator": "EQUALS", "State": "SUCCEEDED"}
            ]
            assert trigger["Actions"] == [
                {
                    "JobName": physical("job", step.job),
                    **({"Arguments": {f"--{k}": v for k, v in step.args.items()}} if step.args else {}),
                }
            ]
    assert len(triggers) == sum(len(steps) for steps in registry.workflows().values())


def test_users_runs_daily_at_0130_utc(resources, physical):
    users = physical("workflow", "users")
    start = _triggers(resources)[f"{users}-start"]
    assert (start["Type"], start["Schedule"], start["StartOnCreation"]) == ("SCHEDULED", "cron(30 1 * * ? *)", True)
    curated = _triggers(resources)[f"{users}-after-ingest_users"]
    assert curated["Actions"] == [{"JobName": physical("job", "curated_users"), "Arguments": {"--date": "ingested"}}]


def test_every_conf_schedule_of_a_deployed_workflow_is_deployed(resources, conf, physical):
    """Schedules of workflows the registry has; one whose workflow is not there yet is not deployed."""
    triggers = _triggers(resources)
    rules = [render(r.get("ScheduleExpression", "")) for r in of_type(resources, "AWS::Events::Rule").values()]
    for logical, schedule in conf["deploy"]["schedules"].items():
        name = physical("workflow", logical)
        if logical not in registry.workflows():
            assert f"{name}-start" not in triggers
            continue
        if schedule.get("dynamodb_exports"):
            assert triggers[f"{name}-start"]["Type"] == "ON_DEMAND"
            assert f"cron({schedule['cron']})" in rules
        else:
            assert triggers[f"{name}-start"]["Schedule"] == f"cron({schedule['cron']})"


def _state_machine(resources) -> tuple[dict, dict]:
    machines = of_type(resources, "AWS::StepFunctions::StateMachine")
    assert len(machines) == 1
    properties = next(iter(machines.values()))
    return properties, json.loads(render(properties["DefinitionString"]))


def test_campaign_hourly_exports_both_tables_incrementally_then_starts_its_workflow(resources, template, physical):
    """The shape; tests/deploy/test_export_windows.py runs the windows through it."""
    properties, definition = _state_machine(resources)
    assert definition["QueryLanguage"] == "JSONata"
    window, exports = definition["States"]["Export window"], definition["States"]["Export tables"]
    assert definition["StartAt"] == "Export window" and window["Next"] == "Export tables"
    assert exports["Next"] == "Anything exported?"
    run = definition["States"]["Start workflow campaign"]
    assert run["Resource"].endswith(":states:::aws-sdk:glue:startWorkflowRun")
    assert run["Arguments"] == {"Name": physical("workflow", "campaign")} and run.get("End") is True
    exported = {}
    for branch in exports["Branches"]:
        states = branch["States"]
        resources_ = sorted(
            s["Resource"].rsplit(":", 2)[-2] + ":" + s["Resource"].rsplit(":", 1)[-1]
            for s in states.values()
            if s["Type"] == "Task"
        )
        assert resources_ == [
            "dynamodb:describeExport",
            "dynamodb:exportTableToPointInTime",
            "s3:getObject",
            "s3:listObjectsV2",
            "s3:putObject",
        ]
        assert states[branch["StartAt"]]["Resource"].endswith(":states:::aws-sdk:s3:listObjectsV2")
        (export,) = [s for s in states.values() if s.get("Resource", "").endswith("exportTableToPointInTime")]
        arguments = export["Arguments"]
        exported[arguments["S3Prefix"]] = arguments
        assert arguments["ExportType"] == "INCREMENTAL_EXPORT"
        assert arguments["IncrementalExportSpecification"]["ExportViewType"] == "NEW_AND_OLD_IMAGES"
    assert sorted(exported) == ["lake/landing/dynamodb/campaignInfo", "lake/landing/dynamodb/user_Campaign"]
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(0 * * * ? *)",
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": Match.string_like_regexp("campaignExportThenRun")},
                        # The scheduled event's "time" (test_export_windows.py: its format), passed as {"time": ...}
                        "InputTransformer": {"InputPathsMap": {"time": "$.time"}, "InputTemplate": '{"time":<time>}'},
                    }
                )
            ],
        },
    )


def jsonata(template: str, states_input: dict) -> Any:
    """A Step Functions JSONata template ({% expr %}) evaluated with $states.input bound, as the service does."""
    import jsonata as jsonata_lib

    expression = re.fullmatch(r"\{%(.*)%\}", template, re.DOTALL).group(1).strip()
    program = jsonata_lib.Jsonata(expression)
    frame = program.create_frame()
    frame.bind("states", {"input": states_input})
    return program.evaluate(None, frame)


def test_failures_alarm_through_eventbridge_and_sns(template, glue_jobs):
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.glue"],
                "detail-type": ["Glue Job State Change"],
                "detail": {
                    "state": ["FAILED", "TIMEOUT", "ERROR"],
                    "jobName": sorted(j["Name"] for j in glue_jobs.values()),
                },
            },
            "Targets": [Match.object_like({"Arn": {"Ref": Match.string_like_regexp("Failures")}})],
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "TriggeredRules",
            "Namespace": "AWS/Events",
            "AlarmActions": [{"Ref": Match.string_like_regexp("Failures")}],
        },
    )


# ------------------------------------------------------------------------------------------------- catalog


def _catalog_yamls() -> list[dict]:
    return [
        yaml.safe_load(p.read_text())
        for p in sorted((REPO / "catalog").glob("*/*.yaml"))
        if p.parent.name not in ("streams", "serving")  # event streams and DynamoDB tables, not Glue tables
    ]


def test_every_catalog_table_is_in_the_glue_catalog(resources, lake_bucket, physical):
    specs = _catalog_yamls()
    assert specs
    tables = {(p["DatabaseName"], p["TableInput"]["Name"]): p for p in of_type(resources, "AWS::Glue::Table").values()}
    assert sorted(tables) == sorted((physical("database", s["layer"]), s["name"]) for s in specs)
    databases = {p["DatabaseInput"]["Name"] for p in of_type(resources, "AWS::Glue::Database").values()}
    assert {s["layer"] for s in specs} >= {"raw", "curated"}
    assert databases == {physical("database", s["layer"]) for s in specs}
    for spec in specs:
        table = tables[(physical("database", spec["layer"]), spec["name"])]["TableInput"]
        storage = table["StorageDescriptor"]
        assert render(storage["Location"]) == f"s3://${{{lake_bucket}}}/lake/{spec['location']}/"
        columns = [c["Name"] for c in storage["Columns"]]
        partitions = [c["Name"] for c in table["PartitionKeys"]]
        if spec["format"] == "delta":
            # The Delta log holds the partitioning; Glue holds the columns for readers of the catalog alone.
            assert table["Parameters"]["table_type"] == "DELTA"
            assert (columns, partitions) == ([c["name"] for c in spec["columns"]], [])
        else:
            assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
            assert partitions == (spec.get("partition_keys") or [])
            assert (
                columns + partitions == [c["name"] for c in spec["columns"] if c["name"] not in partitions] + partitions
            )


# ----------------------------------------------------------------------------------------------- ingestion


def _streams(conf) -> list[str]:
    declared = [p.stem for p in (REPO / "catalog" / "streams").glob("*.yaml")]
    return sorted(set(declared) | set(conf["deploy"]["streams"]["names"]))


def test_every_stream_has_an_encrypted_kinesis_stream_and_a_delivery_into_landing(
    resources, conf, lake_bucket, physical
):
    kinesis = {p["Name"]: p for p in of_type(resources, "AWS::Kinesis::Stream").values()}
    deliveries = {
        p["DeliveryStreamName"]: p for p in of_type(resources, "AWS::KinesisFirehose::DeliveryStream").values()
    }
    assert sorted(kinesis) == [physical("stream", s) for s in _streams(conf)] == sorted(deliveries)
    assert {"orders", "retail"} <= set(_streams(conf))
    for stream in _streams(conf):
        assert kinesis[physical("stream", stream)]["StreamEncryption"] == {
            "EncryptionType": "KMS",
            "KeyId": "alias/aws/kinesis",
        }
        delivery = deliveries[physical("stream", stream)]
        assert delivery["DeliveryStreamType"] == "KinesisStreamAsSource"
        s3 = delivery["ExtendedS3DestinationConfiguration"]
        assert render(s3["BucketARN"]) == f"${{{lake_bucket}.Arn}}"
        assert s3["Prefix"] == f"lake/landing/streams/{stream}/!{{timestamp:yyyy/MM/dd/HH}}/"
        assert not s3["ErrorOutputPrefix"].startswith("lake/landing/")
        assert (s3["CompressionFormat"], s3["FileExtension"]) == ("GZIP", ".jsonl.gz")


def test_the_ingest_api_requires_a_key_and_has_a_usage_plan(template, resources):
    methods = of_type(resources, "AWS::ApiGateway::Method")
    assert methods and all(m["ApiKeyRequired"] is True for m in methods.values())
    template.resource_count_is("AWS::ApiGateway::UsagePlan", 1)
    template.has_resource_properties(
        "AWS::ApiGateway::UsagePlan", {"Throttle": Match.object_like({}), "Quota": Match.object_like({"Period": "DAY"})}
    )
    template.resource_count_is("AWS::ApiGateway::UsagePlanKey", 1)
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": "ingest_handler.handler", "Runtime": "python3.11"}
    )


# ------------------------------------------------------------------------------------------------- serving


def test_serving_tables_on_demand_with_recovery_and_encryption(resources, physical):
    """One table per catalog/serving/*.yaml, with its keys and local secondary indexes."""
    by_name = {p["TableName"]: p for p in of_type(resources, "AWS::DynamoDB::Table").values()}
    declared = [p.stem for p in (REPO / "catalog" / "serving").glob("*.yaml")]
    assert sorted(by_name) == sorted(physical("serving_table", t) for t in declared)
    tables = {t: by_name[physical("serving_table", t)] for t in declared}
    keys = {name: [(k["AttributeName"], k["KeyType"]) for k in t["KeySchema"]] for name, t in tables.items()}
    assert keys == {
        "consumer_complaints": [("complaint_id", "HASH")],
        "Customers": [("customer_id", "HASH")],
        "Invoices": [("customer_id", "HASH"), ("invoice_no", "RANGE")],
    }
    types = {a["AttributeName"]: a["AttributeType"] for t in tables.values() for a in t["AttributeDefinitions"]}
    assert types == {"complaint_id": "N", "customer_id": "S", "invoice_no": "S", "invoiced_at": "S"}
    assert tables["Invoices"]["LocalSecondaryIndexes"] == [
        {
            "IndexName": "by_invoiced_at",
            "KeySchema": [
                {"AttributeName": "customer_id", "KeyType": "HASH"},
                {"AttributeName": "invoiced_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    assert "LocalSecondaryIndexes" not in tables["Customers"]
    for name, table in tables.items():
        assert table["BillingMode"] == "PAY_PER_REQUEST", name
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert table["SSESpecification"]["SSEEnabled"] is True, name


def test_each_load_job_may_write_its_serving_tables_and_no_other(templates, stack_names, physical):
    written = {}
    for logical, statement in _allow_statements({stack_names[0]: templates[stack_names[0]]}):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if "dynamodb:BatchWriteItem" in actions:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            written[logical] = sorted(render(r).rsplit("table/", 1)[1] for r in resources)
    expected = [[physical("serving_table", "Customers"), physical("serving_table", "Invoices")]]
    expected.append([physical("serving_table", "consumer_complaints")])
    assert sorted(written.values()) == sorted(expected), written
    assert any("loadretaildynamodb" in logical.lower() for logical in written), written


# ------------------------------------------------------------------------------------ encryption and TLS


def test_every_bucket_is_private_encrypted_and_tls_only(resources):
    buckets = of_type(resources, "AWS::S3::Bucket")
    policies = {render(p["Bucket"]): p for p in of_type(resources, "AWS::S3::BucketPolicy").values()}
    assert len(buckets) >= 1
    for logical, bucket in buckets.items():
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical
        rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms"), logical
        statements = policies[f"${{{logical}}}"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s["Action"] == "s3:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), logical
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}, logical


def test_the_lake_bucket_expires_staging_and_athena_results(resources, lake_bucket, conf):
    rules = {r.get("Id"): r for r in resources[lake_bucket]["Properties"]["LifecycleConfiguration"]["Rules"]}
    days = conf["deploy"]["lifecycle_days"]
    assert (rules["staging"]["Prefix"], rules["staging"]["ExpirationInDays"]) == ("lake/_staging/", days["staging"])
    assert (rules["athena-results"]["Prefix"], rules["athena-results"]["ExpirationInDays"]) == (
        "lake/_athena_results/",
        days["athena_results"],
    )
    assert rules["old-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == days["noncurrent_versions"]


def test_every_stream_and_table_is_encrypted(resources):
    for logical, stream in of_type(resources, "AWS::Kinesis::Stream").items():
        assert stream["StreamEncryption"]["EncryptionType"] == "KMS", logical
    for logical, table in of_type(resources, "AWS::DynamoDB::Table").items():
        assert table["SSESpecification"]["SSEEnabled"] is True, logical


# ----------------------------------------------------------------------------------------------------- IAM


def _allow_statements(templates):
    for template in templates.values():
        for logical, resource in template["Resources"].items():
            properties = resource.get("Properties", {})
            documents = []
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                documents.append(properties["PolicyDocument"])
            if resource["Type"] == "AWS::IAM::Role":
                documents += [p["PolicyDocument"] for p in properties.get("Policies", [])]
            for document in documents:
                for statement in document["Statement"]:
                    if statement["Effect"] == "Allow":
                        yield logical, statement


def test_no_allow_statement_has_a_wildcard_action(templates):
    statements = list(_allow_statements(templates))
    assert len(statements) > 20
    for logical, statement in statements:
        assert "NotAction" not in statement, logical
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in a for a in actions), (logical, actions)


def test_s3_access_is_scoped_to_lake_prefixes(templates):
    """No Allow on a whole bucket's objects: every object ARN names a prefix (the lake's, a stream's, an asset)."""
    for logical, statement in _allow_statements(templates):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if not any(a.startswith("s3:") and "Object" in a for a in actions):
            continue
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in map(render, resources):
            assert not resource.endswith(".Arn}/*"), (logical, resource)
            assert resource != "*", logical


def test_the_wheel_carries_no_deploy_code():
    import zipfile

    version = re.search(r'version="([^"]+)"', (REPO / "setup.py").read_text()).group(1)
    wheel = REPO / "dist" / f"lakekit-{version}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("lakekit/") for n in names)
    assert not any(n.startswith(("deploy/", "tests/")) for n in names)
    requires = [
        line
        for line in zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        .decode()
        .splitlines()
        if line.startswith("Requires-Dist:")
    ]
    assert not any("aws-cdk" in r and "extra ==" not in r for r in requires)
