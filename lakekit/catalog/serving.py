"""Serving tables (DynamoDB) as declared in catalog/serving/<name>.yaml: keys and indexes, declared once.

The loaders create a missing table from the declaration locally, and the deployment creates the same
table on AWS from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from lakekit.catalog.model import CatalogError, catalog_file, catalog_names

SERVING_FOLDER = "serving"  # catalog/serving/: not a layer of lake tables
KEY_TYPES = ("S", "N", "B")
PROJECTIONS = ("ALL", "KEYS_ONLY")


@dataclass(frozen=True)
class KeyAttribute:
    name: str
    type: str  # S, N or B


@dataclass(frozen=True)
class LocalIndex:
    name: str
    sort_key: KeyAttribute
    projection: str = "ALL"


@dataclass(frozen=True)
class ServingTable:
    name: str
    description: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    local_secondary_indexes: tuple[LocalIndex, ...] = ()

    @property
    def key_names(self) -> list[str]:
        return [self.partition_key.name] + ([self.sort_key.name] if self.sort_key else [])

    @property
    def attributes(self) -> list[KeyAttribute]:
        """Every attribute a key or an index names, once each (a table's AttributeDefinitions)."""
        found: dict[str, KeyAttribute] = {}
        for attribute in [self.partition_key, self.sort_key, *[i.sort_key for i in self.local_secondary_indexes]]:
            if attribute is not None:
                found.setdefault(attribute.name, attribute)
        return list(found.values())


def _key(spec: Any, where: str) -> KeyAttribute:
    if not (isinstance(spec, list) and len(spec) == 2 and spec[1] in KEY_TYPES):
        raise CatalogError(f"{where} must be [attribute, S|N|B], got {spec!r}")
    return KeyAttribute(str(spec[0]), spec[1])


@cache
def load_serving_table(name: str) -> ServingTable:
    """The declaration of the DynamoDB table `name` from catalog/serving/<name>.yaml."""
    resource = catalog_file(SERVING_FOLDER, f"{name}.yaml")
    if resource is None:
        raise CatalogError(f"serving table {name} is not declared: no catalog/{SERVING_FOLDER}/{name}.yaml")
    spec = yaml.safe_load(resource.read_text()) or {}
    where = f"catalog/{SERVING_FOLDER}/{name}.yaml"
    if spec.get("name") != name:
        raise CatalogError(f"{where} declares {spec.get('name')!r}")
    indexes = []
    for index in spec.get("local_secondary_indexes") or []:
        projection = index.get("projection", "ALL")
        if projection not in PROJECTIONS:
            raise CatalogError(f"{where}: index {index.get('name')} projection must be one of {PROJECTIONS}")
        indexes.append(LocalIndex(index["name"], _key(index.get("sort_key"), f"{where} index sort_key"), projection))
    if indexes and not spec.get("sort_key"):
        raise CatalogError(f"{where}: a local secondary index needs a table with a sort key")
    return ServingTable(
        name=name,
        description=" ".join(str(spec.get("description", "")).split()),
        partition_key=_key(spec.get("partition_key"), f"{where} partition_key"),
        sort_key=_key(spec["sort_key"], f"{where} sort_key") if spec.get("sort_key") else None,
        local_secondary_indexes=tuple(indexes),
    )


def serving_tables() -> list[ServingTable]:
    """Every declared serving table, by name."""
    return [load_serving_table(n) for n in catalog_names(SERVING_FOLDER)]
