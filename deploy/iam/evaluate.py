"""Evaluate IAM requests (the committed recording deploy/iam/calls.jsonl, the state machines' tasks, the requests
each role must be refused) against the roles of a synthesized template, with @cloud-copilot/iam-simulate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from deploy.iam.actions import IamRequest, UnmappedRequest, concrete, iam_requests
from deploy.iam.template import Resolver, callers, role_policies

HERE = Path(__file__).resolve().parent
CALLS = HERE / "calls.jsonl"
SIMULATOR = HERE / "simulate.mjs"
IAM_SIMULATE_VERSION = "0.1.173"
IAM_SIMULATE_PREFIX = Path(
    os.environ.get("IAM_SIMULATE_PREFIX") or Path.home() / ".cache" / "lakekit" / "iam-simulate" / IAM_SIMULATE_VERSION
)
ACCOUNT, REGION = "123456789012", "us-east-1"
# What DynamoDB's export does in S3 with the caller's permissions ("Requesting a table export in DynamoDB",
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport_Requesting.html: s3:PutObject,
# s3:AbortMultipartUpload, s3:PutObjectAcl on the export's bucket and prefix).
EXPORT_WRITES = ("s3:PutObject", "s3:AbortMultipartUpload")
EXPORT_OBJECT = "AWSDynamoDB/01700000000000-abcdef12/manifest-summary.json"


@dataclass(frozen=True)
class Stack:
    """A synthesized stack as IAM sees it: each caller's policies, the lake's bucket and prefix, its values."""

    template: dict
    resolver: Resolver
    policies: dict[str, list[dict]]  # by caller (job.<job>, lambda.ingest, states.<workflow>)
    bucket: str
    lake_prefix: str

    @classmethod
    def load(cls, template: dict) -> Stack:
        resolver = Resolver(template, ACCOUNT, REGION)
        roles = callers(template)
        by_role = role_policies(template, resolver, set(roles.values()))
        policies = {caller: by_role[role] for caller, role in roles.items()}
        root = resolver.resolve(template["Outputs"]["LakeRoot"]["Value"])
        bucket, _, prefix = root.split("://", 1)[1].partition("/")
        return cls(template, resolver, policies, bucket, prefix.strip("/"))

    def names(self) -> dict[str, str]:
        """The placeholders of the recording: the lake's bucket and prefix, the account and region, the
        environment's names as its jobs get them (--names: database:<layer>, serving_table:<table>, stream:<s>)
        and each event stream's Kinesis name as the ingest function is told it (kinesis:<stream>)."""
        names = {"bucket": self.bucket, "lake": self.lake_prefix, "account": ACCOUNT, "region": REGION}
        for resource in self.template["Resources"].values():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Glue::Job":  # the environment's names, as its jobs are told them
                given = json.loads(self.resolver.resolve(props["DefaultArguments"]["--names"]))
                names |= {f"{kind}:{logical}": physical for kind in given for logical, physical in given[kind].items()}
            if resource["Type"] == "AWS::Lambda::Function" and props.get("Handler") == "ingest_handler.handler":
                streams = self.resolver.resolve(props["Environment"]["Variables"]["LAKE_KINESIS_STREAMS"])
                names |= {f"kinesis:{stream}": name for stream, name in json.loads(streams).items()}
        return names


def read_calls(path: Path = CALLS) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_calls(lines: list[dict], path: Path = CALLS) -> None:
    path.write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in sorted_calls(lines)))


def sorted_calls(lines: list[dict]) -> list[dict]:
    unique = {json.dumps(line, sort_keys=True): line for line in lines}
    return [unique[k] for k in sorted(unique)]


def concrete_call(line: dict, stack: Stack) -> dict:
    names = stack.names()
    return {
        "role": line["role"],
        "action": line["action"],
        "resource": concrete(line["resource"], names),
        "context": {k: concrete(v, names) for k, v in line.get("context", {}).items()},
    }


def simulate(stack: Stack, requests: list[dict]) -> list[str]:
    """'Allowed', 'ImplicitlyDenied', 'ExplicitlyDenied' (or an error) for each request, in order."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH: the IAM evaluation runs @cloud-copilot/iam-simulate in Node")
    if not (IAM_SIMULATE_PREFIX / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        raise RuntimeError(f"@cloud-copilot/iam-simulate is not in {IAM_SIMULATE_PREFIX}: run make iam-install")
    payload = {"account": ACCOUNT, "roles": stack.policies, "requests": requests}
    done = subprocess.run(
        [node, str(SIMULATOR)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env={**os.environ, "IAM_SIMULATE_PREFIX": str(IAM_SIMULATE_PREFIX)},
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"iam-simulate failed: {done.stderr[-2000:]}")
    return [r["result"] if r["result"] != "Error" else f"Error {r['errors']}" for r in json.loads(done.stdout)]


def denied(stack: Stack, requests: list[dict]) -> list[str]:
    """One line per request not Allowed: caller, action, resource, context and the evaluator's answer."""
    results = simulate(stack, requests)
    return [
        f"{r['role']}: {r['action']} on {r['resource']} {r.get('context') or ''} -> {result}"
        for r, result in zip(requests, results, strict=True)
        if result != "Allowed"
    ]


def allowed(stack: Stack, requests: list[dict]) -> list[str]:
    results = simulate(stack, requests)
    return [
        f"{r['role']}: {r['action']} on {r['resource']} {r.get('context') or ''} -> {result}"
        for r, result in zip(requests, results, strict=True)
        if result == "Allowed"
    ]


def state_machine_calls(stack: Stack) -> list[dict]:
    """The SDK calls of each export state machine's tasks (arn:aws:states:::aws-sdk:<service>:<action>), as its role
    makes them: the arguments from the definition, a JSONata value replaced by what the service returns."""
    calls = []
    for logical, resource in stack.template["Resources"].items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        role = resource["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        caller = next((c for c, r in callers(stack.template).items() if r == role and c.startswith("states.")), None)
        if caller is None:
            raise ValueError(f"state machine {logical}: no caller role found")
        definition = json.loads(stack.resolver.resolve(resource["Properties"]["DefinitionString"]))
        for task, siblings in _tasks(definition):
            service, action = task["Resource"].rsplit(":", 2)[-2:]
            arguments = task.get("Arguments", {})
            if action == "describeExport":  # the export of its own branch: the table's export ARN
                table = next(t["Arguments"]["TableArn"] for t in siblings if "TableArn" in t.get("Arguments", {}))
                arguments = {"ExportArn": f"{table}/export/01700000000000-abcdef12"}
            if service == "s3":
                record = _s3_task_record(action, arguments)
            else:
                target = {"dynamodb": "DynamoDB_20120810", "glue": "AWSGlue"}[service]
                record = {
                    "service": service,
                    "method": "POST",
                    "path": "/",
                    "target": f"{target}.{action[0].upper()}{action[1:]}",
                    "body": json.dumps(arguments),
                }
            for request in iam_requests(record, ACCOUNT, REGION):
                calls.append(request.line(caller))
            if action == "exportTableToPointInTime":
                key = f"{arguments['S3Bucket']}/{arguments['S3Prefix']}/{EXPORT_OBJECT}"
                calls += [IamRequest(a, f"arn:aws:s3:::{key}").line(caller) for a in EXPORT_WRITES]
    return calls


def _s3_task_record(action: str, arguments: dict) -> dict:
    """An S3 SDK task's request as the S3 REST API receives it (path style, as the recording writes S3 requests):
    ListObjectsV2 is GET /<bucket>?list-type=2&prefix=<p>, GetObject GET and PutObject PUT /<bucket>/<key>; the
    request rules of deploy/iam/actions.py then name its action, resource and condition keys."""
    values = [arguments.get(k, "") for k in ("Bucket", "Key", "Prefix")]
    if any(isinstance(v, str) and v.startswith("{%") for v in values):
        raise UnmappedRequest(f"s3:{action}: a bucket, key or prefix computed at run time cannot be evaluated")
    bucket = arguments["Bucket"]
    if action == "listObjectsV2":
        query = urllib.parse.urlencode({"list-type": "2", "prefix": arguments["Prefix"]})
        return {"service": "s3", "method": "GET", "path": f"/{bucket}", "query": query}
    methods = {"getObject": "GET", "putObject": "PUT"}
    if action not in methods:
        raise UnmappedRequest(f"s3:{action}: no request rule for this task")
    return {"service": "s3", "method": methods[action], "path": f"/{bucket}/{arguments['Key']}", "query": ""}


def _tasks(node, siblings: tuple = ()):
    """Each Task state with the Task states of its own States (its branch of a Parallel, or the machine's top)."""
    if isinstance(node, dict):
        if isinstance(node.get("States"), dict):
            siblings = tuple(s for s in node["States"].values() if isinstance(s, dict) and s.get("Type") == "Task")
        if node.get("Type") == "Task":
            yield node, siblings
        for value in node.values():
            yield from _tasks(value, siblings)
    elif isinstance(node, list):
        for value in node:
            yield from _tasks(value, siblings)
