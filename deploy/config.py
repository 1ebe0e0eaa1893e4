"""What the stacks are made of: conf/aws.yaml's `deploy:` section, the job registry, catalog/ and jobs/."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from lakekit.catalog.model import TableDef, all_tables
from lakekit.catalog.serving import serving_tables
from lakekit.core import registry
from lakekit.core.names import Names, check_retired_keys
from lakekit.core.settings import ConfigError, deep_merge, read_conf

REPO = Path(__file__).resolve().parent.parent
JOBS_DIR = REPO / "jobs"
QUERIES_DIR = REPO / "queries"
DIST_DIR = REPO / "dist"
LAMBDA_BUNDLE = DIST_DIR / "ingest-lambda"


class DeployConfigError(ConfigError):
    """conf/aws.yaml's deploy section, jobs/ or dist/ does not hold what the app needs; the message says what."""


def aws_conf() -> dict[str, Any]:
    """conf/base.yaml with conf/aws.yaml over it as the wheel ships them (lakekit.conf): what the jobs read with
    --env aws."""
    return read_conf("aws", Path(str(resources.files("lakekit.conf")))).merged


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    # A copy: each environment's settings are its own, whatever a stack does with them.
    return copy.deepcopy(deep_merge(base, override or {}))


@dataclass(frozen=True)
class Environment:
    """One environment's settings: the `deploy:` keys with `deploy.environments.<name>` laid over them."""

    name: str
    deploy: dict[str, Any]
    jobs_conf: dict[str, Any]  # conf's top-level `jobs:` (per-job lock timeouts)
    serve_conf: dict[str, Any]
    names: Names  # conf's `names:` (with deploy.environments.<name>.names over it) for this environment

    @property
    def stack_name(self) -> str:
        return f"{self.deploy['stack_name']}-{self.name}"

    @property
    def lake_prefix(self) -> str:
        return self.deploy["lake_prefix"].strip("/")

    def timeout_minutes(self, job: str) -> int:
        """The job's Glue timeout: the lock expiry conf gives it (jobs.<job>, then jobs.default), so a run Glue
        stops has a lock that has expired by then too."""
        for scope in (job, "default"):
            value = (self.jobs_conf.get(scope) or {}).get("timeout_minutes")
            if value is not None:
                return int(value)
        return int(self.deploy["glue"]["default_timeout_minutes"])

    def job_setting(self, job: str, key: str) -> Any:
        own = (self.deploy.get("jobs") or {}).get(job) or {}
        return own.get(key, self.deploy["glue"].get(key))

    def kinesis_name(self, stream: str) -> str:
        """The Kinesis stream (and Firehose delivery stream) of an event stream: what `lake serve` puts to."""
        return self.names.stream(stream)

    def runtime_names(self) -> dict[str, dict[str, str]]:
        """The names a job or the Lambda uses, resolved (their --names / LAKE_NAMES): every layer's database,
        every serving table, every event stream."""
        return self.names.resolved(
            {
                "database": {t.layer for t in all_tables()},
                "serving_table": {t.name for t in serving_tables()},
                "stream": stream_names(self),
            }
        )


def environments(conf: dict[str, Any] | None = None) -> list[Environment]:
    conf = aws_conf() if conf is None else conf
    deploy = conf.get("deploy")
    if not deploy or not deploy.get("environments"):
        raise DeployConfigError("conf/aws.yaml has no deploy.environments: nothing to deploy")
    check_retired_keys(conf, "conf/aws.yaml")
    base = {k: v for k, v in deploy.items() if k != "environments"}
    found = []
    for name, override in deploy["environments"].items():
        override = dict(override or {})
        names_conf = _merged(conf.get("names") or {}, override.pop("names", None) or {})
        names = Names.from_conf(names_conf, environment=name, where=f"conf/aws.yaml deploy.environments.{name}")
        found.append(Environment(name, _merged(base, override), conf.get("jobs") or {}, conf.get("serve") or {}, names))
    return found


def job_scripts() -> dict[str, Path]:
    """{job name: its script}: every jobs/<name>.py."""
    return {p.stem: p for p in sorted(JOBS_DIR.glob("*.py")) if not p.name.startswith("_")}


def deployed_jobs() -> dict[str, Path]:
    """Every job script, each of a job the registry declares (a script without one is an error, not skipped)."""
    scripts = job_scripts()
    unknown = sorted(set(scripts) - set(registry.jobs()))
    if unknown:
        raise DeployConfigError(f"jobs/{unknown[0]}.py runs no job the registry declares")
    missing = sorted(set(registry.jobs()) - set(scripts))
    if missing:
        raise DeployConfigError(f"job {missing[0]} has no script jobs/{missing[0]}.py")
    return scripts


def catalog_tables() -> list[TableDef]:
    return all_tables()


def stream_names(env: Environment) -> list[str]:
    """Event streams: catalog/streams/*.yaml when the catalog declares them, with deploy.streams.names."""
    declared: list[str] = []
    try:
        from lakekit.catalog.streams import stream_names as catalog_stream_names
    except ImportError:  # catalog/streams/ not in this tree yet: conf's list alone
        pass
    else:
        declared = catalog_stream_names()
    return sorted(set(declared) | set(env.deploy["streams"].get("names") or []))


def dynamodb_export_sources() -> set[str]:
    """DynamoDB tables the catalog's raw tables are exports of."""
    return {t.source["table"] for t in all_tables() if t.source.get("kind") == "dynamodb_export"}


def named_queries() -> dict[str, str]:
    """{name: SQL} of every queries/**/*.sql, by its path without .sql (`orders/average_order_value`)."""
    return {
        path.relative_to(QUERIES_DIR).with_suffix("").as_posix(): path.read_text()
        for path in sorted(QUERIES_DIR.rglob("*.sql"))
    }


def wheel_path() -> Path:
    """The wheel `make wheel` built for this version of setup.py (the app never builds it: synthesis stays offline)."""
    version = re.search(r'version="([^"]+)"', (REPO / "setup.py").read_text()).group(1)
    wheel = DIST_DIR / f"lakekit-{version}-py3-none-any.whl"
    if not wheel.is_file():
        raise DeployConfigError(f"no {wheel.relative_to(REPO)}: run `make wheel` (make deploy-check does) first")
    return wheel


def lambda_bundle() -> Path:
    if not (LAMBDA_BUNDLE / "ingest_handler.py").is_file():
        raise DeployConfigError(
            f"no {LAMBDA_BUNDLE.relative_to(REPO)}: run `make ingest-bundle` (make deploy-check does) first"
        )
    return LAMBDA_BUNDLE
