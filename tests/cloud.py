"""What the slow cloud tests share: a local AWS (moto in server mode on a free port, counting the S3 requests it
answers and recording every request with the access key that signed it), the standard AWS variables pointing at
it, and copies of lake trees to and from S3."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import boto3

from lakekit.core import registry

REPO = Path(__file__).resolve().parents[1]


# The access key of the test's own calls (buckets made, trees copied): not a deployed role's, never evaluated.
HARNESS_KEY = "test"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/")


def job_key(job: str) -> str:
    """The access key id a job's process signs with, so each recorded request names the job that made it (as
    each Glue job runs under its own role): deploy/iam maps it back to the job's role."""
    return f"job.{job}"


class CountingMoto:
    """moto's server app behind a WSGI layer that counts S3 requests by kind (list, get, head, write) and
    records every request (deploy.iam.requests.Request: signing key, method, path, query, target, body)."""

    def __init__(self):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        self.counts: Counter[str] = Counter()
        self.requests: list[dict] = []
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
            record = self._record(environ)
            if record is None:
                return app(environ, start_response)

            def recorded_start(status, headers, *args):
                record["status"] = int(status.split(" ", 1)[0])
                return start_response(status, headers, *args)

            self.requests.append(record)
            return app(environ, recorded_start)

        return counted

    @staticmethod
    def _record(environ) -> dict | None:
        """The request as IAM will be asked about it; the body only where it names resources (JSON APIs, S3's
        multi-object delete), read and put back for moto."""
        found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if found is None:  # unsigned: moto's own dashboard or a presigned URL (none in these tests)
            return {"key": None, "service": None, "method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"]}
        key, service = found.groups()
        query = environ.get("QUERY_STRING", "")
        target = environ.get("HTTP_X_AMZ_TARGET")
        body = None
        if target or (environ["REQUEST_METHOD"] == "POST" and re.search(r"(^|&)delete(=|&|$)", query)):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(raw)
            body = raw.decode("utf-8", "replace")
        return {
            "key": key,
            "service": service,
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("PATH_INFO", "/"),
            "query": query,
            "target": target,
            "copy_source": environ.get("HTTP_X_AMZ_COPY_SOURCE"),
            "body": body,
        }

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
    """A CountingMoto for one test module, with moto's in-process state emptied first (its backends are global
    to the process: the buckets, databases and tables of an earlier module would still be there)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
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


def run_workflow(
    venv: Path, env: dict[str, str], cwd: Path, name: str, root: str, args: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """A workflow's steps in order, each job in its own process signing with its own key (Glue: its own role);
    `args` go to the steps whose job reads them."""
    out = []
    for step in registry.workflow(name):
        argv = [str(venv / "bin" / "lake"), "job", "run", step.job, "--env", "aws", "--lake-root", root]
        reads = registry.job(step.job).option_specs()
        given = {**step.args, **{k: v for k, v in (args or {}).items() if k in reads}}  # as `lake workflow run`
        argv += [a for k, v in given.items() for a in ("--arg", f"{k}={v}")]
        out.append(run(argv, {**env, "AWS_ACCESS_KEY_ID": job_key(step.job)}, cwd).stdout)
    return subprocess.CompletedProcess([name], 0, "".join(out), "")


# The environment the slow cloud tests run their jobs in (LAKE_ENVIRONMENT): conf/aws.yaml's names: make its Glue
# databases ci_raw, ci_curated and its serving tables ci-<table>, as a deployed stack names its own.
ENVIRONMENT = "ci"


def environment_names():
    """The physical names of ENVIRONMENT, by the one rule the jobs and the stack follow (lakekit.core.names)."""
    import yaml

    from lakekit.core.names import Names

    conf = yaml.safe_load((REPO / "conf" / "aws.yaml").read_text())
    return Names.from_conf(conf.get("names"), environment=ENVIRONMENT)


def make_stack_resources(endpoint: str) -> None:
    """What the deployed stack makes and the jobs only find: the catalog's Glue databases, the serving tables."""
    from lakekit.catalog.model import all_tables
    from lakekit.catalog.serving import serving_tables
    from lakekit.sinks.dynamodb import create_table_request

    names = environment_names()
    glue, dynamodb = client(endpoint, "glue"), client(endpoint, "dynamodb")
    for layer in sorted({t.layer for t in all_tables()}):
        glue.create_database(DatabaseInput={"Name": names.database(layer)})
    for table in serving_tables():
        dynamodb.create_table(**{**create_table_request(table), "TableName": names.serving_table(table.name)})


def environment_aliases() -> dict[str, str]:
    """ENVIRONMENT's physical names in ARNs as the recording's placeholders ({database:raw}, {serving_table:T}),
    which deploy-check fills in with each synthesized stack's own names (its jobs' --names)."""
    from lakekit.catalog.model import all_tables
    from lakekit.catalog.serving import serving_tables

    names = environment_names()
    aliases = {}
    for layer in sorted({t.layer for t in all_tables()}):
        aliases[f"database/{names.database(layer)}"] = f"database/{{database:{layer}}}"
        aliases[f"table/{names.database(layer)}/"] = f"table/{{database:{layer}}}/"
    for table in serving_tables():
        aliases[f":table/{names.serving_table(table.name)}"] = f":table/{{serving_table:{table.name}}}"
    return aliases
