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
from lakekit.catalog.glue import table_input
from lakekit.catalog.serving import KeyAttribute, serving_tables
from lakekit.core import registry

# Glue's Delta Lake support: the session extension and catalog, as one --conf value (Glue's convention).
DELTA_CONF = (
    "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension"
    " --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog"
)
FAILED_JOB_STATES = ["FAILED", "TIMEOUT", "ERROR"]
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


def _statement(actions: list[str], resources: list[str], **kwargs: Any) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=actions, resources=resources, **kwargs)


def _attribute(key: KeyAttribute) -> dynamodb.Attribute:
    """A key attribute of a catalog/serving/ declaration (type S, N or B)."""
    kinds = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER, "B": dynamodb.AttributeType.BINARY}
    return dynamodb.Attribute(name=key.name, type=kinds[key.type])


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

    def __init__(self, scope: Construct, env: config.Environment, **kwargs: Any):
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
        self.arn = lambda service, resource: f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"
        self._storage()
        self._code()
        self._alerts()
        self._catalog()
        self._jobs()
        self._workflows()
        self._ingestion()
        self._serving()

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
        for layer in sorted({t.layer for t in tables}):
            self.databases[layer] = glue.CfnDatabase(
                self,
                f"Database-{layer}",
                catalog_id=self.account,
                database_input=glue.CfnDatabase.DatabaseInputProperty(
                    name=layer, description=f"The lake's {layer} layer (catalog/{layer}/)"
                ),
            )
        for table in tables:
            resource = cdk.CfnResource(
                self,
                f"Table-{table.layer}-{table.name}",
                type="AWS::Glue::Table",
                properties={
                    "CatalogId": self.account,
                    "DatabaseName": table.layer,
                    "TableInput": table_input(table, self.lake_root),
                },
            )
            resource.node.add_dependency(self.databases[table.layer])

    # ---------------------------------------------------------------------------------------------- jobs

    def _job_statements(self, job: str) -> list[iam.PolicyStatement]:
        lake = self.conf.lake_prefix
        glue_resources = [self.arn("glue", "catalog"), self.arn("glue", "database/default")]
        for layer in self.databases:
            glue_resources += [self.arn("glue", f"database/{layer}"), self.arn("glue", f"table/{layer}/*")]
        statements = [
            _statement(
                ["s3:GetObject"], [self._asset_arn(self.scripts[job]), self.bucket.arn_for_objects(self.wheel_key)]
            ),
            _statement(
                ["s3:ListBucket"], [self.bucket.bucket_arn], conditions={"StringLike": {"s3:prefix": [f"{lake}/*"]}}
            ),
            _statement(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [self.lake_objects()]),
            _statement(
                [
                    "glue:GetDatabase",
                    "glue:GetDatabases",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:CreateTable",
                    "glue:UpdateTable",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                    "glue:CreatePartition",
                    "glue:BatchCreatePartition",
                    "glue:GetUserDefinedFunctions",
                ],
                glue_resources,
            ),
            self._logs_statement(self.arn("logs", "log-group:/aws-glue/*")),
            _statement(
                ["cloudwatch:PutMetricData"], ["*"], conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}}
            ),
        ]
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
                    [self.arn("dynamodb", f"table/{t}") for t in tables],
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
                "--TempDir": f"s3://{self.bucket.bucket_name}/{self.conf.lake_prefix}/_staging/glue-temp/",
                "--enable-metrics": "true",
                "--enable-continuous-cloudwatch-log": "true",
            }
            self.jobs[job] = glue.CfnJob(
                self,
                f"Job-{job}",
                name=job,
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
                detail={"state": FAILED_JOB_STATES, "jobName": sorted(self.jobs)},
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
            workflow = glue.CfnWorkflow(
                self,
                f"Workflow-{name}",
                name=name,
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
                action = glue.CfnTrigger.ActionProperty(job_name=step.job, arguments=arguments)
                if index == 0:
                    trigger = glue.CfnTrigger(
                        self,
                        f"Trigger-{name}-{index}",
                        name=f"{name}-start",
                        workflow_name=name,
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
                        name=f"{name}-after-{previous}",
                        workflow_name=name,
                        type="CONDITIONAL",
                        start_on_creation=True,
                        predicate=glue.CfnTrigger.PredicateProperty(
                            conditions=[
                                glue.CfnTrigger.ConditionProperty(
                                    job_name=previous, logical_operator="EQUALS", state="SUCCEEDED"
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
        """A state machine: incremental exports of `tables` for the hour before its scheduled time, waits for
        them, then starts the workflow. Started by its schedule with {"time": <the scheduled time>}; start it
        by hand with another time to export a window a failed run missed."""
        poll = cdk.Duration.minutes(int(schedule.get("export_poll_minutes", 5)))
        window = sfn.Pass.jsonata(
            self,
            f"{workflow}-Window",
            state_name="Export window",
            outputs={
                "to": "{% $fromMillis($floor($toMillis($states.input.time) / 3600000) * 3600000) %}",
                "from": "{% $fromMillis($floor($toMillis($states.input.time) / 3600000) * 3600000 - 3600000) %}",
            },
        )
        exports = sfn.Parallel.jsonata(self, f"{workflow}-Exports", state_name="Export tables")
        for table in tables:
            prefix = f"{self.conf.lake_prefix}/landing/dynamodb/{table}"
            table_arn = self.arn("dynamodb", f"table/{table}")
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
                    # The same window is one export, however often the state is retried.
                    "ClientToken": f"{{% '{table}-' & $string($toMillis($states.input.to)) %}}",
                },
                outputs={"arn": "{% $states.result.ExportDescription.ExportArn %}"},
            )
            start.add_retry(errors=["States.ALL"], max_attempts=3, interval=cdk.Duration.seconds(30))
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
                    "arn": "{% $states.input.arn %}",
                    "status": "{% $states.result.ExportDescription.ExportStatus %}",
                },
            )
            done = sfn.Choice.jsonata(self, f"{workflow}-Done-{table}", state_name=f"{table} exported?")
            done.when(sfn.Condition.jsonata("{% $states.input.status = 'IN_PROGRESS' %}"), wait)
            done.when(
                sfn.Condition.jsonata("{% $states.input.status = 'COMPLETED' %}"),
                sfn.Succeed(self, f"{workflow}-Exported-{table}", state_name=f"{table} export completed"),
            )
            done.otherwise(
                sfn.Fail(self, f"{workflow}-Failed-{table}", state_name=f"{table} export failed", error="ExportFailed")
            )
            exports.branch(start.next(wait).next(describe).next(done))
        run = tasks.CallAwsService.jsonata(
            self,
            f"{workflow}-Run",
            state_name=f"Start workflow {workflow}",
            service="glue",
            action="startWorkflowRun",
            iam_action="glue:StartWorkflowRun",
            iam_resources=[self.arn("glue", f"workflow/{workflow}")],
            parameters={"Name": workflow},
        )
        log_group = logs.LogGroup(self, f"{workflow}-StateMachineLogs", retention=LOG_RETENTION)
        machine = sfn.StateMachine(
            self,
            f"{workflow}-ExportThenRun",
            definition_body=sfn.DefinitionBody.from_chainable(window.next(exports).next(run)),
            query_language=sfn.QueryLanguage.JSONATA,
            timeout=cdk.Duration.hours(6),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ERROR),
            comment=f"Incremental exports of {', '.join(tables)}, then the Glue workflow {workflow}",
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
            reserved_concurrent_executions=int(api_conf.get("concurrency", 20)),
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
                table_name=spec.name,
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


CDK_OUT = Path(__file__).resolve().parent / "cdk.out"


def build_app(outdir: str | Path | None = None) -> cdk.App:
    """Every environment's stack; written to `outdir`, else $CDK_OUTDIR (set by the cdk CLI), else deploy/cdk.out."""
    import os

    app = cdk.App(
        outdir=str(outdir or os.environ.get("CDK_OUTDIR") or CDK_OUT),
        # Access logs delivered through a bucket policy, not the legacy LogDeliveryWrite ACL.
        context={"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True},
    )
    for env in config.environments():
        LakeStack(app, env)
    return app


def synth(outdir: str | Path | None = None):
    """Synthesize every stack (cdk.out by default); returns the cloud assembly."""
    return build_app(outdir).synth()
