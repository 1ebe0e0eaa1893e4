"""The recorded requests of a test run against the committed recording deploy/iam/calls.jsonl.

Every request signed by a caller's key (tests.cloud.job_key, `lambda.ingest`) becomes IAM requests
(deploy.iam.actions); each must be in the recording, which `make deploy-check` evaluates against the synthesized
roles. A request the mapping does not know fails here. LAKE_IAM_RECORD=1 writes the new lines into the recording.
"""

from __future__ import annotations

import json
import os

from deploy.iam.actions import iam_requests, normalize
from deploy.iam.evaluate import CALLS, read_calls, sorted_calls, write_calls
from tests.cloud import HARNESS_KEY

MOTO_ACCOUNT, MOTO_REGION = "123456789012", "us-east-1"  # moto's default account; aws_env's region
CALLERS = ("job.", "lambda.")


def calls_from_records(
    records: list[dict], bucket: str, lake_prefix: str, aliases: dict[str, str] | None = None
) -> list[dict]:
    """One normalized line per distinct (caller, action, resource, context) the callers' requests asked IAM."""
    lines = []
    for record in records:
        if record["key"] == HARNESS_KEY:
            continue
        if not (record["key"] or "").startswith(CALLERS):
            raise AssertionError(f"a request signed by {record['key']!r}, no caller's key: {record}")
        for request in iam_requests(record, MOTO_ACCOUNT, MOTO_REGION):
            normal = normalize(request, bucket, lake_prefix, MOTO_ACCOUNT, MOTO_REGION, aliases)
            line = normal.line(record["key"])
            lines.append(line)
    return sorted_calls(lines)


def check_recording(
    records: list[dict], bucket: str = "", lake_prefix: str = "", aliases: dict[str, str] | None = None
) -> None:
    """Every caller's request of `records` is in deploy/iam/calls.jsonl (LAKE_IAM_RECORD=1: added to it).
    LAKE_IAM_RAW=<file> appends the raw records there too (to study a mapping without running the jobs again)."""
    if os.environ.get("LAKE_IAM_RAW"):
        with open(os.environ["LAKE_IAM_RAW"], "a") as raw:
            raw.writelines(json.dumps(r, sort_keys=True) + "\n" for r in records)
    seen = calls_from_records(records, bucket, lake_prefix, aliases)
    assert seen, "no request of any caller was recorded"
    committed = read_calls() if CALLS.exists() else []
    missing = [line for line in seen if line not in committed]
    if missing and os.environ.get("LAKE_IAM_RECORD") == "1":
        write_calls(committed + missing)
        return
    shown = "\n".join(f"  {line}" for line in missing[:40])
    assert not missing, (
        f"{len(missing)} request(s) not in {CALLS.name} (deploy-check has not evaluated them):\n{shown}\n"
        "refresh: LAKE_IAM_RECORD=1 make test-aws, then make deploy-check"
    )
