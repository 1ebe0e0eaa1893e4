"""Settings flow one way: conf/base.yaml with conf/<env>.yaml over it, then environment variables, then flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from lakekit.core.names import Names

DEFAULT_ENV = "local"
BASE = "base"  # conf/base.yaml: what every environment shares; conf/<env>.yaml holds only what differs


class ConfigError(ValueError):
    """A setting is missing or wrong; the message says which and how to set it."""


def conf_dir() -> Path:
    """The conf/ folder: $LAKE_CONF_DIR, else the one the package carries (the checkout's conf/, as lakekit.conf)."""
    explicit = os.environ.get("LAKE_CONF_DIR")
    if explicit:
        return Path(explicit)
    return Path(str(resources.files("lakekit.conf")))


# ---------------------------------------------------------------------------------------------- the schema


class _Section(BaseModel):
    # An unknown key is refused: a misspelt setting must not be silently ignored.
    model_config = ConfigDict(extra="forbid")


class SparkSection(_Section):
    master: str | None = None
    driver_memory: str | None = None
    java_options: str | None = None
    conf: dict[str, Any] | None = None  # Spark's own keys, set as text


class DeltaSection(_Section):
    package: str | None = None


class JobSection(_Section):
    timeout_minutes: float | None = Field(None, gt=0)


class KinesisSection(_Section):
    attempts: int | None = Field(None, ge=1)
    backoff_seconds: float | None = Field(None, ge=0)


class ServeSection(_Section):
    host: str | None = None
    port: int | None = Field(None, ge=0, le=65535)
    sink: Literal["file", "kinesis"] | None = None
    roll_bytes: int | None = Field(None, ge=1)
    roll_seconds: float | None = Field(None, gt=0)
    max_inflight: int | None = Field(None, ge=1)
    min_free_bytes: int | None = Field(None, ge=0)
    api_keys: list[str] | None = None
    kinesis: KinesisSection | None = None


class ConfFile(_Section):
    """One conf file, base or overlay: every key optional here (an overlay sets only what differs); what must be
    set in the end (the lake root) is load_settings' to say. `names:` is checked by lakekit.core.names, `deploy:`
    by deploy/, and each `sources.<pipeline>` by the settings model its pipeline declares (resolve_settings)."""

    env: str | None = None
    lake_root: str | None = None
    metastore: Literal["derby", "glue"] | None = None
    names: dict[str, Any] | None = None
    deploy: dict[str, Any] | None = None
    spark: SparkSection | None = None
    delta: DeltaSection | None = None
    jobs: dict[str, JobSection | None] | None = None
    sources: dict[str, dict[str, Any] | None] | None = None
    serve: ServeSection | None = None


def schema_error(error: ValidationError, where: str, prefix: tuple[str, ...] = ()) -> ConfigError:
    """One line naming the file and the dotted key: `conf/aws.yaml: sources.users.results: Input should be ...`."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in (*prefix, *first["loc"]))
    message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    return ConfigError(f"{where}: {key}: {message}")


# ---------------------------------------------------------------------------------------------- base + overlay


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """`overlay` laid over `base`: mappings are merged key by key; anything else the overlay sets (a list, a
    value, null) replaces the base's whole."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class ConfLayers:
    """The conf of one environment: each file read (base first) with its label, and their merge."""

    env: str
    files: tuple[tuple[str, Mapping[str, Any]], ...]  # (label, as read), base first

    @property
    def merged(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for _, raw in self.files:
            merged = deep_merge(merged, raw)
        return merged

    def where(self, *path: str) -> str:
        """The label of the last file that sets this dotted key (the one whose value won), else the overlay's."""
        for label, raw in reversed(self.files):
            node: Any = raw
            for key in path:
                node = node.get(key) if isinstance(node, Mapping) else None
            if node is not None:
                return label
        return self.files[-1][0] if self.files else f"conf/{self.env}.yaml"


def _read_file(path: Path) -> tuple[str, dict[str, Any]]:
    from lakekit.core.names import check_retired_keys

    label = f"conf/{path.name}"
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{label}: not YAML: {' '.join(str(error).split())}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{label}: must be a mapping of settings, got {type(raw).__name__}")
    check_retired_keys(raw, label)  # before the schema: an old key gets the message naming its replacement
    try:
        ConfFile.model_validate(raw)
    except ValidationError as error:
        raise schema_error(error, label) from None
    return label, raw


def read_conf(env: str | None = None, directory: Path | None = None) -> ConfLayers:
    """conf/base.yaml (if there is one) and conf/<env>.yaml of `directory` (default: conf_dir()), each checked
    against the schema; env: the argument, else $LAKE_ENV, else local."""
    env = env or os.environ.get("LAKE_ENV") or DEFAULT_ENV
    directory = directory or conf_dir()
    path = directory / f"{env}.yaml"
    if not path.exists():
        if env == DEFAULT_ENV:
            return ConfLayers(env, (("embedded default", {"env": env, "lake_root": "./lake", "metastore": "derby"}),))
        raise ConfigError(f"no settings for environment {env!r}: {path} does not exist")
    base = directory / f"{BASE}.yaml"
    files = ([_read_file(base)] if base.exists() and env != BASE else []) + [_read_file(path)]
    return ConfLayers(env, tuple(files))


# ---------------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    env: str
    lake_root: str
    metastore: str
    spark: dict[str, Any] = field(default_factory=dict)
    delta: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)  # settings of each pipeline's source, by pipeline
    serve: dict[str, Any] = field(default_factory=dict)  # the event ingest service (`lake serve`)
    jobs: dict[str, Any] = field(default_factory=dict)  # settings of each job by name; `default` for all
    # Physical names (lakekit/core/names.py): Glue databases, DynamoDB tables, Kinesis streams, workgroup.
    names: Names = field(default_factory=lambda: _default_names())
    conf: ConfLayers | None = None  # the files these came from: an error in a setting names its file

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


def _names(conf: ConfLayers, raw: dict[str, Any], names: str | None) -> Names:
    from lakekit.core.names import Names

    return Names.from_conf(
        raw.get("names"),
        environment=os.environ.get("LAKE_ENVIRONMENT"),
        given=names if names is not None else os.environ.get("LAKE_NAMES"),
        where=conf.where("names"),
    )


def load_names(env: str | None = None, names: str | None = None) -> Names:
    """The physical names of `env` (see load_settings), for a command that needs no lake root."""
    conf = read_conf(env)
    return _names(conf, conf.merged, names)


def load_settings(env: str | None = None, lake_root: str | None = None, names: str | None = None) -> Settings:
    """Settings for `env` (flag, else $LAKE_ENV, else local) with the lake root from flag, $LAKE_ROOT or conf.

    conf/base.yaml with conf/<env>.yaml deep-merged over it (read_conf). Physical names: conf's `names:` with
    the environment from $LAKE_ENVIRONMENT (else names.environment) and the explicit names of `names` (a job's
    --names JSON, else $LAKE_NAMES) over names.fixed.
    """
    conf = read_conf(env)
    env, raw = conf.env, conf.merged
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
        names=_names(conf, raw, names),
        conf=conf,
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


# ---------------------------------------------------------------------------------------------- one resolver


class PipelineSettings(BaseModel):
    """A pipeline's settings, declared next to the pipeline as a subclass: each field a key of conf's
    `sources.<section>` with its default. resolve_settings gives each key its value."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    section: ClassVar[str]  # the key under conf's sources: (the pipeline's name)


P = TypeVar("P", bound=PipelineSettings)


def resolve_settings(model: type[P], settings: Settings, args: Mapping[str, Any]) -> P:
    """Each key of `model`: the job argument, else conf's sources.<section>.<key>, else the model's default.

    A wrong conf value is a ConfigError naming its file and dotted key; a wrong argument names the argument.
    """
    section = model.section
    conf = (settings.sources or {}).get(section) or {}
    try:
        model.model_validate(conf)
    except ValidationError as error:
        first = str(error.errors()[0]["loc"][0]) if error.errors()[0]["loc"] else ""
        where = settings.conf.where("sources", section, first) if settings.conf else f"conf/{settings.env}.yaml"
        raise schema_error(error, where, ("sources", section)) from None
    given = {key: value for key, value in args.items() if key in model.model_fields and value is not None}
    try:
        return model.model_validate({**conf, **given})
    except ValidationError as error:
        first = error.errors()[0]
        raise ConfigError(f"--{first['loc'][0]}: {first['msg']}, got {first['input']!r}") from None
