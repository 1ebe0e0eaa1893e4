"""The boto3 floor in setup.py admits no botocore that refuses the S3 lock's conditional writes.

A Glue image (or any environment) may bring an older botocore than the one we test with; pip keeps it when
it satisfies the wheel's floor. botocore validates every call's parameters against its own S3 model before
sending it, so a model without `IfMatch` on PutObject fails the lock with a ParamValidationError. Here the
lock's real calls are recorded against moto's S3 (the first take, an expired lock's takeover, the release),
then validated, offline, against the S3 model of the oldest botocore the floor admits and of the release
just before it, each installed into a cache directory outside the repository and loaded alone.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from lakekit.core.storage import S3Storage, lock_owner

REPO = Path(__file__).resolve().parents[2]
CACHE = Path.home() / ".cache" / "lakekit"
# The release before the floor: its S3 model has PutObject IfNoneMatch and DeleteObject IfMatch, not
# PutObject IfMatch (checked in the released wheels; see setup.py).
BELOW_FLOOR = "1.35.68"

VALIDATE = r"""
import json, sys
import botocore
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.validate import ParamValidator

model = ServiceModel(Loader().load_service_model("s3", "service-2"), "s3")
report = {"version": botocore.__version__, "errors": {}}
for operation, params in json.load(sys.stdin):
    shape = model.operation_model(operation).input_shape
    found = ParamValidator().validate(params, shape)
    if found.has_errors():
        report["errors"].setdefault(operation, []).append(found.generate_report())
print(json.dumps(report))
"""


def _floor() -> str:
    found = re.search(r'"boto3>=([0-9.]+)"', (REPO / "setup.py").read_text())
    assert found, "setup.py has no boto3 floor"
    return found.group(1)


def _botocore(version: str) -> Path:
    """botocore `version` with its dependencies, alone in a cache directory (pip's cache makes reruns fast)."""
    target = CACHE / f"botocore-{version}"
    if not (target / "botocore" / "__init__.py").exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), f"botocore=={version}"],
            check=True,
            timeout=300,
        )
    return target


def _validate(version: str, calls: list) -> dict:
    target = _botocore(version)
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {str(target)!r})\n{VALIDATE}"],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def lock_calls() -> list:
    """(operation, parameters) of every S3 call the lock makes: a first take and release, then a takeover."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = boto3.client(
            "s3",
            endpoint_url=f"http://{host}:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        client.create_bucket(Bucket="lake")
        calls: list = []

        def record(params, model, **_):
            calls.append((model.name, {k: v.decode() if isinstance(v, bytes) else v for k, v in params.items()}))

        client.meta.events.register("provide-client-params.s3.*", record)
        storage, path = S3Storage(client), "s3://lake/_state/locks/job.lock"
        with storage.lock(path, lock_owner("job")):
            pass
        stale = storage.lock(path, lock_owner("job", timeout_minutes=-1))
        stale.__enter__()
        with storage.lock(path, lock_owner("job")):  # takes the expired lock over: PutObject If-Match
            pass
        return calls
    finally:
        server.stop()


def test_the_lock_makes_the_three_conditional_calls(lock_calls):
    conditions = {(op, key) for op, params in lock_calls for key in params if key.startswith("If")}
    assert conditions == {("PutObject", "IfNoneMatch"), ("PutObject", "IfMatch"), ("DeleteObject", "IfMatch")}


def test_the_oldest_botocore_the_wheel_admits_accepts_every_lock_call(lock_calls):
    report = _validate(_floor(), lock_calls)
    assert report == {"version": _floor(), "errors": {}}


def test_the_release_below_the_floor_refuses_the_takeover(lock_calls):
    """The floor is the lowest that works: one release earlier, the expired lock's takeover cannot be sent."""
    report = _validate(BELOW_FLOOR, lock_calls)
    assert report["version"] == BELOW_FLOOR
    assert list(report["errors"]) == ["PutObject"]
    assert all('Unknown parameter in input: "IfMatch"' in error for error in report["errors"]["PutObject"])
