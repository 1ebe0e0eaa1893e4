"""The identity policies of each role of a synthesized stack template, with CloudFormation's intrinsics
(Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, pseudo parameters) resolved to concrete names."""

from __future__ import annotations

import re
from typing import Any

# The name property of each resource type a policy names (its Ref); without it the logical id stands for it.
NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Glue::Workflow": "Name",
    "AWS::Glue::Job": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::SNS::Topic": "TopicName",
}
# Fn::GetAtt <resource>.Arn, per the CloudFormation resource reference's return values.
ARN_FORMAT = {
    "AWS::S3::Bucket": "arn:{p}:s3:::{name}",
    "AWS::Kinesis::Stream": "arn:{p}:kinesis:{r}:{a}:stream/{name}",
    "AWS::DynamoDB::Table": "arn:{p}:dynamodb:{r}:{a}:table/{name}",
    "AWS::Logs::LogGroup": "arn:{p}:logs:{r}:{a}:log-group:{name}:*",
    "AWS::IAM::Role": "arn:{p}:iam::{a}:role/{name}",
    "AWS::Lambda::Function": "arn:{p}:lambda:{r}:{a}:function:{name}",
    "AWS::KinesisFirehose::DeliveryStream": "arn:{p}:firehose:{r}:{a}:deliverystream/{name}",
    "AWS::StepFunctions::StateMachine": "arn:{p}:states:{r}:{a}:stateMachine:{name}",
}


class Resolver:
    """Resolves a template's values for one account and region; `names` gives chosen physical names by logical id
    (e.g. the lake bucket as the tests name it)."""

    def __init__(self, template: dict, account: str, region: str, names: dict[str, str] | None = None):
        self.resources = template.get("Resources", {})
        self.parameters = template.get("Parameters", {})
        self.names = names or {}
        self.pseudo = {
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "stack",
        }
        self.account, self.region = account, region

    def name(self, logical: str) -> str:
        if logical in self.names:
            return self.names[logical]
        resource = self.resources[logical]
        prop = NAME_PROPERTY.get(resource["Type"])
        value = resource.get("Properties", {}).get(prop) if prop else None
        return self.resolve(value) if value is not None else logical.lower()

    def ref(self, target: str) -> str:
        if target in self.pseudo:
            return self.pseudo[target]
        if target in self.parameters:
            return str(self.parameters[target].get("Default", target))
        return self.name(target)

    def get_att(self, logical: str, attribute: str) -> str:
        kind = self.resources[logical]["Type"]
        if attribute != "Arn" or kind not in ARN_FORMAT:
            raise ValueError(f"Fn::GetAtt {logical}.{attribute} ({kind}): not resolved here; add it to ARN_FORMAT")
        return ARN_FORMAT[kind].format(p="aws", r=self.region, a=self.account, name=self.name(logical))

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in variables:
                return self.resolve(variables[name])
            if "." in name:
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.get_att(*(arg if isinstance(arg, list) else arg.split(".", 1)))
            if key == "Fn::Join":
                return arg[0].join(str(self.resolve(v)) for v in self.resolve(arg[1]))
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return self.sub(text, variables)
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::Split":
                return self.resolve(arg[1]).split(arg[0])
            if key.startswith("Fn::"):
                raise ValueError(f"{key}: not resolved here")
        return {k: self.resolve(v) for k, v in value.items()}


def role_policies(template: dict, resolver: Resolver, roles: set[str]) -> dict[str, list[dict]]:
    """{role logical id: its identity policy documents, resolved} for these roles: inline Policies and every
    AWS::IAM::Policy attached to it. A managed policy ARN is refused (its content is not in the template)."""
    resources = template["Resources"]
    found: dict[str, list[dict]] = {}
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::IAM::Role" or logical not in roles:
            continue
        props = resource.get("Properties", {})
        if props.get("ManagedPolicyArns"):
            raise ValueError(f"role {logical} has managed policies, which this evaluation cannot read")
        found[logical] = [resolver.resolve(p["PolicyDocument"]) for p in props.get("Policies", [])]
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy":
            for role in resource["Properties"].get("Roles", []):
                if role["Ref"] in found:
                    found[role["Ref"]].append(resolver.resolve(resource["Properties"]["PolicyDocument"]))
    return found


def callers(template: dict) -> dict[str, str]:
    """{caller: role logical id} for every caller the recording names: `job.<job>` (the role whose description is
    "Glue job <job>", as deploy/stack.py writes it), `lambda.ingest` (the ingest function's role) and
    `states.<workflow>` (the role of the workflow's export state machine)."""
    resources = template["Resources"]
    found: dict[str, str] = {}
    for logical, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            described = re.fullmatch(r"Glue job (\S+)", props.get("Description", ""))
            if described:
                found[f"job.{described.group(1)}"] = logical
        if resource["Type"] == "AWS::Lambda::Function" and props.get("Handler") == "ingest_handler.handler":
            found["lambda.ingest"] = props["Role"]["Fn::GetAtt"][0]
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            workflow = re.search(r"then the Glue workflow ([A-Za-z0-9_-]+)", str(props.get("DefinitionString", "")))
            if workflow:
                found[f"states.{workflow.group(1)}"] = props["RoleArn"]["Fn::GetAtt"][0]
    return found
