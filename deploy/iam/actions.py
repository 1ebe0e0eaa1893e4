"""The IAM action, resources and condition keys of each AWS request the lake makes, as data with its source.

A recorded request (tests/cloud.py's CountingMoto: signing key, method, path, query, X-Amz-Target, body) becomes
one or more IAM requests; a request no rule knows raises UnmappedRequest (never skipped).
"""

from __future__ import annotations

import json
import re
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

S3_ACTIONS_DOC = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html"
S3_API = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_{}.html (Permissions)"
GLUE_ARNS = "https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html"
DYNAMODB_ARNS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html"
KINESIS_ARNS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonkinesis.html"


class UnmappedRequest(ValueError):
    """A recorded request no rule here maps to IAM: add a rule (with its source) rather than skip it."""


@dataclass(frozen=True)
class S3Rule:
    """S3 REST: method, bucket- or object-level path, query parameters that must be present (and absent)."""

    method: str
    level: str  # "bucket" | "object"
    action: str
    source: str
    query: tuple[str, ...] = ()
    without: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None  # when set: no query parameter outside these (+ `query`) may be present


# The query parameters of a listing and of an object read; any other is a sub-resource with an action of its own.
LIST_PARAMS = (
    "list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "encoding-type",
    "fetch-owner", "marker",
)  # fmt: skip
# x-id (the SDK's name of the operation, e.g. x-id=GetObject) is no sub-resource: ignored in every rule.
OBJECT_READ_PARAMS = ("partNumber", "range") + tuple(
    f"response-{h}" for h in ("content-type", "content-language", "expires", "cache-control", "content-disposition")
)
# First match wins: the more specific rules (sub-resources in the query) come before the plain ones.
S3_RULES: tuple[S3Rule, ...] = (
    S3Rule("GET", "bucket", "s3:GetBucketLocation", S3_API.format("GetBucketLocation"), ("location",)),
    S3Rule("GET", "bucket", "s3:ListBucketMultipartUploads", S3_API.format("ListMultipartUploads"), ("uploads",)),
    S3Rule("GET", "bucket", "s3:ListBucketVersions", S3_API.format("ListObjectVersions"), ("versions",)),
    # ListObjectsV2 (list-type=2) and ListObjects: s3:ListBucket, with s3:prefix, s3:delimiter, s3:max-keys.
    S3Rule(
        "GET",
        "bucket",
        "s3:ListBucket",
        S3_API.format("ListObjectsV2") + "; condition keys: " + S3_ACTIONS_DOC,
        only=LIST_PARAMS,
    ),
    # "To use this operation, you must have permissions to perform the s3:ListBucket action."
    S3Rule("HEAD", "bucket", "s3:ListBucket", S3_API.format("HeadBucket"), only=()),
    S3Rule("PUT", "bucket", "s3:CreateBucket", S3_API.format("CreateBucket"), only=()),
    # DeleteObjects: "you must have the s3:DeleteObject permission" for each key in the body.
    S3Rule("POST", "bucket", "s3:DeleteObject", S3_API.format("DeleteObjects"), ("delete",)),
    S3Rule("GET", "object", "s3:ListMultipartUploadParts", S3_API.format("ListParts"), ("uploadId",)),
    S3Rule("GET", "object", "s3:GetObjectVersion", S3_API.format("GetObject"), ("versionId",)),
    S3Rule("GET", "object", "s3:GetObjectTagging", S3_API.format("GetObjectTagging"), ("tagging",)),
    S3Rule("GET", "object", "s3:GetObject", S3_API.format("GetObject"), only=OBJECT_READ_PARAMS),
    # HeadObject: "you must have the s3:GetObject permission"; a version: s3:GetObjectVersion.
    S3Rule("HEAD", "object", "s3:GetObjectVersion", S3_API.format("HeadObject"), ("versionId",)),
    S3Rule("HEAD", "object", "s3:GetObject", S3_API.format("HeadObject"), only=OBJECT_READ_PARAMS),
    S3Rule("PUT", "object", "s3:PutObjectTagging", S3_API.format("PutObjectTagging"), ("tagging",)),
    # UploadPart, UploadPartCopy, PutObject, CopyObject (its source: s3:GetObject, below), conditional writes
    # (If-None-Match / If-Match: no permission of their own): s3:PutObject.
    S3Rule(
        "PUT",
        "object",
        "s3:PutObject",
        S3_API.format("PutObject") + ", " + S3_API.format("UploadPart"),
        only=("partNumber", "uploadId"),
    ),
    # CreateMultipartUpload (?uploads) and CompleteMultipartUpload (?uploadId): s3:PutObject.
    S3Rule("POST", "object", "s3:PutObject", S3_API.format("CreateMultipartUpload"), ("uploads",)),
    S3Rule("POST", "object", "s3:PutObject", S3_API.format("CompleteMultipartUpload"), ("uploadId",)),
    S3Rule("DELETE", "object", "s3:AbortMultipartUpload", S3_API.format("AbortMultipartUpload"), ("uploadId",)),
    S3Rule("DELETE", "object", "s3:DeleteObjectVersion", S3_API.format("DeleteObject"), ("versionId",)),
    S3Rule("DELETE", "object", "s3:DeleteObject", S3_API.format("DeleteObject"), only=()),
)
# S3 answers a missing key with 404 only to a caller allowed s3:ListBucket on the bucket, else 403
# (GetObject / HeadObject, Permissions). S3A and the lake's first-run state reads need the 404.
MISSING_KEY_SOURCE = S3_API.format("GetObject") + ": 404 without s3:ListBucket is 403"
S3_CONDITION_PARAMS = {"prefix": "s3:prefix", "delimiter": "s3:delimiter", "max-keys": "s3:max-keys"}


@dataclass(frozen=True)
class JsonRule:
    """A JSON-protocol operation (X-Amz-Target): its action and how its body names the resources."""

    action: str
    resources: str  # a key of RESOURCES
    source: str


GLUE = "glue:{}", GLUE_ARNS
JSON_RULES: dict[str, JsonRule] = {
    # Glue Data Catalog: each call needs every level it touches (catalog, database, table) allowed.
    **{
        f"AWSGlue.{op}": JsonRule(f"glue:{op}", kind, GLUE_ARNS)
        for op, kind in {
            "GetDatabase": "glue_database",
            "CreateDatabase": "glue_database_input",
            "GetDatabases": "glue_databases",
            "GetTable": "glue_table",
            "GetTables": "glue_tables",
            "CreateTable": "glue_table_input",
            "UpdateTable": "glue_table_input",
            "DeleteTable": "glue_table",
            "GetPartition": "glue_partition_table",
            "GetPartitions": "glue_partition_table",
            "BatchGetPartition": "glue_partition_table",
            "CreatePartition": "glue_partition_table",
            "BatchCreatePartition": "glue_partition_table",
            "UpdatePartition": "glue_partition_table",
            "GetUserDefinedFunctions": "glue_functions",
        }.items()
    },
    **{
        f"DynamoDB_20120810.{op}": JsonRule(f"dynamodb:{op}", "dynamodb_table", DYNAMODB_ARNS)
        for op in ("DescribeTable", "CreateTable", "PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan")
    },
    "DynamoDB_20120810.BatchWriteItem": JsonRule("dynamodb:BatchWriteItem", "dynamodb_request_items", DYNAMODB_ARNS),
    "DynamoDB_20120810.BatchGetItem": JsonRule("dynamodb:BatchGetItem", "dynamodb_request_items", DYNAMODB_ARNS),
    "DynamoDB_20120810.ExportTableToPointInTime": JsonRule(
        "dynamodb:ExportTableToPointInTime", "dynamodb_table_arn", DYNAMODB_ARNS
    ),
    "DynamoDB_20120810.DescribeExport": JsonRule("dynamodb:DescribeExport", "dynamodb_export_arn", DYNAMODB_ARNS),
    "Kinesis_20131202.PutRecords": JsonRule("kinesis:PutRecords", "kinesis_stream", KINESIS_ARNS),
    "Kinesis_20131202.PutRecord": JsonRule("kinesis:PutRecord", "kinesis_stream", KINESIS_ARNS),
    "Kinesis_20131202.DescribeStreamSummary": JsonRule("kinesis:DescribeStreamSummary", "kinesis_stream", KINESIS_ARNS),
    "Kinesis_20131202.DescribeStream": JsonRule("kinesis:DescribeStream", "kinesis_stream", KINESIS_ARNS),
    "AWSGlue.StartWorkflowRun": JsonRule("glue:StartWorkflowRun", "glue_workflow", GLUE_ARNS),
}


@dataclass(frozen=True)
class IamRequest:
    """One question to IAM: may the role do `action` on `resource`, with these request condition keys."""

    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)

    def line(self, role: str) -> dict:
        return {"role": role, "action": self.action, "resource": self.resource, "context": dict(self.context)}


def _resources(kind: str, body: dict, arn) -> list[str]:
    """The ARNs a JSON request names: `arn(service, resource)` builds one in the account and region."""
    glue_catalog = arn("glue", "catalog")
    if kind == "glue_database":
        return [glue_catalog, arn("glue", f"database/{body['Name']}")]
    if kind == "glue_database_input":
        return [glue_catalog, arn("glue", f"database/{body['DatabaseInput']['Name']}")]
    if kind == "glue_databases":
        return [glue_catalog, arn("glue", "database/*")]
    db = body.get("DatabaseName")
    if kind == "glue_table":
        return [glue_catalog, arn("glue", f"database/{db}"), arn("glue", f"table/{db}/{body['Name']}")]
    if kind == "glue_table_input":
        return [glue_catalog, arn("glue", f"database/{db}"), arn("glue", f"table/{db}/{body['TableInput']['Name']}")]
    if kind == "glue_tables":
        return [glue_catalog, arn("glue", f"database/{db}"), arn("glue", f"table/{db}/*")]
    if kind == "glue_partition_table":
        return [glue_catalog, arn("glue", f"database/{db}"), arn("glue", f"table/{db}/{body['TableName']}")]
    if kind == "glue_functions":
        return [glue_catalog, arn("glue", f"database/{db}"), arn("glue", f"userDefinedFunction/{db}/*")]
    if kind == "glue_workflow":
        return [arn("glue", f"workflow/{body['Name']}")]
    if kind == "dynamodb_table":
        return [arn("dynamodb", f"table/{body['TableName']}")]
    if kind == "dynamodb_table_arn":
        return [body["TableArn"]]
    if kind == "dynamodb_export_arn":
        return [body["ExportArn"]]
    if kind == "dynamodb_request_items":
        return [arn("dynamodb", f"table/{name}") for name in sorted(body["RequestItems"])]
    if kind == "kinesis_stream":
        return [body.get("StreamARN") or arn("kinesis", f"stream/{body['StreamName']}")]
    raise UnmappedRequest(f"no resource rule {kind!r}")


def _s3(record: dict) -> list[IamRequest]:
    query = urllib.parse.parse_qs(record.get("query") or "", keep_blank_values=True)
    bucket, _, key = record["path"].lstrip("/").partition("/")
    level = "object" if key else "bucket"
    rule = next(
        (
            r
            for r in S3_RULES
            if r.method == record["method"]
            and r.level == level
            and all(q in query for q in r.query)
            and not any(q in query for q in r.without)
            and (r.only is None or set(query) - {"x-id"} <= set(r.only) | set(r.query))
        ),
        None,
    )
    if rule is None:
        raise UnmappedRequest(f"S3 {record['method']} {record['path']}?{record.get('query')}: no rule")
    if level == "bucket" and rule.action == "s3:DeleteObject":
        keys = [e.text for e in ET.fromstring(record["body"]).iter() if e.tag.rsplit("}", 1)[-1] == "Key"]
        return [IamRequest("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{k}") for k in keys]
    if level == "bucket":
        context = {S3_CONDITION_PARAMS[p]: v[0] for p, v in query.items() if p in S3_CONDITION_PARAMS}
        if rule.action != "s3:ListBucket":
            context = {}
        found = [IamRequest(rule.action, f"arn:aws:s3:::{bucket}", context)]
    else:
        found = [IamRequest(rule.action, f"arn:aws:s3:::{bucket}/{key}")]
    if record.get("copy_source"):  # CopyObject / UploadPartCopy: the source is read (s3:GetObject)
        source = urllib.parse.unquote(record["copy_source"]).lstrip("/").split("?", 1)[0]
        found.append(IamRequest("s3:GetObject", f"arn:aws:s3:::{source}"))
    if level == "object" and record["method"] in ("GET", "HEAD") and record.get("status") == 404:
        found.append(IamRequest("s3:ListBucket", f"arn:aws:s3:::{bucket}"))
    return found


def iam_requests(record: dict, account: str, region: str) -> list[IamRequest]:
    """The IAM requests one recorded request makes (several when it names several resources)."""
    if record.get("service") == "s3" and not record.get("target"):
        return _s3(record)
    rule = JSON_RULES.get(record.get("target") or "")
    if rule is None:
        raise UnmappedRequest(
            f"{record.get('service')} {record['method']} {record['path']} target {record.get('target')}: no rule"
        )
    body = json.loads(record.get("body") or "{}")

    def arn(service: str, resource: str) -> str:
        return f"arn:aws:{service}:{region}:{account}:{resource}"

    return [IamRequest(rule.action, resource) for resource in _resources(rule.resources, body, arn)]


# Parts of a key that change from run to run (uuids, part numbers, dates, times): one placeholder each, so the
# recording holds one line per distinct kind of request.
_VOLATILE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}[:-]?\d{2}[:-]?\d{2}(\.\d+)?Z?)?"), "<date>"),
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{8,}(?![0-9A-Za-z])"), "<hex>"),
    (re.compile(r"\d+"), "<n>"),
]


def _key(key: str, lake_prefix: str) -> str:
    if key == lake_prefix or key.startswith(lake_prefix + "/"):
        head, key = "{lake}", key[len(lake_prefix) :]
    else:
        head = ""
    for pattern, placeholder in _VOLATILE:
        key = pattern.sub(placeholder, key)
    return head + key


def normalize(
    request: IamRequest, bucket: str, lake_prefix: str, account: str, region: str, aliases: dict[str, str] | None = None
) -> IamRequest:
    """A recorded request with the test's bucket, lake prefix, account and region as {bucket}, {lake},
    {account}, {region}, the run-specific parts of keys as placeholders, and each of `aliases` (a test's own
    name of a resource: its placeholder, e.g. {"stream/lake-orders-test": "stream/{kinesis:orders}"}) replaced."""
    resource = request.resource
    for actual, placeholder in (aliases or {}).items():
        resource = resource.replace(actual, placeholder)
    if resource.startswith("arn:aws:s3:::"):
        name, slash, key = resource[len("arn:aws:s3:::") :].partition("/")
        name = "{bucket}" if name == bucket else name
        resource = f"arn:aws:s3:::{name}{slash}{_key(key, lake_prefix) if slash else ''}"
    else:
        resource = resource.replace(f":{region}:{account}:", ":{region}:{account}:")
    context = {k: _key(v, lake_prefix) if k == "s3:prefix" else v for k, v in request.context.items()}
    return IamRequest(request.action, resource, context)


def concrete(value: str, names: dict[str, str]) -> str:
    """A normalized value with its {placeholders} filled in (and key placeholders left as they are: an IAM
    wildcard matches them as it matches the run's own uuids and dates)."""
    for name, actual in names.items():
        value = value.replace("{" + name + "}", actual)
    return value
