"""One environment of the lake as a CloudFormation stack: storage, catalog, jobs, orchestration, ingestion, serving.

Every IAM statement is written here by hand (no CDK `grant_*` helper, which grant wildcard actions such
as `s3:GetObject*`): one role per job and per function, actions named one by one, resources scoped to
the lake's prefixes, the tables and the streams each uses.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_athena as athena
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk import custom_resources as cr
from constructs import Construct

from deploy import config
from lakekit.catalog.athena import map_databases
from lakekit.catalog.glue import database_description, table_input
from lakekit.catalog.serving import KeyAttribute, serving_tables
from lakekit.core import registry

# Glue's Delta Lake support: the session extension and catalog, as one --conf value (Glue's convention).
DELTA_CONF = (
    "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension"
    " --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog"
)
FAILED_JOB_STATES = ["FAILED", "TIMEOUT", "ERROR"]
WAREHOUSE = "_warehouse"  # lakekit.core.session: spark.sql.warehouse.dir under the lake root
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# Incremental export windows (docs/export_windows.md): the API takes 15 minutes to 24 hours; windows end on a
# multiple of its minimum, so a window that is not empty is long enough; the first, with no state yet, is an hour.
EXPORT_STEP = cdk.Duration.minutes(15)
MAX_EXPORT_WINDOW = cdk.Duration.hours(24)
FIRST_EXPORT_WINDOW = cdk.Duration.hours(1)


def _statement(actions: list[str], resources: list[str], **kwargs: Any) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=actions, resources=resources, **kwargs)


def _attribute(key: KeyAttribute) -> dynamodb.Attribute:
    """A key attribute of a catalog/serving/ declaration (type S, N or B)."""
    kinds = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER, "B": dynamodb.AttributeType.BINARY}
    return dynamodb.Attribute(name=key.name, type=kinds[key.type])


def _reserved_concurrency(api_conf: dict[str, Any]) -> int | None:
    if "concurrency" in api_conf:  # the key the stack once read, with a default of 20: not silently dropped
        raise config.DeployConfigError("deploy.api.concurrency is no longer read; set deploy.api.reserved_concurrency")
    value = api_conf.get("reserved_concurrency")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise config.DeployConfigError(f"deploy.api.reserved_concurrency: null or a whole number >= 1, not {value!r}")
    return value


def _token_prefix(environment: str, table: str) -> str:
    """The fixed part of an export's ClientToken: `<environment>-<table>`, or its first characters and a hash of it
    when longer than 36, so the token with the window's two 13-digit times stays within 64 characters."""
    prefix = f"{environment}-{table}"
    if len(prefix) <= 36:
        return prefix
    return f"{prefix[:19]}-{hashlib.sha256(prefix.encode()).hexdigest()[:16]}"


def _role(scope: Construct, name: str, service: str, statements: list[iam.PolicyStatement], description: str):
    return iam.Role(
        scope,
        name,
        assumed_by=iam.ServicePrincipal(service),
        description=description,
        inline_policies={"least-privilege": iam.PolicyDocument(statements=statements)},
    )


class LakeStack(cdk.Stack):
    """The lake of one environment (conf/aws.yaml deploy.environments.<name>)."""

    def __init__(self, scope: Construct, env: config.Environment, owns_account_settings: bool = True, **kwargs: Any):
        account, region = env.deploy.get("account"), env.deploy.get("region")
        super().__init__(
            scope,
            env.stack_name,
            env=cdk.Environment(account=account, region=region) if account or region else None,
            description=f"campaign-lake ({env.name}): lake bucket, Glue catalog and jobs, workflows, ingestion, "
            "serving tables",
            **kwargs,
        )
        self.conf = env
        # API Gateway's CloudWatch role is one per account and region: only one stack there sets it.
        self.owns_account_settings = owns_account_settings
        self.arn = lambda service, resource: f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"
        self._storage()
        self._code()
        self._alerts()
        self._catalog()
        self._jobs()
        self._workflows()
        self._ingestion()
        self._serving()
        self._athena()

    # ------------------------------------------------------------------------------------------- storage

    @property
    def lake_root(self) -> str:
        return f"s3://{self.bucket.bucket_name}/{self.conf.lake_prefix}"

    def lake_objects(self, *parts: str) -> str:
        """The ARN of the lake objects under these folders (`*` when none)."""
        return self.bucket.arn_for_objects("/".join([self.conf.lake_prefix, *parts, "*"]))

    def _storage(self) -> None:
        days = self.conf.deploy["lifecycle_days"]
        lake = self.conf.lake_prefix
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=cdk.Duration.days(90),
                    noncurrent_version_expiration=cdk.Duration.days(1),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.bucket = s3.Bucket(
            self,
            "Lake",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # SSE-S3: every principal that can read an object can decrypt it; no KMS request per object.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # Versions protect landing files and Delta logs from an overwrite or delete by mistake.
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="lake-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="staging", prefix=f"{lake}/_staging/", expiration=cdk.Duration.days(days["staging"])
                ),
                s3.LifecycleRule(
                    id="athena-results",
                    prefix=f"{lake}/_athena_results/",
                    expiration=cdk.Duration.days(days["athena_results"]),
                ),
                s3.LifecycleRule(
                    id="old-versions",
                    noncurrent_version_expiration=cdk.Duration.days(days["noncurrent_versions"]),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                    expired_object_delete_marker=True,
                ),
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cdk.CfnOutput(self, "LakeRoot", value=self.lake_root, description="--lake_root of every job")

    def _code(self) -> None:
        """The wheel and the job scripts, uploaded as CDK assets (content-addressed: a change gives new keys).

        pip installs a wheel only under its own file name, and an asset's key is its hash: a custom resource
        copies the wheel asset to artifacts/<digest>/<its name> in the lake bucket, where the jobs load it.
        """
        wheel = config.wheel_path()
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:16]
        asset = s3_assets.Asset(self, "Wheel", path=str(wheel))
        self.wheel_key = f"artifacts/{digest}/{wheel.name}"
        copy = cr.AwsCustomResource(
            self,
            "WheelCopy",
            on_update=cr.AwsSdkCall(
                service="S3",
                action="copyObject",
                parameters={
                    "Bucket": self.bucket.bucket_name,
                    "Key": self.wheel_key,
                    "CopySource": f"{asset.s3_bucket_name}/{asset.s3_object_key}",
                },
                physical_resource_id=cr.PhysicalResourceId.of(self.wheel_key),
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    _statement(["s3:GetObject"], [self._asset_arn(asset)]),
                    _statement(["s3:PutObject"], [self.bucket.arn_for_objects(self.wheel_key)]),
                ]
            ),
            install_latest_aws_sdk=False,
        )
        self.wheel_ready = copy
        self.wheel_url = f"s3://{self.bucket.bucket_name}/{self.wheel_key}"
        self.scripts = {
            job: s3_assets.Asset(self, f"Script-{job}", path=str(path)) for job, path in config.deployed_jobs().items()
        }

    def _asset_arn(self, asset: s3_assets.Asset) -> str:
        return f"arn:{self.partition}:s3:::{asset.s3_bucket_name}/{asset.s3_object_key}"

    def _logs_statement(self, group_arn_prefix: str) -> iam.PolicyStatement:
        return _statement(
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            [group_arn_prefix, f"{group_arn_prefix}:log-stream:*"],
        )

    # -------------------------------------------------------------------------------------------- alerts

    def _alerts(self) -> None:
        self.alarm_topic = sns.Topic(self, "Failures", display_name=f"campaign-lake {self.conf.name} failures")
        self.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["sns:Publish"],
                resources=[self.alarm_topic.topic_arn],
                conditions={"Bool": {"aws:SecureTransport": "false"}},
            )
        )
        email = self.conf.deploy.get("alarm_email")
        if email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(email))

    def _alarm_on(self, name: str, pattern: events.EventPattern, description: str) -> None:
        """An EventBridge rule that sends each matching event to the topic, and an alarm on the rule firing."""
        rule = events.Rule(self, f"{name}Rule", event_pattern=pattern, description=description)
        rule.add_target(targets.SnsTopic(self.alarm_topic))
        alarm = cloudwatch.Alarm(
            self,
            f"{name}Alarm",
            alarm_description=description,
            metric=cloudwatch.Metric(
                namespace="AWS/Events",
                metric_name="TriggeredRules",
                dimensions_map={"RuleName": rule.rule_name},
                statistic="Sum",
                period=cdk.Duration.minutes(5),
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))

    # ------------------------------------------------------------------------------------------- catalog

    def _catalog(self) -> None:
        tables = config.catalog_tables()
        self.databases = {}
        # The environment's database of each layer (conf names:): the jobs register their tables there too.
        self.database_names = {layer: self.conf.names.database(layer) for layer in sorted({t.layer for t in tables})}
        for layer, database in self.database_names.items():
            self.databases[layer] = glue.CfnDatabase(
                self,
                f"Database-{layer}",
                catalog_id=self.account,
                database_name=database,  # the resource's identifier (CloudFormation's schema), = the input's name
                database_input=glue.CfnDatabase.DatabaseInputProperty(
                    name=database, description=database_description(layer)
                ),
            )
        for table in tables:
            resource = cdk.CfnResource(
                self,
                f"Table-{table.layer}-{table.name}",
                type="AWS::Glue::Table",
                properties={
                    "CatalogId": self.account,
                    "DatabaseName": self.database_names[table.layer],
                    "TableInput": table_input(table, self.lake_root),
                },
            )
            resource.node.add_dependency(self.databases[table.layer])

    # ---------------------------------------------------------------------------------------------- jobs

    @staticmethod
    def _folder(entry: str) -> str:
        """A registry reads/writes entry as a lake path: a table "layer.name" is its folder <layer>/<name>."""
        return entry if "/" in entry else entry.replace(".", "/", 1)

    def _lake_paths(self, entries: tuple[str, ...] | list[str]) -> list[str]:
        """The object ARNs of registry reads/writes entries: each path (a file or a folder) and all under it."""
        lake = self.conf.lake_prefix
        arns = []
        for entry in entries:
            path = self._folder(entry)
            arns += [self.bucket.arn_for_objects(f"{lake}/{path}"), self.lake_objects(path)]
        return arns

    @staticmethod
    def _own_folders(job: str) -> list[str]:
        """What a job alone writes besides its declared outputs: checkpoints, staging and quarantine, under its state
        name (a renamed job's old name, which its lake state kept)."""
        state = registry.job(job).state_name
        return [f"_state/checkpoints/{state}", f"_staging/{state}", f"quarantine/{state}"]

    def _own_state(self, job: str) -> list[str]:
        """Its state documents and locks (_state/<kind>/<state>.json, .lock, -<stream>.json) and its own folders."""
        lake = self.conf.lake_prefix
        state = registry.job(job).state_name
        return [
            self.bucket.arn_for_objects(f"{lake}/_state/*/{state}.*"),
            self.bucket.arn_for_objects(f"{lake}/_state/*/{state}-*"),
        ] + self._lake_paths(self._own_folders(job))

    def _job_folders(self, job: str) -> list[str]:
        declared = registry.job(job)
        return [self._folder(e) for e in declared.reads + declared.writes] + self._own_folders(job) + [WAREHOUSE]

    def _parents(self, job: str) -> list[str]:
        """The keys of the folders above the job's (lake, lake/, lake/raw, lake/raw/, ...), which S3A looks up (HEAD
        the key, LIST the folder) before it makes or reads a folder: the job may look, not write."""
        lake = self.conf.lake_prefix
        keys = {lake, f"{lake}/"}
        for folder in self._job_folders(job):
            parts = f"{lake}/{folder}".split("/")
            keys |= {"/".join(parts[:n]) for n in range(1, len(parts))}
            keys |= {"/".join(parts[:n]) + "/" for n in range(1, len(parts))}
        return sorted(keys)

    def _list_prefixes(self, job: str) -> list[str]:
        """The s3:prefix values a job may list: its folders, all under them, and each parent exactly."""
        lake = self.conf.lake_prefix
        folders = {f"{lake}/{f}" for f in self._job_folders(job)}
        return sorted(set(self._parents(job)) | folders | {f"{f}/*" for f in folders})

    def _database(self, layer: str) -> str:
        """The Glue database of a layer as the stack names it (its CfnDatabase), so a renamed database flows here."""
        return self.databases[layer].database_input.name

    def _glue_tables(self, entries: tuple[str, ...] | list[str]) -> list[str]:
        tables = [e.split(".", 1) for e in entries if "/" not in e and "." in e]
        return [self.arn("glue", f"table/{self._database(layer)}/{name}") for layer, name in tables]

    def _job_statements(self, job: str) -> list[iam.PolicyStatement]:
        """The job's registry declaration (reads, writes) as grants; what the recorded calls of make test-aws need
        (deploy/iam, tests/deploy/test_iam.py), and no more."""
        lake = self.conf.lake_prefix
        declared = registry.job(job)
        catalog = [self.arn("glue", "catalog"), self.arn("glue", "database/default")]
        catalog += [self.arn("glue", f"database/{self._database(layer)}") for layer in self.databases]
        written = self._glue_tables(declared.writes)
        statements = [
            _statement(
                ["s3:GetObject"], [self._asset_arn(self.scripts[job]), self.bucket.arn_for_objects(self.wheel_key)]
            ),
            # HeadBucket (check_root) and S3's answer to a missing key (404 only to a caller allowed s3:ListBucket,
            # else 403) carry no s3:prefix: IfExists lets them through, while a listing stays in the job's folders
            # and their parents (S3A lists a folder's parents before it makes it).
            _statement(
                ["s3:ListBucket"],
                [self.bucket.bucket_arn],
                conditions={"StringLikeIfExists": {"s3:prefix": self._list_prefixes(job)}},
            ),
            _statement(
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                self._lake_paths(declared.writes) + self._own_state(job),
            ),
            _statement(
                ["s3:GetObject"],
                self._lake_paths([e for e in declared.reads if e not in declared.writes])
                + [self.bucket.arn_for_objects(key) for key in self._parents(job)]
                + [self.bucket.arn_for_objects(f"{lake}/{WAREHOUSE}{end}") for end in ("", "/")],
            ),
            # Spark's session makes its warehouse folder's marker (spark.sql.warehouse.dir) at start.
            _statement(["s3:PutObject"], [self.bucket.arn_for_objects(f"{lake}/{WAREHOUSE}/")]),
            _statement(
                [
                    "glue:GetDatabase",
                    "glue:GetDatabases",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                    "glue:GetUserDefinedFunctions",
                ],
                catalog + [self.arn("glue", f"table/{self._database(layer)}/*") for layer in self.databases],
            ),
            self._logs_statement(self.arn("logs", "log-group:/aws-glue/*")),
            _statement(
                ["cloudwatch:PutMetricData"], ["*"], conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}}
            ),
        ]
        if written:
            statements.append(
                _statement(
                    ["glue:CreateTable", "glue:UpdateTable", "glue:CreatePartition", "glue:BatchCreatePartition"],
                    catalog + written,
                )
            )
        tables = self.conf.job_setting(job, "dynamodb_tables") or []
        if tables:
            statements.append(
                _statement(
                    [
                        "dynamodb:DescribeTable",
                        "dynamodb:BatchWriteItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                    ],
                    [self.arn("dynamodb", f"table/{self.conf.names.serving_table(t)}") for t in tables],
                )
            )
        return statements

    def _jobs(self) -> None:
        self.security_configuration = glue.CfnSecurityConfiguration(
            self,
            "GlueSecurity",
            name=f"{self.conf.stack_name}-jobs",
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[glue.CfnSecurityConfiguration.S3EncryptionProperty(s3_encryption_mode="SSE-S3")]
            ),
        )
        self.jobs: dict[str, glue.CfnJob] = {}
        declared = registry.jobs()
        for job in config.deployed_jobs():
            role = _role(self, f"JobRole-{job}", "glue.amazonaws.com", self._job_statements(job), f"Glue job {job}")
            arguments = {
                "--additional-python-modules": self.wheel_url,
                "--datalake-formats": "delta",
                "--conf": DELTA_CONF,
                "--enable-glue-datacatalog": "true",
                "--job-bookmark-option": "job-bookmark-enable",
                "--env": "aws",
                "--lake_root": self.lake_root,
                # The environment's databases, serving tables and streams, as this stack names them.
                "--names": json.dumps(self.conf.runtime_names(), sort_keys=True, separators=(",", ":")),
                "--TempDir": f"s3://{self.bucket.bucket_name}/{self.conf.lake_prefix}/_staging/glue-temp/",
                "--enable-metrics": "true",
                "--enable-continuous-cloudwatch-log": "true",
            }
            self.jobs[job] = glue.CfnJob(
                self,
                f"Job-{job}",
                name=self.conf.names.job(job),
                description=declared[job].description or f"jobs/{job}.py",
                role=role.role_arn,
                command=glue.CfnJob.JobCommandProperty(
                    name="glueetl", python_version="3", script_location=self.scripts[job].s3_object_url
                ),
                glue_version=str(self.conf.deploy["glue"]["version"]),
                worker_type=self.conf.job_setting(job, "worker_type"),
                number_of_workers=int(self.conf.job_setting(job, "workers")),
                timeout=self.conf.timeout_minutes(job),
                max_retries=0,
                execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
                default_arguments=arguments,
                security_configuration=self.security_configuration.name,
            )
            self.jobs[job].node.add_dependency(self.security_configuration, self.wheel_ready)
        self._alarm_on(
            "JobFailed",
            events.EventPattern(
                source=["aws.glue"],
                detail_type=["Glue Job State Change"],
                detail={"state": FAILED_JOB_STATES, "jobName": sorted(j.name for j in self.jobs.values())},
            ),
            "A Glue job of the lake failed, timed out or could not start",
        )

    # ----------------------------------------------------------------------------------------- workflows

    def _workflows(self) -> None:
        """One Glue workflow per registry workflow: its jobs in the registry's order, each after the last succeeded."""
        schedules = self.conf.deploy.get("schedules") or {}
        self.workflows: dict[str, glue.CfnWorkflow] = {}
        for name, steps in sorted(registry.workflows().items()):
            schedule = schedules.get(name) or {}
            physical = self.conf.names.workflow(name)
            workflow = glue.CfnWorkflow(
                self,
                f"Workflow-{name}",
                name=physical,
                description=" -> ".join(s.job for s in steps),
                max_concurrent_runs=1,
            )
            self.workflows[name] = workflow
            exports = schedule.get("dynamodb_exports") or []
            # A workflow that waits for DynamoDB exports is started by its state machine; a scheduled one by
            # its own trigger; one without a schedule only on demand (`aws glue start-workflow-run`).
            scheduled = bool(schedule.get("cron")) and not exports
            for index, step in enumerate(steps):
                arguments = {f"--{k}": v for k, v in step.args.items()} or None
                action = glue.CfnTrigger.ActionProperty(job_name=self.jobs[step.job].name, arguments=arguments)
                if index == 0:
                    trigger = glue.CfnTrigger(
                        self,
                        f"Trigger-{name}-{index}",
                        name=f"{physical}-start",
                        workflow_name=physical,
                        type="SCHEDULED" if scheduled else "ON_DEMAND",
                        schedule=f"cron({schedule['cron']})" if scheduled else None,
                        start_on_creation=True if scheduled else None,
                        actions=[action],
                    )
                else:
                    previous = steps[index - 1].job
                    trigger = glue.CfnTrigger(
                        self,
                        f"Trigger-{name}-{index}",
                        name=f"{physical}-after-{previous}",
                        workflow_name=physical,
                        type="CONDITIONAL",
                        start_on_creation=True,
                        predicate=glue.CfnTrigger.PredicateProperty(
                            conditions=[
                                glue.CfnTrigger.ConditionProperty(
                                    job_name=self.jobs[previous].name, logical_operator="EQUALS", state="SUCCEEDED"
                                )
                            ]
                        ),
                        actions=[action],
                    )
                trigger.node.add_dependency(workflow)
                for job in {step.job, steps[index - 1].job}:
                    trigger.node.add_dependency(self.jobs[job])
            if exports and schedule.get("cron"):
                self._export_then_run(name, exports, schedule)

    def _export_then_run(self, workflow: str, tables: list[str], schedule: dict[str, Any]) -> None:
        """A state machine: an incremental export of each of `tables` for the window since its last completed one,
        waits for them, then starts the workflow. Started by its schedule with {"time": <the scheduled time>}.

        Each table's window starts where its last completed export ended, kept in the lake's state
        (`_state/export_windows/<table>.json`, written only once its export COMPLETED), and ends at the clock less
        `export_lag_minutes`, floored to EXPORT_STEP, at most MAX_EXPORT_WINDOW later: a failed or missed run is
        exported by the next one as one longer window. docs/export_windows.md gives the rules and their sources.
        """
        poll = cdk.Duration.minutes(int(schedule.get("export_poll_minutes", 5)))
        lag = schedule.get("export_lag_minutes", 15)
        if not isinstance(lag, int) or isinstance(lag, bool) or lag < 1:
            raise config.DeployConfigError(
                f"deploy.schedules.{workflow}.export_lag_minutes: a whole number of minutes >= 1, not {lag!r}"
            )
        step, longest = int(EXPORT_STEP.to_milliseconds()), int(MAX_EXPORT_WINDOW.to_milliseconds())
        # The clock: the scheduled time, or the execution's start if earlier (a run started by hand, with or without
        # a time): ExportToTime is never later than `lag` before the moment the export is asked for.
        window = sfn.Pass.jsonata(
            self,
            f"{workflow}-Window",
            state_name="Export window",
            # One expression for the whole output: a `from` the input lacks is left out (JSON has no undefined).
            outputs="{% ($start := $toMillis($states.context.Execution.StartTime);"
            " $clock := $exists($states.input.time) ? $min([$toMillis($states.input.time), $start]) : $start;"
            f" {{'until': $fromMillis($floor(($clock - {lag * 60_000}) / {step}) * {step}),"
            " 'from': $states.input.from}) %}",
        )
        exports = sfn.Parallel.jsonata(self, f"{workflow}-Exports", state_name="Export tables")
        keys = {table: f"{self.conf.lake_prefix}/_state/export_windows/{table}.json" for table in tables}
        for table in tables:
            exports.branch(self._export_branch(workflow, table, keys[table], poll, step, longest))
        run = tasks.CallAwsService.jsonata(
            self,
            f"{workflow}-Run",
            state_name=f"Start workflow {workflow}",
            service="glue",
            action="startWorkflowRun",
            iam_action="glue:StartWorkflowRun",
            iam_resources=[self.arn("glue", f"workflow/{self.workflows[workflow].name}")],
            parameters={"Name": self.workflows[workflow].name},
        )
        # No table had a window of EXPORT_STEP or more (a run within the lag of the last one): nothing new landed,
        # so the workflow would find nothing; the next run, at most one schedule later, exports and starts it.
        anything = sfn.Choice.jsonata(self, f"{workflow}-Anything", state_name="Anything exported?")
        anything.when(sfn.Condition.jsonata("{% $count($states.input[exported = true]) > 0 %}"), run)
        anything.otherwise(sfn.Succeed(self, f"{workflow}-Nothing", state_name="Nothing to export"))
        log_group = logs.LogGroup(self, f"{workflow}-StateMachineLogs", retention=LOG_RETENTION)
        machine = sfn.StateMachine(
            self,
            f"{workflow}-ExportThenRun",
            definition_body=sfn.DefinitionBody.from_chainable(window.next(exports).next(anything)),
            query_language=sfn.QueryLanguage.JSONATA,
            timeout=cdk.Duration.hours(6),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ERROR),
            comment=f"Incremental exports of {', '.join(tables)}, then the Glue workflow {workflow}",
        )
        # The existence check of each state object lists exactly its key; S3 answers a GetObject of a missing key
        # with 403, not 404, to a role without an unconditioned s3:ListBucket, which is more than it needs.
        machine.add_to_role_policy(
            _statement(
                ["s3:ListBucket"],
                [self.bucket.bucket_arn],
                conditions={"StringEquals": {"s3:prefix": sorted(keys.values())}},
            )
        )
        machine.node.add_dependency(self.workflows[workflow])
        events.Rule(
            self,
            f"{workflow}-Schedule",
            schedule=events.Schedule.expression(f"cron({schedule['cron']})"),
            description=f"Starts the {workflow} exports and workflow",
            targets=[
                targets.SfnStateMachine(
                    machine, input=events.RuleTargetInput.from_object({"time": events.EventField.time})
                )
            ],
        )
        self._alarm_on(
            f"{workflow}ExportsFailed",
            events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": ["FAILED", "TIMED_OUT", "ABORTED"], "stateMachineArn": [machine.state_machine_arn]},
            ),
            f"The {workflow} exports or the start of its workflow failed",
        )

    def _export_branch(
        self, workflow: str, table: str, key: str, poll: cdk.Duration, step: int, longest: int
    ) -> sfn.IChainable:
        """One table's branch: read its window state, export the window if it is long enough, wait for the export,
        record the window once the export COMPLETED. Its output: {"table", "exported", "from", "to"}."""
        prefix = f"{self.conf.lake_prefix}/landing/dynamodb/{table}"
        table_arn = self.arn("dynamodb", f"table/{table}")
        state_arn = self.bucket.arn_for_objects(key)
        retry = {"errors": ["States.ALL"], "max_attempts": 3, "interval": cdk.Duration.seconds(30)}
        # A CustomState (its id is its state name): CallAwsService would also grant s3:ListBucket unconditioned.
        find = sfn.CustomState(
            Construct(self, f"{workflow}-Find-{table}"),
            f"Find {table} export window",
            state_json={
                "Type": "Task",
                "Comment": f"Lists {key} alone (the role may list that prefix and no other)",
                "Resource": f"arn:{self.partition}:states:::aws-sdk:s3:listObjectsV2",
                "Arguments": {"Bucket": self.bucket.bucket_name, "Prefix": key},
                "Output": "{% $merge([$states.input, {'found': $count($states.result.Contents[Key = '"
                + key
                + "']) > 0}]) %}",
            },
        )
        find.add_retry(**retry)
        read = tasks.CallAwsService.jsonata(
            self,
            f"{workflow}-Read-{table}",
            state_name=f"Read {table} export window",
            service="s3",
            action="getObject",
            iam_action="s3:GetObject",
            iam_resources=[state_arn],
            parameters={"Bucket": self.bucket.bucket_name, "Key": key},
            outputs="{% $merge([$states.input, {'last': $parse($states.result.Body)}]) %}",
        )
        read.add_retry(**retry)
        # from: the operator's {"from": ...} if given, else where the last completed export ended, else (no state
        # yet: the first run) FIRST_EXPORT_WINDOW before `until`; to: `until`, or MAX_EXPORT_WINDOW after from.
        first = int(FIRST_EXPORT_WINDOW.to_milliseconds())
        span = sfn.Pass.jsonata(
            self,
            f"{workflow}-Span-{table}",
            state_name=f"{table} window",
            outputs="{% ($until := $toMillis($states.input.until);"
            " $from := $exists($states.input.from) ? $toMillis($states.input.from)"
            f" : $exists($states.input.last) ? $toMillis($states.input.last.exportToTime) : $until - {first};"
            f" $to := $min([$from + {longest}, $until]);"
            " {'from': $fromMillis($from), 'to': $fromMillis($to),"
            " 'recorded': $exists($states.input.last) ? $states.input.last.exportToTime : $fromMillis($to)}) %}",
        )
        valid = sfn.Choice.jsonata(self, f"{workflow}-Valid-{table}", state_name=f"{table} window state valid?")
        valid.when(
            sfn.Condition.jsonata(
                "{% $not($exists($states.input.last)) or $type($states.input.last.exportToTime) = 'string' %}"
            ),
            span,
        )
        valid.otherwise(
            sfn.Fail(
                self,
                f"{workflow}-Invalid-{table}",
                state_name=f"{table} window state invalid",
                error="ExportWindowStateInvalid",
                cause=f"s3://<lake bucket>/{key} has no exportToTime: fix or delete it (docs/export_windows.md)",
            )
        )
        found = sfn.Choice.jsonata(self, f"{workflow}-Found-{table}", state_name=f"{table} window state found?")
        found.when(sfn.Condition.jsonata("{% $states.input.found %}"), read.next(valid))
        found.otherwise(span)
        start = tasks.CallAwsService.jsonata(
            self,
            f"{workflow}-Export-{table}",
            state_name=f"Export {table}",
            service="dynamodb",
            action="exportTableToPointInTime",
            iam_action="dynamodb:ExportTableToPointInTime",
            iam_resources=[table_arn],
            additional_iam_statements=[
                _statement(
                    ["s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"],
                    [self.bucket.arn_for_objects(f"{prefix}/*")],
                )
            ],
            parameters={
                "TableArn": table_arn,
                "S3Bucket": self.bucket.bucket_name,
                "S3Prefix": prefix,
                "S3SseAlgorithm": "AES256",
                "ExportFormat": "DYNAMODB_JSON",
                "ExportType": "INCREMENTAL_EXPORT",
                "IncrementalExportSpecification": {
                    "ExportFromTime": "{% $states.input.from %}",
                    "ExportToTime": "{% $states.input.to %}",
                    "ExportViewType": "NEW_AND_OLD_IMAGES",
                },
                # One window is one export, however often the state (or the run) is retried; the token is the
                # account's, so it names the environment (another's export of the table would conflict).
                "ClientToken": f"{{% '{_token_prefix(self.conf.name, table)}-'"
                " & $string($toMillis($states.input.from)) & '-' & $string($toMillis($states.input.to)) %}",
            },
            outputs={
                "from": "{% $states.input.from %}",
                "to": "{% $states.input.to %}",
                "recorded": "{% $states.input.recorded %}",
                "arn": "{% $states.result.ExportDescription.ExportArn %}",
            },
        )
        start.add_retry(**retry)
        long_enough = sfn.Choice.jsonata(self, f"{workflow}-Long-{table}", state_name=f"{table} window long enough?")
        long_enough.when(
            sfn.Condition.jsonata(f"{{% $toMillis($states.input.to) - $toMillis($states.input.from) >= {step} %}}"),
            start,
        )
        long_enough.otherwise(
            sfn.Pass.jsonata(
                self,
                f"{workflow}-Skip-{table}",
                state_name=f"{table}: nothing to export",
                outputs={
                    "table": table,
                    "exported": False,
                    "from": "{% $states.input.from %}",
                    "to": "{% $states.input.to %}",
                },
            )
        )
        span.next(long_enough)
        wait = sfn.Wait.jsonata(
            self, f"{workflow}-Wait-{table}", state_name=f"Wait for {table}", time=sfn.WaitTime.duration(poll)
        )
        describe = tasks.CallAwsService.jsonata(
            self,
            f"{workflow}-Describe-{table}",
            state_name=f"Describe {table} export",
            service="dynamodb",
            action="describeExport",
            iam_action="dynamodb:DescribeExport",
            iam_resources=[f"{table_arn}/export/*"],
            parameters={"ExportArn": "{% $states.input.arn %}"},
            outputs={
                "from": "{% $states.input.from %}",
                "to": "{% $states.input.to %}",
                "recorded": "{% $states.input.recorded %}",
                "arn": "{% $states.input.arn %}",
                "status": "{% $states.result.ExportDescription.ExportStatus %}",
            },
        )
        record = tasks.CallAwsService.jsonata(
            self,
            f"{workflow}-Record-{table}",
            state_name=f"Record {table} export window",
            service="s3",
            action="putObject",
            iam_action="s3:PutObject",
            iam_resources=[state_arn],
            parameters={
                "Bucket": self.bucket.bucket_name,
                "Key": key,
                "ContentType": "application/json",
                # The state only moves forward: a window re-exported by hand ({"from": ...}) before the recorded end
                # leaves it where it was.
                "Body": f"{{% $string({{'table': '{table}', 'exportFromTime': $states.input.from,"
                " 'exportToTime': $toMillis($states.input.recorded) > $toMillis($states.input.to)"
                " ? $states.input.recorded : $states.input.to, 'exportArn': $states.input.arn}) %}",
            },
            outputs={
                "table": table,
                "exported": True,
                "from": "{% $states.input.from %}",
                "to": "{% $states.input.to %}",
            },
        )
        record.add_retry(**retry)
        done = sfn.Choice.jsonata(self, f"{workflow}-Done-{table}", state_name=f"{table} exported?")
        done.when(sfn.Condition.jsonata("{% $states.input.status = 'IN_PROGRESS' %}"), wait)
        done.when(sfn.Condition.jsonata("{% $states.input.status = 'COMPLETED' %}"), record)
        done.otherwise(
            sfn.Fail(self, f"{workflow}-Failed-{table}", state_name=f"{table} export failed", error="ExportFailed")
        )
        start.next(wait).next(describe).next(done)
        find.next(found)
        return find

    # ----------------------------------------------------------------------------------------- ingestion

    def _ingestion(self) -> None:
        streams_conf = self.conf.deploy["streams"]
        self.streams: dict[str, kinesis.Stream] = {}
        for stream in config.stream_names(self.conf):
            self.streams[stream] = kinesis.Stream(
                self,
                f"Stream-{stream}",
                stream_name=self.conf.kinesis_name(stream),
                stream_mode=kinesis.StreamMode.PROVISIONED,
                shard_count=int(streams_conf["shards"]),
                retention_period=cdk.Duration.hours(int(streams_conf["retention_hours"])),
                encryption=kinesis.StreamEncryption.MANAGED,
            )
            self._delivery(stream, streams_conf)
        if self.streams:
            self._ingest_api()

    def _delivery(self, stream: str, streams_conf: dict[str, Any]) -> None:
        """Firehose from the stream into landing/streams/<stream>/YYYY/MM/DD/HH/, gzip; each record already ends
        with a newline (the ingest app writes one JSON object and "\\n" per record), so files are JSON lines."""
        source = self.streams[stream]
        landing = f"{self.conf.lake_prefix}/landing/streams/{stream}"
        errors = f"{self.conf.lake_prefix}/quarantine/firehose/{stream}"
        log_group = logs.LogGroup(self, f"Delivery-{stream}-Logs", retention=LOG_RETENTION)
        log_stream = logs.LogStream(self, f"Delivery-{stream}-LogStream", log_group=log_group)
        role = _role(
            self,
            f"DeliveryRole-{stream}",
            "firehose.amazonaws.com",
            [
                _statement(
                    ["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"],
                    [source.stream_arn],
                ),
                _statement(
                    ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], [self.bucket.bucket_arn]
                ),
                _statement(
                    ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
                    [self.bucket.arn_for_objects(f"{landing}/*"), self.bucket.arn_for_objects(f"{errors}/*")],
                ),
                _statement(["logs:PutLogEvents"], [log_group.log_group_arn]),
            ],
            f"Firehose {stream}: Kinesis -> landing",
        )
        firehose.CfnDeliveryStream(
            self,
            f"Delivery-{stream}",
            delivery_stream_name=self.conf.kinesis_name(stream),
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=source.stream_arn, role_arn=role.role_arn
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=self.bucket.bucket_arn,
                role_arn=role.role_arn,
                prefix=f"{landing}/!{{timestamp:yyyy/MM/dd/HH}}/",
                error_output_prefix=f"{errors}/!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd/HH}}/",
                compression_format="GZIP",
                file_extension=".jsonl.gz",
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=int(streams_conf["buffer_seconds"]),
                    size_in_m_bs=int(streams_conf["buffer_mib"]),
                ),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True, log_group_name=log_group.log_group_name, log_stream_name=log_stream.log_stream_name
                ),
            ),
        )

    def _ingest_api(self) -> None:
        """API Gateway (API keys, a usage plan) in front of the ingest app in Lambda, which puts to Kinesis."""
        api_conf = self.conf.deploy["api"]
        log_group = logs.LogGroup(self, "IngestFunctionLogs", retention=LOG_RETENTION)
        role = _role(
            self,
            "IngestFunctionRole",
            "lambda.amazonaws.com",
            [
                _statement(["kinesis:PutRecords", "kinesis:PutRecord"], [s.stream_arn for s in self.streams.values()]),
                _statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group.log_group_arn}"]),
                _statement(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
            ],
            "The ingest API's function: PutRecords to the event streams",
        )
        function = lambda_.Function(
            self,
            "IngestFunction",
            runtime=lambda_.Runtime.PYTHON_3_11,
            handler="ingest_handler.handler",
            code=lambda_.Code.from_asset(str(config.lambda_bundle())),
            role=role,
            memory_size=int(api_conf["lambda_memory_mib"]),
            timeout=cdk.Duration.seconds(29),
            # Off unless conf sets it (deploy.api.reserved_concurrency): Lambda keeps 100 of the account's concurrency
            # unreserved (configuration-concurrency.html), and a new account's quota may be 10: any reservation fails.
            reserved_concurrent_executions=_reserved_concurrency(api_conf),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            environment={
                "LAKE_KINESIS_STREAMS": json.dumps({s: self.conf.kinesis_name(s) for s in sorted(self.streams)}),
            },
        )
        access_logs = logs.LogGroup(self, "IngestApiAccessLogs", retention=LOG_RETENTION)
        api = apigw.RestApi(
            self,
            "IngestApi",
            description="Event ingestion: POST /v1/streams/{stream}/records with an x-api-key",
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=self.conf.name,
                tracing_enabled=True,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        if self.owns_account_settings:
            self._api_logging_role(api)
        integration = apigw.LambdaIntegration(function)
        records = api.root.add_resource("v1").add_resource("streams").add_resource("{stream}").add_resource("records")
        records.add_method("POST", integration, api_key_required=True)
        api.root.add_resource("health").add_method("GET", integration, api_key_required=True)
        plan = api.add_usage_plan(
            "IngestUsage",
            throttle=apigw.ThrottleSettings(
                rate_limit=int(api_conf["rate_per_second"]), burst_limit=int(api_conf["burst"])
            ),
            quota=apigw.QuotaSettings(limit=int(api_conf["quota_per_day"]), period=apigw.Period.DAY),
        )
        plan.add_api_stage(stage=api.deployment_stage)
        key = api.add_api_key("IngestKey", description="Producers' key: aws apigateway get-api-key --include-value")
        plan.add_api_key(key)
        cdk.CfnOutput(self, "IngestUrl", value=api.url_for_path("/v1/streams"))
        cdk.CfnOutput(self, "IngestApiKeyId", value=key.key_id)

    def _api_logging_role(self, api: apigw.RestApi) -> None:
        """API Gateway writes access logs through one role per account and region, set here."""
        role = _role(
            self,
            "ApiGatewayLogsRole",
            "apigateway.amazonaws.com",
            [
                _statement(
                    [
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:DescribeLogGroups",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                    ],
                    [self.arn("logs", "log-group:*")],
                )
            ],
            "API Gateway's account role for access logs",
        )
        account = apigw.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        api.deployment_stage.node.add_dependency(account)

    # ------------------------------------------------------------------------------------------- serving

    def _serving(self) -> None:
        """One DynamoDB table per catalog/serving/*.yaml: the keys and indexes the loaders create locally."""
        self.serving_tables: dict[str, dynamodb.Table] = {}
        for spec in serving_tables():
            table = dynamodb.Table(
                self,
                f"Serving-{spec.name}",
                table_name=self.conf.names.serving_table(spec.name),
                partition_key=_attribute(spec.partition_key),
                sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                deletion_protection=True,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            for index in spec.local_secondary_indexes:
                table.add_local_secondary_index(
                    index_name=index.name,
                    sort_key=_attribute(index.sort_key),
                    projection_type=dynamodb.ProjectionType[index.projection],
                )
            self.serving_tables[spec.name] = table

    # -------------------------------------------------------------------------------------------- athena

    def _athena(self) -> None:
        """The environment's Athena workgroup (its settings enforced on every query) and queries/**/*.sql as its
        named queries: each file's text with only the layer databases renamed to the environment's."""
        athena_conf = self.conf.deploy.get("athena") or {}
        cutoff = int(float(athena_conf.get("bytes_scanned_cutoff_gib", 10)) * 1024**3)
        if cutoff < 10_000_000:
            raise config.DeployConfigError(
                f"deploy.athena.bytes_scanned_cutoff_gib gives {cutoff} bytes: Athena's minimum is 10 MB"
            )
        self.workgroup = athena.CfnWorkGroup(
            self,
            "Workgroup",
            name=self.conf.names.workgroup(),
            description=f"campaign-lake ({self.conf.name}): queries of the lake",
            state="ENABLED",
            recursive_delete_option=True,  # the named queries go with it
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                bytes_scanned_cutoff_per_query=cutoff,
                publish_cloud_watch_metrics_enabled=True,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"{self.lake_root}/_athena_results/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                    expected_bucket_owner=self.account,
                ),
            ),
        )
        cdk.CfnOutput(self, "AthenaWorkgroup", value=self.conf.names.workgroup(), description="lake query --workgroup")
        for name, text in config.named_queries().items():
            athena.CfnNamedQuery(
                self,
                f"Query-{name.replace('/', '-')}",
                name=name,
                description=f"queries/{name}.sql",
                database=self.database_names["curated"],
                query_string=map_databases(text, self.database_names),
                work_group=self.workgroup.ref,
            )


CDK_OUT = Path(__file__).resolve().parent / "cdk.out"


def build_app(outdir: str | Path | None = None, conf: dict[str, Any] | None = None) -> cdk.App:
    """Every environment's stack (of `conf`, default conf/aws.yaml); written to `outdir`, else $CDK_OUTDIR (set by
    the cdk CLI), else deploy/cdk.out.

    Environments with the same account and region (null: the deploying credentials', so the same) share the
    account's API Gateway settings: the first of them sets its CloudWatch role, the others deploy after it.
    """
    import os

    app = cdk.App(
        outdir=str(outdir or os.environ.get("CDK_OUTDIR") or CDK_OUT),
        # Access logs delivered through a bucket policy, not the legacy LogDeliveryWrite ACL.
        context={"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True},
    )
    owners: dict[tuple[Any, Any], LakeStack] = {}
    for env in config.environments(conf):
        where = (env.deploy.get("account"), env.deploy.get("region"))
        stack = LakeStack(app, env, owns_account_settings=where not in owners)
        if where in owners:
            stack.add_stack_dependency(owners[where], "API Gateway's account settings are the first stack's")
        owners.setdefault(where, stack)
    return app


def synth(outdir: str | Path | None = None):
    """Synthesize every stack (cdk.out by default); returns the cloud assembly."""
    return build_app(outdir).synth()
