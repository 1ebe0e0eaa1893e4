"""Settings flow one way: conf/<env>.yaml, then environment variables, then flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from lakekit.core.names import Names

DEFAULT_ENV = "local"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message says which and how to set it."""


def conf_dir() -> Path:
    """The conf/ folder: $LAKE_CONF_DIR, else the one the package carries (the checkout's conf/, as lakekit.conf)."""
    explicit = os.environ.get("LAKE_CONF_DIR")
    if explicit:
        return Path(explicit)
    return Path(str(resources.files("lakekit.conf")))


@dataclass(frozen=True)
class Settings:
    env: str
    lake_root: str
    metastore: str
    spark: dict[str, Any] = field(default_factory=dict)
    delta: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)  # settings of each external source, by name
    serve: dict[str, Any] = field(default_factory=dict)  # the event ingest service (`lake serve`)
    jobs: dict[str, Any] = field(default_factory=dict)  # settings of each job by name; `default` for all
    # Physical names (lakekit/core/names.py): Glue databases, DynamoDB tables, Kinesis streams, workgroup.
    names: Names = field(default_factory=lambda: _default_names())

    def job_setting(self, job: str, key: str, default: Any = None) -> Any:
        """jobs.<job>.<key> in conf, else jobs.default.<key>, else `default`."""
        for scope in (job, "default"):
            value = (self.jobs.get(scope) or {}).get(key)
            if value is not None:
                return value
        return default

    @property
    def is_local(self) -> bool:
        return "://" not in self.lake_root or self.lake_root.startswith("file://")

    def path(self, *parts: str) -> str:
        """A location under the lake root; every location in the lake derives from here."""
        return "/".join([self.lake_root.rstrip("/"), *[p.strip("/") for p in parts if p]])


def _default_names() -> Names:
    from lakekit.core.names import Names

    return Names()


def _normalise_root(root: str) -> str:
    if "://" in root:
        return root.rstrip("/")
    return str(Path(root).expanduser().resolve())


def _read_conf(env: str | None) -> tuple[str, dict[str, Any]]:
    env = env or os.environ.get("LAKE_ENV") or DEFAULT_ENV
    path = conf_dir() / f"{env}.yaml"
    if path.exists():
        return env, yaml.safe_load(path.read_text()) or {}
    if env == DEFAULT_ENV:
        return env, {"env": env, "lake_root": "./lake", "metastore": "derby"}
    raise ConfigError(f"no settings for environment {env!r}: {path} does not exist")


def _names(env: str, raw: dict[str, Any], names: str | None) -> Names:
    from lakekit.core.names import Names, check_retired_keys

    check_retired_keys(raw, f"conf/{env}.yaml")
    return Names.from_conf(
        raw.get("names"),
        environment=os.environ.get("LAKE_ENVIRONMENT"),
        given=names if names is not None else os.environ.get("LAKE_NAMES"),
        where=f"conf/{env}.yaml",
    )


def load_names(env: str | None = None, names: str | None = None) -> Names:
    """The physical names of `env` (see load_settings), for a command that needs no lake root."""
    env, raw = _read_conf(env)
    return _names(env, raw, names)


def load_settings(env: str | None = None, lake_root: str | None = None, names: str | None = None) -> Settings:
    """Settings for `env` (flag, else $LAKE_ENV, else local) with the lake root from flag, $LAKE_ROOT or conf.

    Physical names: conf's `names:` with the environment from $LAKE_ENVIRONMENT (else names.environment)
    and the explicit names of `names` (a job's --names JSON, else $LAKE_NAMES) over names.fixed.
    """
    env, raw = _read_conf(env)
    root = lake_root or os.environ.get("LAKE_ROOT") or raw.get("lake_root")
    if not root:
        raise ConfigError(
            f"environment {env!r} has no lake root: pass --lake-root (Glue: --lake_root) or set LAKE_ROOT"
        )
    return Settings(
        env=raw.get("env", env),
        lake_root=_normalise_root(str(root)),
        metastore=raw.get("metastore", "derby"),
        spark=raw.get("spark") or {},
        delta=raw.get("delta") or {},
        sources=raw.get("sources") or {},
        serve=raw.get("serve") or {},
        jobs=raw.get("jobs") or {},
        names=_names(env, raw, names),
    )


def require_lake_root(settings: Settings) -> Settings:
    """The settings, if their local lake root exists: a mistyped root must not silently become an empty lake."""
    if settings.is_local:
        root = Path(settings.lake_root.removeprefix("file://"))
        if not root.is_dir():
            raise ConfigError(
                f"lake root {root} does not exist: make it with `lake init --lake-root {root}`, "
                "or point --lake-root / LAKE_ROOT at an existing lake"
            )
    return settings
