"""Every AWS request the lake's callers make is allowed by the role that makes it in the synthesized template, and
the requests each role must be refused are refused: @cloud-copilot/iam-simulate evaluates the template's policies
(intrinsics resolved) as IAM does, conditions included.

The requests are deploy/iam/calls.jsonl, recorded by `make test-aws` (every request each job process signed, boto3
and Spark's S3A alike, tests/iam_recording.py), and the SDK calls of the export state machines' tasks as their
definitions in the template make them.
"""

from __future__ import annotations

import json

import pytest

from deploy.iam.actions import IamRequest
from deploy.iam.evaluate import ACCOUNT, REGION, Stack, allowed, concrete_call, denied, read_calls, state_machine_calls
from deploy.iam.template import Resolver, callers, role_policies
from lakekit.core import registry


@pytest.fixture(scope="module")
def stacks(templates) -> dict[str, Stack]:
    return {name: Stack.load(template) for name, template in templates.items()}


def test_the_recording_covers_every_job_of_the_campaign_and_names_only_known_callers(stacks):
    calls = read_calls()
    roles = {c["role"] for c in calls}
    campaign = {f"job.{step.job}" for step in registry.workflow("campaign")}
    assert campaign <= roles
    for stack in stacks.values():
        assert roles <= set(stack.policies), sorted(roles - set(stack.policies))


def test_every_recorded_request_is_allowed_by_the_role_that_made_it(stacks):
    calls = read_calls()
    for name, stack in stacks.items():
        refused = denied(stack, [concrete_call(line, stack) for line in calls])
        assert refused == [], f"{name}: {len(refused)} of {len(calls)} recorded requests denied:\n" + "\n".join(
            refused[:50]
        )


def test_the_export_state_machine_tasks_are_allowed_by_its_role(stacks):
    for name, stack in stacks.items():
        calls = state_machine_calls(stack)
        actions = sorted({c["action"] for c in calls})
        assert actions == [
            "dynamodb:DescribeExport",
            "dynamodb:ExportTableToPointInTime",
            "glue:StartWorkflowRun",
            "s3:AbortMultipartUpload",
            "s3:GetObject",
            "s3:ListBucket",
            "s3:PutObject",
        ]
        # The window state of each exported table (docs/export_windows.md): listed by its exact key, read, written.
        windows = [c for c in calls if "/_state/" in c["resource"] or "s3:prefix" in c["context"]]
        state = f"{stack.lake_prefix}/_state/export_windows"
        assert sorted((c["action"], c["resource"].rsplit(":::", 1)[1], str(c["context"])) for c in windows) == sorted(
            [
                (a, f"{stack.bucket}/{state}/{t}.json", "{}")
                for a in ("s3:GetObject", "s3:PutObject")
                for t in ("campaignInfo", "user_Campaign")
            ]
            + [
                ("s3:ListBucket", stack.bucket, str({"s3:prefix": f"{state}/{t}.json"}))
                for t in ("campaignInfo", "user_Campaign")
            ]
        )
        assert denied(stack, calls) == [], name


def _object(stack: Stack, key: str) -> str:
    return f"arn:aws:s3:::{stack.bucket}/{stack.lake_prefix}/{key}"


def _must_refuse(stack: Stack) -> list[dict]:
    """What each role must not do: other buckets, other jobs' state, landing changed by a job that only reads it,
    tables another job owns, the Lambda beyond its streams."""
    glue, kinesis = f"arn:aws:glue:{REGION}:{ACCOUNT}", f"arn:aws:kinesis:{REGION}:{ACCOUNT}"
    names = stack.names()  # the stack's own databases and streams: a refusal must not come from a wrong name
    database = {layer: names[f"database:{layer}"] for layer in ("raw", "curated")}
    requests: list[tuple[str, IamRequest]] = []
    jobs = registry.jobs()
    owner = {t: j.name for j in jobs.values() for t in j.writes if "." in t}
    for job in jobs.values():
        caller = f"job.{job.name}"
        other = next(j for j in sorted(jobs) if j != job.name)
        requests += [
            (caller, IamRequest("s3:GetObject", f"arn:aws:s3:::another-bucket/{stack.lake_prefix}/raw/x.parquet")),
            (caller, IamRequest("s3:PutObject", f"arn:aws:s3:::another-bucket/{stack.lake_prefix}/raw/x.parquet")),
            (
                caller,
                IamRequest("s3:ListBucket", "arn:aws:s3:::another-bucket", {"s3:prefix": f"{stack.lake_prefix}/"}),
            ),
            (caller, IamRequest("s3:ListBucket", f"arn:aws:s3:::{stack.bucket}", {"s3:prefix": "artifacts/"})),
            (caller, IamRequest("s3:PutObject", _object(stack, f"_state/bookmarks/{other}.json"))),
            (caller, IamRequest("s3:DeleteObject", _object(stack, f"_state/locks/{other}.lock"))),
            (caller, IamRequest("s3:PutObject", f"arn:aws:s3:::{stack.bucket}/artifacts/x/lakekit.whl")),
            (caller, IamRequest("glue:DeleteTable", f"{glue}:table/{database['raw']}/user_campaign")),
            (caller, IamRequest("glue:DeleteDatabase", f"{glue}:database/{database['raw']}")),
        ]
        if not any(w.startswith("landing/") for w in job.writes):
            requests += [
                (caller, IamRequest("s3:DeleteObject", _object(stack, "landing/dynamodb/user_Campaign/x.json.gz"))),
                (caller, IamRequest("s3:PutObject", _object(stack, "landing/streams/orders/x.jsonl.gz"))),
            ]
        if not any(r.startswith("landing/") for r in job.reads):  # a curated job never reads landing
            requests.append((caller, IamRequest("s3:GetObject", _object(stack, "landing/cfpb/x.json"))))
        for table, table_owner in owner.items():
            if table_owner == job.name:
                continue
            layer, name = table.split(".")
            requests += [
                (caller, IamRequest("s3:PutObject", _object(stack, f"{layer}/{name}/part-0.parquet"))),
                (caller, IamRequest("s3:DeleteObject", _object(stack, f"{layer}/{name}/_delta_log/0.json"))),
                (caller, IamRequest("glue:UpdateTable", f"{glue}:table/{database[layer]}/{name}")),
                (caller, IamRequest("glue:CreatePartition", f"{glue}:table/{database[layer]}/{name}")),
            ]
    # The export state machine: its own tables' window states, nothing else of the lake's state or landing.
    state, bucket = "_state/export_windows", f"arn:aws:s3:::{stack.bucket}"
    requests += [
        ("states.campaign", IamRequest("s3:GetObject", _object(stack, f"{state}/users.json"))),
        ("states.campaign", IamRequest("s3:PutObject", _object(stack, f"{state}/users.json"))),
        ("states.campaign", IamRequest("s3:PutObject", _object(stack, "_state/bookmarks/raw_user_campaign.json"))),
        ("states.campaign", IamRequest("s3:DeleteObject", _object(stack, f"{state}/user_Campaign.json"))),
        ("states.campaign", IamRequest("s3:GetObject", _object(stack, "landing/dynamodb/user_Campaign/x.json.gz"))),
        ("states.campaign", IamRequest("s3:DeleteObject", _object(stack, "landing/dynamodb/user_Campaign/x.json.gz"))),
        ("states.campaign", IamRequest("s3:PutObject", _object(stack, "landing/streams/orders/x.jsonl.gz"))),
        ("states.campaign", IamRequest("s3:PutObject", f"arn:aws:s3:::another-bucket/{stack.lake_prefix}/{state}/x")),
        ("states.campaign", IamRequest("s3:ListBucket", bucket)),  # no prefix: HeadBucket, a whole listing
        ("states.campaign", IamRequest("s3:ListBucket", bucket, {"s3:prefix": f"{stack.lake_prefix}/{state}/"})),
        ("states.campaign", IamRequest("s3:ListBucket", bucket, {"s3:prefix": f"{stack.lake_prefix}/landing/"})),
        ("states.campaign", IamRequest("s3:ListBucket", bucket, {"s3:prefix": f"{stack.lake_prefix}/_state/"})),
    ]
    requests += [
        ("lambda.ingest", IamRequest("kinesis:PutRecords", f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/another")),
        ("lambda.ingest", IamRequest("s3:GetObject", _object(stack, "landing/x"))),
        ("lambda.ingest", IamRequest("kinesis:GetRecords", f"{kinesis}:stream/{names['kinesis:orders']}")),
    ]
    return [r.line(caller) for caller, r in requests]


def test_each_role_is_refused_what_it_must_not_do(stacks):
    for name, stack in stacks.items():
        requests = _must_refuse(stack)
        assert len(requests) > 100
        assert allowed(stack, requests) == [], name


def test_the_evaluation_can_fail_the_grant_the_jobs_had_denies_head_bucket(stacks):
    """The ListBucket grant conditioned on s3:prefix alone (the roles before this evaluation) denies HeadBucket,
    which carries no s3:prefix: check_root failed on AWS at every job's first call."""
    stack = next(iter(stacks.values()))
    old = [
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": f"arn:aws:s3:::{stack.bucket}",
                    "Condition": {"StringLike": {"s3:prefix": [f"{stack.lake_prefix}/*"]}},
                }
            ],
        }
    ]
    probe = Stack(stack.template, stack.resolver, {"job.old": old}, stack.bucket, stack.lake_prefix)
    head_bucket = IamRequest("s3:ListBucket", f"arn:aws:s3:::{stack.bucket}").line("job.old")
    listing = IamRequest(
        "s3:ListBucket", f"arn:aws:s3:::{stack.bucket}", {"s3:prefix": f"{stack.lake_prefix}/raw/"}
    ).line("job.old")
    assert denied(probe, [head_bucket, listing]) == [
        f"job.old: s3:ListBucket on arn:aws:s3:::{stack.bucket}  -> ImplicitlyDenied"
    ]
    assert json.dumps(stack.policies)  # the stack's own policies are plain JSON once resolved


def test_every_role_s_inline_policies_fit_iam_s_size_quota_with_the_longest_bucket_name(templates):
    """IAM's quota (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): a role's inline
    policies together at most 10,240 characters, whitespace not counted. The lake bucket's name is CDK's, up to
    S3's 63 characters: the grants are measured with that."""
    for name, template in templates.items():
        lake = next(
            k for k, v in template["Resources"].items() if v["Type"] == "AWS::S3::Bucket" and k.startswith("Lake")
        )
        resolver = Resolver(template, ACCOUNT, REGION, names={lake: "b" * 63})
        roles = callers(template)
        policies = role_policies(template, resolver, set(roles.values()))
        sizes = {c: sum(len(json.dumps(d, separators=(",", ":"))) for d in policies[r]) for c, r in roles.items()}
        assert max(sizes.values()) <= 10_240, (name, sizes)
        assert min(sizes.values()) > 500, sizes  # the policies were found and resolved
