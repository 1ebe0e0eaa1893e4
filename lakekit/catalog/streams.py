"""Event streams as declared in catalog/streams/*.yaml: a name, the JSON Schema of one event, its raw table."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from typing import Any

import yaml

from lakekit.catalog.model import CatalogError, catalog_file, catalog_names

STREAMS_FOLDER = "streams"  # catalog/streams/: not a layer of tables

# JSON Schema `format`s the lake adds: money as a decimal(12,2) (a JSON number, at most two decimals).
MONEY_FORMAT = "money"
_MONEY_LIMIT = Decimal(10) ** 10


def is_money(value: Any) -> bool:
    """A number with at most two decimals that fits decimal(12,2); JSON floats are read back by their shortest repr."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return value is None  # the schema's `type` says whether null is allowed
    text = repr(value) if isinstance(value, float) else str(value)
    whole, dot, decimals = text.partition(".")
    if "e" not in text.lower() and "inf" not in text and "nan" not in text:  # the common case, without Decimal
        return len(decimals) <= 2 and len(whole.lstrip("-")) <= 10 and abs(value) < _MONEY_LIMIT
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return False
    return amount.is_finite() and abs(amount) < _MONEY_LIMIT and amount.as_tuple().exponent >= -2


@dataclass(frozen=True)
class StreamDef:
    name: str
    description: str
    schema: dict[str, Any]  # JSON Schema of one event
    raw_table: str  # layer.name of the raw table the streaming job fills
    partition_key: str | None = None  # event field used as the Kinesis partition key when the producer sends none
    kinesis: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def validator(self):
        import fastjsonschema

        return fastjsonschema.compile({"$schema": "http://json-schema.org/draft-07/schema#", **self.schema})

    @cached_property
    def money_paths(self) -> tuple[tuple[str, ...], ...]:
        """Where the schema puts `format: money` (a `*` step is every item of an array)."""
        return tuple(_format_paths(self.schema, self.schema, MONEY_FORMAT, ()))

    def problem(self, event: Any) -> str | None:
        """None when `event` fits the stream's schema, else one line saying where and why it does not."""
        import fastjsonschema

        try:
            self.validator(event)
        except fastjsonschema.JsonSchemaValueException as error:
            message = "event" + error.message[len("data") :] if error.message.startswith("data") else error.message
            hint = error.definition.get("$comment") if isinstance(error.definition, dict) else None
            return f"{message} ({hint})" if hint and error.rule in ("oneOf", "anyOf") else message
        for path in self.money_paths:
            for where, value in _values_at(event, path, "event"):
                if not is_money(value):
                    return f"{where} must be money: at most two decimals and under 10^10, got {value!r}"
        return None


def _format_paths(root: dict, schema: Any, wanted: str, prefix: tuple[str, ...]):
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target = root
        for step in ref[2:].split("/"):
            target = target[step]
        yield from _format_paths(root, target, wanted, prefix)
    if schema.get("format") == wanted:
        yield prefix
    for name, sub in (schema.get("properties") or {}).items():
        yield from _format_paths(root, sub, wanted, (*prefix, name))
    if isinstance(schema.get("items"), dict):
        yield from _format_paths(root, schema["items"], wanted, (*prefix, "*"))


def _values_at(value: Any, path: tuple[str, ...], where: str):
    if not path:
        yield where, value
    elif path[0] == "*":
        for index, item in enumerate(value if isinstance(value, list) else []):
            yield from _values_at(item, path[1:], f"{where}[{index}]")
    elif isinstance(value, dict) and path[0] in value:
        yield from _values_at(value[path[0]], path[1:], f"{where}.{path[0]}")


@cache
def load_stream(name: str) -> StreamDef:
    """The stream declared in catalog/streams/<name>.yaml."""
    resource = catalog_file(STREAMS_FOLDER, f"{name}.yaml")
    if resource is None:
        raise CatalogError(f"stream {name!r} is not declared: no catalog/{STREAMS_FOLDER}/{name}.yaml")
    spec = yaml.safe_load(resource.read_text())
    if spec.get("name") != name:
        raise CatalogError(f"catalog/{STREAMS_FOLDER}/{name}.yaml declares stream {spec.get('name')!r}")
    if not isinstance(spec.get("schema"), dict):
        raise CatalogError(f"catalog/{STREAMS_FOLDER}/{name}.yaml has no event schema")
    return StreamDef(
        name=name,
        description=" ".join(str(spec.get("description", "")).split()),
        schema=spec["schema"],
        raw_table=spec.get("raw_table") or f"raw.{name}_events",
        partition_key=spec.get("partition_key"),
        kinesis=dict(spec.get("kinesis") or {}),
    )


def stream_names() -> list[str]:
    return catalog_names(STREAMS_FOLDER)
