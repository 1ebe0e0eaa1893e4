"""`make demo`'s complaints part: the pipeline offline on samples/cfpb, loading a moto_server it starts and stops.

Run: python -m scripts.demo_complaints LAKE_ROOT
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3

from scripts.samples.complaints import CFPB_DEMO_ARGS

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TABLE = "consumer_complaints"
QUERY = (
    "SELECT complaint_id, date_received, company, state, tags, timely, consumer_disputed, company_response "
    "FROM curated.complaints WHERE date_received BETWEEN DATE '2024-05-01' AND DATE '2024-05-06' ORDER BY complaint_id"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit(f"moto_server did not start on port {port}") from None
            time.sleep(0.2)


def moto_env(port: int) -> dict[str, str]:
    """This process's environment with boto3 pointed at the moto_server on `port` (standard variables only)."""
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("AWS_PROFILE", None)
    return env


def main(lake_root: str) -> None:
    port = free_port()
    moto = start_moto(port)
    env = moto_env(port)
    try:
        argv = [str(BIN / "lake"), "workflow", "run", "complaints", "--lake-root", lake_root]
        argv += ["--arg", f"url={(REPO / 'samples' / 'cfpb').as_uri()}"]
        for key, value in CFPB_DEMO_ARGS.items():
            argv += ["--arg", f"{key}={value}"]
        subprocess.run(argv, env=env, check=True)
        subprocess.run([str(BIN / "lake"), "query", "--lake-root", lake_root, "-e", QUERY], env=env, check=True)
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"],
            region_name="us-east-1",
            aws_access_key_id="demo",
            aws_secret_access_key="demo",
        )
        items = dynamodb.scan(TableName=TABLE)["Items"]
        print(f"DynamoDB table {TABLE} (moto_server on port {port}): {len(items)} item(s); the first three:")
        for item in sorted(items, key=lambda i: int(i["complaint_id"]["N"]))[:3]:
            print({k: item[k] for k in sorted(item) if k != "complaint_what_happened"})
    finally:
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "lake")
