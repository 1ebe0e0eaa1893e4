"""Physical names of an environment's resources: the one rule the runtime and the deployment both follow.

A logical name (a catalog layer, a catalog/serving/ table, an event stream, a job, a workflow) becomes a
physical name (a Glue database, a DynamoDB table, a Kinesis stream and its Firehose delivery stream, a
Glue job, a Glue workflow, the Athena workgroup) by conf's `names:` section: an explicit name in
`names.fixed.<kind>.<logical>` if there is one, else `names.templates.<kind>` with `{environment}` and
the logical name filled in. The embedded default keeps every logical name as it is (local runs: the
databases `raw` and `curated`). A deployed job gets its environment's names as one argument (`--names`,
JSON `{kind: {logical: physical}}`), so it uses exactly the names its stack created.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lakekit.core.settings import ConfigError


@dataclass(frozen=True)
class Kind:
    placeholder: str | None  # the logical name's placeholder in the template; None: one name per environment
    pattern: str
    rule: str  # the service's naming rule, as the error message states it


KINDS: dict[str, Kind] = {
    # Athena reads a Glue database only if its name is lowercase letters, digits and underscores.
    "database": Kind("layer", r"[a-z0-9_]{1,255}", "lowercase letters, digits and _ (Athena's rule), 1 to 255"),
    "serving_table": Kind("table", r"[A-Za-z0-9_.-]{3,255}", "letters, digits, _ . - (DynamoDB's rule), 3 to 255"),
    # The stream's name is also its Firehose delivery stream's, which allows 64 characters (Kinesis 128).
    "stream": Kind("stream", r"[A-Za-z0-9_.-]{1,64}", "letters, digits, _ . - (Firehose's rule), 1 to 64"),
    "job": Kind("job", r"[A-Za-z0-9_.-]{1,255}", "letters, digits, _ . - (a Glue job name), 1 to 255"),
    "workflow": Kind("workflow", r"[A-Za-z0-9_.-]{1,200}", "letters, digits, _ . - (a Glue workflow name), 1 to 200"),
    "workgroup": Kind(None, r"[A-Za-z0-9._-]{1,128}", "letters, digits, . _ - (Athena's rule), 1 to 128"),
}
# The embedded default (conf/local.yaml has no `names:`): every logical name is its physical name.
DEFAULT_TEMPLATES: dict[str, str] = {
    "database": "{layer}",
    "serving_table": "{table}",
    "stream": "{stream}",
    "job": "{job}",
    "workflow": "{workflow}",
    "workgroup": "primary",
}
# The keys that named one of these before `names:` did: refused, so an old conf is not silently ignored.
RETIRED_KEYS = {
    ("serve", "kinesis", "stream_prefix"): "names.templates.stream",
    ("serve", "kinesis", "streams"): "names.fixed.stream",
    # A pipeline's settings are sources.<pipeline>: the users pipeline's were under its API's name.
    ("sources", "randomuser"): "sources.users",
}


def check_retired_keys(conf: Mapping[str, Any], where: str) -> None:
    """Refuse a conf that still sets a key the old way (a stream prefix, a source's `*_table`, a pipeline's settings
    under another name), naming the key that replaced it."""
    for path, replacement in RETIRED_KEYS.items():
        node: Any = conf
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            raise ConfigError(f"{where}: {'.'.join(path)} is no longer read; set {replacement} instead")
    for source, settings in (conf.get("sources") or {}).items():
        for key in settings or {}:
            if key.endswith("_table"):
                raise ConfigError(
                    f"{where}: sources.{source}.{key} is no longer read; a serving table's name is "
                    "names.fixed.serving_table.<its catalog/serving/ name> (else names.templates.serving_table)"
                )


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@dataclass(frozen=True)
class Names:
    """The physical names of one environment (see the module's docstring for the rule)."""

    environment: str | None = None
    templates: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))
    fixed: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def from_conf(
        cls,
        conf: Mapping[str, Any] | None,
        environment: str | None = None,
        given: str | Mapping[str, Any] | None = None,
        where: str = "names",
    ) -> Names:
        """Names from a conf's `names:` section; `environment` wins over names.environment, and `given`
        (a `--names` argument: JSON {kind: {logical: physical}}) over names.fixed."""
        conf = dict(conf or {})
        unknown = sorted(set(conf) - {"environment", "templates", "fixed"})
        if unknown:
            raise ConfigError(f"{where}: unknown key names.{unknown[0]} (known: environment, templates, fixed)")
        templates = dict(DEFAULT_TEMPLATES)
        for kind, template in (conf.get("templates") or {}).items():
            _check_kind(kind, f"{where}: names.templates.{kind}")
            allowed = {"environment"} | ({KINDS[kind].placeholder} if KINDS[kind].placeholder else set())
            extra = sorted(_placeholders(str(template)) - allowed)
            if extra:
                raise ConfigError(
                    f"{where}: names.templates.{kind} uses {{{extra[0]}}}; it may use "
                    + ", ".join(f"{{{p}}}" for p in sorted(allowed))
                )
            templates[kind] = str(template)
        fixed = _fixed(conf.get("fixed"), f"{where}: names.fixed")
        if isinstance(given, str):
            try:
                given = json.loads(given) if given.strip() else {}
            except json.JSONDecodeError as error:
                raise ConfigError(f"--names is not JSON {{kind: {{name: physical name}}}}: {error}") from None
        for kind, names in _fixed(given, "--names").items():
            fixed[kind] = {**fixed.get(kind, {}), **names}
        return cls(environment or conf.get("environment") or None, templates, fixed)

    def name(self, kind: str, logical: str | None = None) -> str:
        """The physical name of `logical` (of this kind), checked against the service's naming rule."""
        _check_kind(kind, f"names: {kind}")
        explicit = (self.fixed.get(kind) or {}).get(logical or "")
        if explicit is not None:
            return _checked(kind, explicit, f"names.fixed.{kind}.{logical}")
        template = self.templates[kind]
        if "environment" in _placeholders(template) and not self.environment:
            raise ConfigError(
                f"names.templates.{kind} ({template!r}) needs the environment: set LAKE_ENVIRONMENT (e.g. dev) "
                "or names.environment in the conf (a deployed job gets its names as --names)"
            )
        values = {"environment": self.environment or ""}
        if KINDS[kind].placeholder:
            values[KINDS[kind].placeholder] = logical or ""
        return _checked(kind, template.format(**values), f"names.templates.{kind} ({template!r})")

    def database(self, layer: str) -> str:
        return self.name("database", layer)

    def serving_table(self, table: str) -> str:
        return self.name("serving_table", table)

    def stream(self, stream: str) -> str:
        return self.name("stream", stream)

    def job(self, job: str) -> str:
        return self.name("job", job)

    def workflow(self, workflow: str) -> str:
        return self.name("workflow", workflow)

    def workgroup(self) -> str:
        return self.name("workgroup")

    def resolved(self, logical: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str]]:
        """{kind: {logical: physical}} for these logical names: what a deployed job gets as --names."""
        return {kind: {name: self.name(kind, name) for name in sorted(names)} for kind, names in logical.items()}


def _check_kind(kind: str, where: str) -> None:
    if kind not in KINDS:
        raise ConfigError(f"{where}: unknown kind {kind!r} (known: {', '.join(KINDS)})")


def _checked(kind: str, name: str, where: str) -> str:
    if not re.fullmatch(KINDS[kind].pattern, name):
        raise ConfigError(f"{where} gives {name!r}: a {kind.replace('_', ' ')} name must be {KINDS[kind].rule}")
    return name


def _fixed(spec: Any, where: str) -> dict[str, dict[str, str]]:
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where} must be a mapping {{kind: {{name: physical name}}}}, got {spec!r}")
    fixed: dict[str, dict[str, str]] = {}
    for kind, names in spec.items():
        _check_kind(kind, f"{where}.{kind}")
        if not isinstance(names, Mapping) or not all(isinstance(v, str) for v in names.values()):
            raise ConfigError(f"{where}.{kind} must map names to names (strings), got {names!r}")
        fixed[kind] = {str(k): v for k, v in names.items()}
    return fixed
