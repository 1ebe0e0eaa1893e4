"""The users, complaints, orders and retail pipelines from the wheel with --env aws on a local S3, Glue and DynamoDB
API, offline: the recorded API responses of samples/randomuser and samples/cfpb (file:// URLs), stream files
landed as the ingest service lands them, the serving tables made as the stack makes them. Each job runs in its
own process with its own key: every request it makes must be in deploy/iam/calls.jsonl (tests/iam_recording.py).

Slow (a JVM a job): `make test-aws`.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from lakekit.core import registry
from lakekit.serve.app import envelope
from lakekit.sources.streams.landing import StreamLanding
from scripts.samples.complaints import CFPB_DEMO_ARGS
from tests.cloud import (
    ENVIRONMENT,
    REPO,
    aws_env,
    base_env,
    client,
    download_tree,
    environment_aliases,
    environment_names,
    make_stack_resources,
    run_workflow,
    upload_tree,
)
from tests.helpers import read_table
from tests.iam_recording import check_recording

pytestmark = pytest.mark.aws

ROOT = "s3a://lake/p"
ORDERS = 40
NAMES = environment_names()


def land_stream(lake_root: str, stream: str, events: list) -> None:
    """The events as the ingest service stores them (its envelope, its landing writer), published at close."""
    writer = StreamLanding(lake_root, stream, roll_bytes=1 << 30, roll_seconds=3600)
    received = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    writer.append([envelope(e, {}, f"{n:032x}", received, stream) for n, e in enumerate(events)])
    writer.close()


@pytest.fixture(scope="module")
def lake(moto, venv, tmp_path_factory):
    s3 = client(moto.endpoint, "s3")
    s3.create_bucket(Bucket="lake")
    make_stack_resources(moto.endpoint)
    dynamodb = client(moto.endpoint, "dynamodb")
    local = tmp_path_factory.mktemp("landed")
    rng = random.Random(7)
    land_stream(str(local), "orders", [registry.producer("orders")(rng, n) for n in range(ORDERS)])
    read = registry.file_producer("retail")(str(REPO / "samples" / "retail" / "online_retail.csv"), {})
    land_stream(str(local), "retail", [event for _, event in read.events])
    upload_tree(s3, local / "landing", "lake", "p/landing")
    home, cwd = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("cwd")
    env = {**base_env(home), **aws_env(moto.endpoint), "PATH": f"{venv / 'bin'}:{base_env(home)['PATH']}"}
    env["LAKE_ENVIRONMENT"] = ENVIRONMENT  # the environment's Glue databases and serving tables (conf names:)
    users = {"url": (REPO / "samples" / "randomuser").as_uri(), "requests": "2"}
    complaints = {"url": (REPO / "samples" / "cfpb").as_uri(), **CFPB_DEMO_ARGS}
    for workflow, args in (("users", users), ("complaints", complaints), ("orders", {}), ("retail", {})):
        run_workflow(venv, env, cwd, workflow, ROOT, args)
    copy = tmp_path_factory.mktemp("copy")
    download_tree(s3, "lake", "p", copy)
    return {"dynamodb": dynamodb, "copy": str(copy)}


def _items(dynamodb, table: str, attribute: str) -> set[str]:
    pages = dynamodb.get_paginator("scan").paginate(TableName=table)
    return {next(iter(item[attribute].values())) for page in pages for item in page["Items"]}


def test_the_serving_tables_hold_what_the_curated_tables_hold(lake, spark):
    complaints = read_table(spark, lake["copy"], "curated.complaints").select("complaint_id").collect()
    served = _items(lake["dynamodb"], NAMES.serving_table("consumer_complaints"), "complaint_id")
    assert served == {str(r[0]) for r in complaints}
    customers = read_table(spark, lake["copy"], "curated.retail_customers").select("customer_id").collect()
    assert _items(lake["dynamodb"], NAMES.serving_table("Customers"), "customer_id") == {r[0] for r in customers}
    assert len(customers) > 0 and len(complaints) > 0


def test_the_users_and_orders_pipelines_filled_their_curated_tables(lake, spark):
    users = read_table(spark, lake["copy"], "curated.users").select("user_uuid").collect()
    locations = read_table(spark, lake["copy"], "curated.user_locations").select("user_uuid").collect()
    assert {r[0] for r in users} == {r[0] for r in locations} != set()
    orders = read_table(spark, lake["copy"], "curated.orders").select("order_id").collect()
    raw = read_table(spark, lake["copy"], "raw.orders_events").select("order_id").collect()
    assert {r[0] for r in orders} == {r[0] for r in raw if r[0] is not None} != set()


def test_every_request_a_job_made_is_in_the_recording_deploy_check_evaluates(lake, moto):
    """Last in this file: every request of the jobs above is a known IAM request in deploy/iam/calls.jsonl."""
    check_recording(moto.requests, bucket="lake", lake_prefix="p", aliases=environment_aliases())
