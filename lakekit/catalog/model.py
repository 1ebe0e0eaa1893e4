"""catalog/*.yaml as objects: table definitions and their Spark schemas."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from importlib.metadata import entry_points
from typing import Any

import yaml

_PRIMITIVES = {
    "string": "StringType",
    "boolean": "BooleanType",
    "bigint": "LongType",
    "int": "IntegerType",
    "double": "DoubleType",
    "date": "DateType",
    "timestamp": "TimestampType",
    "binary": "BinaryType",
}


# A pipeline shipped in a distribution of its own declares here the package holding its catalog files, laid out
# as catalog/ is (<layer>/<name>.yaml, streams/, serving/): `name = package`.
ENTRY_POINTS = "lakekit.catalog"


class CatalogError(ValueError):
    """A table definition is missing or malformed."""


@cache
def catalog_roots() -> tuple[Traversable, ...]:
    """catalog/, then the catalog package of each distribution that declares one (entry point group lakekit.catalog).
    Cached: listing the entry points reads every installed distribution's metadata (31 ms here), and each table,
    stream and serving declaration is found through this list."""
    points = sorted(entry_points(group=ENTRY_POINTS), key=lambda p: p.name)
    return (resources.files("catalog"), *(resources.files(p.value) for p in points))


def catalog_file(folder: str, name: str) -> Traversable | None:
    """catalog/<folder>/<name> in whichever root holds it; None if none does, a CatalogError if two do."""
    found = [f for f in (root.joinpath(folder, name) for root in catalog_roots()) if f.is_file()]
    if len(found) > 1:
        raise CatalogError(f"catalog/{folder}/{name} is declared twice: {', '.join(map(str, found))}")
    return found[0] if found else None


def catalog_names(folder: str) -> list[str]:
    """The names of the YAML files in catalog/<folder>/ of every root, without .yaml, sorted."""
    folders = [f for f in (root.joinpath(folder) for root in catalog_roots()) if f.is_dir()]
    return sorted({p.name[:-5] for f in folders for p in f.iterdir() if p.name.endswith(".yaml")})


def _spark_type(spec: dict[str, Any]):
    from pyspark.sql import types as T

    kind = spec["type"].replace(" ", "")
    if kind in _PRIMITIVES:
        return getattr(T, _PRIMITIVES[kind])()
    decimal = re.fullmatch(r"decimal\((\d+),(\d+)\)", kind)
    if decimal:
        return T.DecimalType(int(decimal.group(1)), int(decimal.group(2)))
    if kind == "struct":
        return T.StructType([_field(f) for f in spec["fields"]])
    if kind == "array<struct>":
        return T.ArrayType(T.StructType([_field(f) for f in spec["fields"]]))
    element = re.fullmatch(r"array<(.+)>", kind)
    if element:
        return T.ArrayType(_spark_type({"type": element.group(1)}))
    raise CatalogError(f"unknown column type {spec['type']!r}")


# `parse_as` on a string column: the text is a timestamp or date (ISO 8601) that a later layer parses; a raw
# job quarantines a record whose text does not parse, so the parse never turns a value into null.
PARSE_AS = ("timestamp", "date")


def _field(spec: dict[str, Any]):
    from pyspark.sql import types as T

    parse_as = spec.get("parse_as")
    if parse_as is not None and (parse_as not in PARSE_AS or spec["type"] != "string"):
        raise CatalogError(f"column {spec['name']}: parse_as must be one of {', '.join(PARSE_AS)} on a string column")
    metadata = {k: spec[k] for k in ("source", "comment", "parse_as") if spec.get(k)}
    return T.StructField(spec["name"], _spark_type(spec), True, metadata)


@dataclass(frozen=True)
class TableDef:
    layer: str
    name: str
    description: str
    format: str
    location: str
    columns: tuple[dict[str, Any], ...]
    partition_keys: tuple[str, ...] = ()
    primary_key: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    compact_min_files: int | None = None  # Delta: compact a partition after a write once it holds this many files
    conf: dict[str, Any] = field(default_factory=dict)  # the pipeline's settings kept with the table (lists, codes)

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def schema(self):
        """The table's Spark schema; each field carries its `source` attribute, comment and `parse_as` as metadata."""
        from pyspark.sql import types as T

        return T.StructType([_field(c) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c["name"] for c in self.columns]

    @property
    def source_key_columns(self) -> list[str]:
        """The columns that carry the source's key attributes (for DynamoDB, the item key)."""
        by_source = {c.get("source"): c["name"] for c in self.columns}
        return [by_source[k] for k in self.source.get("keys", [])]

    @property
    def record_schema(self):
        """The source record's fields of a raw table: every column but the partition and the _metadata ones."""
        from pyspark.sql import types as T

        return T.StructType(
            [f for f in self.schema.fields if not f.name.startswith("_") and f.name not in self.partition_keys]
        )

    def location_under(self, lake_root: str) -> str:
        return f"{lake_root.rstrip('/')}/{self.location}"


@cache
def load_table(qualified_name: str) -> TableDef:
    """The definition of `layer.name` from catalog/<layer>/<name>.yaml."""
    layer, _, name = qualified_name.partition(".")
    resource = catalog_file(layer, f"{name}.yaml")
    if resource is None:
        raise CatalogError(f"table {qualified_name} is not defined: no catalog/{layer}/{name}.yaml")
    spec = yaml.safe_load(resource.read_text())
    if (spec.get("layer"), spec.get("name")) != (layer, name):
        raise CatalogError(f"catalog/{layer}/{name}.yaml declares {spec.get('layer')}.{spec.get('name')}")
    return TableDef(
        layer=layer,
        name=name,
        description=" ".join(str(spec.get("description", "")).split()),
        format=spec["format"],
        location=spec["location"],
        columns=tuple(spec["columns"]),
        partition_keys=tuple(spec.get("partition_keys") or ()),
        primary_key=tuple(spec.get("primary_key") or ()),
        properties=dict(spec.get("properties") or {}),
        source=dict(spec.get("source") or {}),
        compact_min_files=spec.get("compact_min_files"),
        conf=dict(spec.get("conf") or {}),
    )


def all_tables() -> list[TableDef]:
    # catalog/streams/ declares event streams and catalog/serving/ DynamoDB tables, not lake tables.
    not_layers = ("streams", "serving")
    layers = {
        p.name
        for root in catalog_roots()
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith("_") and p.name not in not_layers
    }
    return [load_table(f"{layer}.{name}") for layer in sorted(layers) for name in catalog_names(layer)]


def sql_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
