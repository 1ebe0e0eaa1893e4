"""The mapping of recorded requests to IAM (deploy/iam/actions.py) and of template values to policies
(deploy/iam/template.py), on requests written as CountingMoto records them."""

from __future__ import annotations

import json

import pytest

from deploy.iam.actions import IamRequest, UnmappedRequest, iam_requests, normalize
from deploy.iam.template import Resolver

ACCOUNT, REGION = "123456789012", "eu-west-1"


def s3(method: str, path: str, query: str = "", **extra) -> dict:
    return {"service": "s3", "method": method, "path": path, "query": query, "target": None, **extra}


def target(name: str, body: dict, service: str = "glue") -> dict:
    return {"service": service, "method": "POST", "path": "/", "target": name, "body": json.dumps(body)}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (s3("HEAD", "/lake"), [IamRequest("s3:ListBucket", "arn:aws:s3:::lake")]),
        (
            s3("GET", "/lake", "list-type=2&prefix=w%2F_state%2F&delimiter=%2F&max-keys=2"),
            [
                IamRequest(
                    "s3:ListBucket",
                    "arn:aws:s3:::lake",
                    {"s3:prefix": "w/_state/", "s3:delimiter": "/", "s3:max-keys": "2"},
                )
            ],
        ),
        (s3("HEAD", "/lake/w/a.json", status=200), [IamRequest("s3:GetObject", "arn:aws:s3:::lake/w/a.json")]),
        (
            s3("HEAD", "/lake/w/a.json", status=404),
            [
                IamRequest("s3:GetObject", "arn:aws:s3:::lake/w/a.json"),
                IamRequest("s3:ListBucket", "arn:aws:s3:::lake"),
            ],
        ),
        (s3("PUT", "/lake/w/a.json"), [IamRequest("s3:PutObject", "arn:aws:s3:::lake/w/a.json")]),
        (
            s3("PUT", "/lake/w/b", copy_source="/lake/w/a%3D1"),
            [
                IamRequest("s3:PutObject", "arn:aws:s3:::lake/w/b"),
                IamRequest("s3:GetObject", "arn:aws:s3:::lake/w/a=1"),
            ],
        ),
        (s3("POST", "/lake/w/big", "uploads="), [IamRequest("s3:PutObject", "arn:aws:s3:::lake/w/big")]),
        (s3("DELETE", "/lake/w/big", "uploadId=x"), [IamRequest("s3:AbortMultipartUpload", "arn:aws:s3:::lake/w/big")]),
        (s3("DELETE", "/lake/w/a.json"), [IamRequest("s3:DeleteObject", "arn:aws:s3:::lake/w/a.json")]),
        (
            s3(
                "POST",
                "/lake",
                "delete=",
                body='<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>w/x/</Key></Object>'
                "<Object><Key>w/y</Key></Object></Delete>",
            ),
            [
                IamRequest("s3:DeleteObject", "arn:aws:s3:::lake/w/x/"),
                IamRequest("s3:DeleteObject", "arn:aws:s3:::lake/w/y"),
            ],
        ),
        (
            target("AWSGlue.GetTable", {"DatabaseName": "raw", "Name": "users"}),
            [
                IamRequest("glue:GetTable", f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog"),
                IamRequest("glue:GetTable", f"arn:aws:glue:{REGION}:{ACCOUNT}:database/raw"),
                IamRequest("glue:GetTable", f"arn:aws:glue:{REGION}:{ACCOUNT}:table/raw/users"),
            ],
        ),
        (
            target("DynamoDB_20120810.BatchWriteItem", {"RequestItems": {"Invoices": [], "Customers": []}}, "dynamodb"),
            [
                IamRequest("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Customers"),
                IamRequest("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Invoices"),
            ],
        ),
        (
            target("Kinesis_20131202.PutRecords", {"StreamName": "lake-orders", "Records": []}, "kinesis"),
            [IamRequest("kinesis:PutRecords", f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/lake-orders")],
        ),
    ],
    ids=lambda v: v.get("path", "") + v.get("query", "") + (v.get("target") or "") if isinstance(v, dict) else "",
)
def test_each_request_asks_iam_what_aws_documents(record, expected):
    assert iam_requests(record, ACCOUNT, REGION) == expected


@pytest.mark.parametrize(
    "record",
    [s3("GET", "/lake", "acl="), s3("PATCH", "/lake/x"), target("AWSGlue.DeleteDatabase", {"Name": "raw"})],
    ids=["bucket-acl", "patch", "glue-delete-database"],
)
def test_a_request_no_rule_knows_fails_rather_than_being_skipped(record):
    """GET ?acl is a sub-resource with its own action: it must not pass as a listing."""
    with pytest.raises(UnmappedRequest):
        iam_requests(record, ACCOUNT, REGION)


def test_a_recorded_request_is_kept_with_placeholders_for_the_test_run_and_its_volatile_parts():
    request = IamRequest(
        "s3:PutObject",
        "arn:aws:s3:::lake/w/_staging/raw_users/1a2b3c4d-9f8e7d6c/part-00000-0b9e43c1-6e0c-4c5f-9d7e-4a4e0c0d3f2a-c000"
        ".snappy.parquet",
    )
    listing = IamRequest("s3:ListBucket", "arn:aws:s3:::lake", {"s3:prefix": "w/raw/users/p_date=2026-12-07/"})
    glue = IamRequest("glue:GetTable", f"arn:aws:glue:{REGION}:{ACCOUNT}:table/raw/users")
    assert [normalize(r, "lake", "w", ACCOUNT, REGION) for r in (request, listing, glue)] == [
        IamRequest(
            "s3:PutObject",
            "arn:aws:s3:::{bucket}/{lake}/_staging/raw_users/<hex>-<hex>/part-<n>-<uuid>-c<n>.snappy.parquet",
        ),
        IamRequest("s3:ListBucket", "arn:aws:s3:::{bucket}", {"s3:prefix": "{lake}/raw/users/p_date=<date>/"}),
        IamRequest("glue:GetTable", "arn:aws:glue:{region}:{account}:table/raw/users"),
    ]


def test_the_template_values_of_a_policy_resolve_to_concrete_arns():
    template = {
        "Resources": {
            "Lake1": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "Stream1": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "lake-orders"}},
        }
    }
    resolver = Resolver(template, ACCOUNT, REGION, names={"Lake1": "my-lake"})
    assert resolver.resolve(
        [
            {"Fn::Join": ["", [{"Fn::GetAtt": ["Lake1", "Arn"]}, "/lake/raw/*"]]},
            {"Fn::GetAtt": ["Stream1", "Arn"]},
            {"Fn::Sub": ["arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/${Db}/*", {"Db": "raw"}]},
            {"Ref": "Lake1"},
        ]
    ) == [
        "arn:aws:s3:::my-lake/lake/raw/*",
        f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/lake-orders",
        f"arn:aws:glue:{REGION}:{ACCOUNT}:table/raw/*",
        "my-lake",
    ]
