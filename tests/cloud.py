"""What the slow cloud tests share: a local AWS (moto in server mode on a free port, counting the S3 requests it
answers), the standard AWS variables pointing at it, and copies of lake trees to and from S3."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]


class CountingMoto:
    """moto's server app behind a WSGI layer that counts S3 requests by kind (list, get, head, write)."""

    def __init__(self):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        self.counts: Counter[str] = Counter()
        app = DomainDispatcherApplication(create_backend_app)
        self.server = make_server("127.0.0.1", 0, self._counting(app), True, request_handler=MotoRequestHandler)
        host, port = self.server.server_address[:2]
        self.endpoint = f"http://{host}:{port}"

    def _counting(self, app):
        def counted(environ, start_response):
            if "HTTP_X_AMZ_TARGET" not in environ:  # S3 (the JSON APIs, Glue among them, name a target)
                method = environ["REQUEST_METHOD"]
                path = environ.get("PATH_INFO", "/").strip("/")
                if method == "HEAD":
                    kind = "head"
                elif method == "GET":
                    kind = "get" if "/" in path else "list"
                else:
                    kind = "write"
                self.counts[kind] += 1
            return app(environ, start_response)

        return counted

    def start(self) -> None:
        import threading

        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()

    def reads(self) -> dict[str, int]:
        return {k: self.counts[k] for k in ("list", "get", "head")}


def moto_server():
    server = CountingMoto()
    server.start()
    yield server
    server.stop()


def aws_env(endpoint: str) -> dict[str, str]:
    """The standard AWS variables pointing boto3 and S3A at the local API; nothing project-specific."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def client(endpoint: str, service: str):
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


def upload_tree(s3, local: Path, bucket: str, prefix: str) -> None:
    for path in sorted(local.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(local)}")


def download_tree(s3, bucket: str, prefix: str, local: Path) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for obj in page.get("Contents", []):
            keys.append(obj["Key"][len(prefix) + 1 :])
            if keys[-1].endswith("/"):  # a folder marker (Hadoop's mkdirs)
                continue
            target = local / keys[-1]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(target))
    return sorted(keys)


def run(argv: list[str], env: dict[str, str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{argv}\n{result.stdout}\n{result.stderr[-4000:]}"
    return result


def base_env(home: Path) -> dict[str, str]:
    """A clean environment: PATH for java, an empty HOME, the jar cache of this machine, UTC."""
    from lakekit.core.session import ivy_dir

    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LAKE_IVY_DIR": str(ivy_dir()),
        "TZ": "UTC",
        "LAKE_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1",
        **({"JAVA_HOME": os.environ["JAVA_HOME"]} if "JAVA_HOME" in os.environ else {}),
    }


PYTHON = sys.executable
