"""`make demo`'s retail part, offline: samples/retail/online_retail.csv posted to `lake serve` by `lake stream produce
retail`, the retail workflow into the curated tables and a moto_server's DynamoDB (started and stopped here), then
one customer looked up through the service's GET /v1/customers/{id}.

Run: python -m scripts.demo_retail LAKE_ROOT
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from scripts.demo_complaints import free_port, moto_env, start_moto

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSV = REPO / "samples" / "retail" / "online_retail.csv"
API_KEY = "demo-key"
QUERY = (
    "SELECT customer_id, country, invoices, cancellations, net_spent, first_invoice_at, last_invoice_at "
    "FROM curated.retail_customers ORDER BY net_spent DESC LIMIT 5"
)


def start_service(lake_root: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "lake"), "serve", "--lake-root", lake_root, "--port", str(port)],
        env={**env, "LAKE_API_KEYS": API_KEY},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"lake serve did not start on port {port}")
        time.sleep(0.2)


def stop_service(process: subprocess.Popen) -> None:
    """SIGTERM: the service publishes its open landing files before it exits."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(lake_root: str) -> None:
    port = free_port()
    moto = start_moto(port)
    env = moto_env(port)
    lake = str(BIN / "lake")
    try:
        service, url = start_service(lake_root, env)
        try:
            subprocess.run(
                [lake, "stream", "produce", "retail", "--csv", str(CSV), "--url", url, "--api-key", API_KEY],
                env=env,
                check=True,
            )
        finally:
            stop_service(service)
        subprocess.run([lake, "workflow", "run", "retail", "--lake-root", lake_root], env=env, check=True)
        subprocess.run([lake, "query", "--lake-root", lake_root, "-e", QUERY], env=env, check=True)
        top = subprocess.run(
            [lake, "query", "--lake-root", lake_root, "--format", "json", "-e", QUERY],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        customer = next(json.loads(line) for line in top.stdout.splitlines() if line.startswith("{"))["customer_id"]
        service, url = start_service(lake_root, env)
        try:
            answer = httpx.get(
                f"{url}/v1/customers/{customer}", params={"invoices": 3}, headers={"x-api-key": API_KEY}, timeout=10
            )
            print(f"GET /v1/customers/{customer}?invoices=3 -> {answer.status_code}")
            print(json.dumps(answer.json(), indent=2))
            answer.raise_for_status()
        finally:
            stop_service(service)
    finally:
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "lake")
