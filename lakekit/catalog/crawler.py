"""`lake catalog crawl`: what a Glue crawler does for folders landed by others: infer, register, add partitions,
flag drift.

A table folder holds Parquet or JSON files, directly or under Hive-style `key=value/` partition folders
(or a Delta log). The first crawl creates the table from the schema inferred over every file; later
crawls infer the new partitions only, add the columns they bring, register them, and flag any column
whose type changed instead of applying it (those partitions stay unregistered until it is resolved).
One folder is one table: a drift never forks a second table. Tables defined in catalog/ keep their
YAML schema: the crawler only registers them and their partitions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from lakekit.catalog.metastore import add_partitions, register_table, registered_location, same_location
from lakekit.catalog.model import all_tables
from lakekit.core.settings import Settings
from lakekit.core.storage import storage_for

_FORMATS = {".parquet": "parquet", ".json": "json", ".jsonl": "json", ".ndjson": "json", ".json.gz": "json"}
_PARTITION_DIR = re.compile(r"^([^=]+)=(.*)$")


class CrawlError(ValueError):
    """A folder cannot be crawled as a table; the message says why."""


@dataclass(frozen=True)
class Drift:
    """A column whose type in new data differs from the registered one: reported, never applied."""

    column: str
    registered: str
    found: str
    partition: str


@dataclass
class CrawlResult:
    table: str
    location: str
    format: str
    action: str = "unchanged"  # created | updated | unchanged | registered (catalog/ or Delta) | not crawled
    columns_added: list[str] = field(default_factory=list)
    partitions_added: list[str] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)
    error: str | None = None  # why the folder was not crawled

    def report(self) -> list[str]:
        """What a person reads: one line for the table, one per drift."""
        if self.error:
            return [f"{self.table}: not crawled: {self.error}"]
        parts = [f"{self.table}: {self.action} ({self.format}, {self.location})"]
        if self.columns_added:
            parts.append(f"column(s) added: {', '.join(self.columns_added)}")
        parts.append(f"{len(self.partitions_added)} partition(s) added")
        lines = ["; ".join(parts)]
        for drift in self.drift:
            lines.append(
                f"{self.table}: SCHEMA DRIFT column {drift.column} is {drift.registered} in the table but "
                f"{drift.found} in {drift.partition or 'the files'}: not applied"
            )
        if self.held_back:
            held = ", ".join(leaf or "the table's files" for leaf in self.held_back)
            lines.append(f"{self.table}: {len(self.held_back)} partition(s) not registered: {held}")
        return lines


@dataclass(frozen=True)
class TableFolder:
    """A folder that is one table: its format and its leaf partitions (relative paths; "" when unpartitioned)."""

    location: str
    format: str
    partition_keys: tuple[str, ...] = ()
    leaves: tuple[str, ...] = ()


def _format_of(name: str) -> str | None:
    for suffix, fmt in _FORMATS.items():
        if name.lower().endswith(suffix):
            return fmt
    return None


def _visible(path: str) -> bool:
    return not path.rstrip("/").rsplit("/", 1)[-1].startswith(("_", "."))


def scan(location: str) -> TableFolder | None:
    """The table a folder holds, or None when it holds no data file and no partition folder."""
    storage = storage_for(location)
    location = location.rstrip("/")
    if storage.list_files(f"{location}/_delta_log"):
        return TableFolder(location, "delta")
    formats: set[str] = set()
    leaves: list[tuple[tuple[str, ...], str]] = []
    pending = [(location, (), "")]
    while pending:
        folder, keys, relative = pending.pop()
        files = [f for f in storage.list_files(folder) if _visible(f)]
        children = [d for d in storage.list_dirs(folder) if _visible(d)]
        found = {_format_of(f) for f in files} - {None}
        formats |= found
        if found:
            leaves.append((keys, relative))
        for child in children:
            match = _PARTITION_DIR.match(child.rstrip("/").rsplit("/", 1)[-1])
            if match is None:
                raise CrawlError(f"{child}: not a partition folder (key=value) inside table folder {location}")
            name = child.rstrip("/").rsplit("/", 1)[-1]
            pending.append((child, (*keys, match.group(1)), f"{relative}/{name}".lstrip("/")))
    if not leaves:
        return None
    if len(formats) > 1:
        raise CrawlError(f"{location}: mixed file formats {sorted(formats)}; one table folder holds one format")
    layouts = {keys for keys, _ in leaves}
    if len(layouts) > 1:
        raise CrawlError(f"{location}: data files at different partition depths {sorted(layouts)}")
    return TableFolder(location, formats.pop(), layouts.pop(), tuple(sorted(relative for _, relative in leaves)))


def _identifier(text: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", text.lower()) or "_"


def _is_table_folder(storage, folder: str) -> bool:
    if storage.list_files(f"{folder}/_delta_log"):
        return True
    if any(_format_of(f) for f in storage.list_files(folder) if _visible(f)):
        return True
    return any(_PARTITION_DIR.match(d.rstrip("/").rsplit("/", 1)[-1]) for d in storage.list_dirs(folder))


def targets(settings: Settings, path_or_layer: str, database: str | None = None) -> list[tuple[str, str]]:
    """(qualified name, location) of every table under a layer of the lake root, or at / under a path.

    A bare name (`raw`, `partners`) is a folder under the lake root whose subfolders are tables of the
    database of that name; a path is a table folder (database: its parent folder's name) or a folder of
    table folders (database: its own name). `database` overrides either.
    """
    if "/" not in path_or_layer and "://" not in path_or_layer:
        root, is_table = settings.path(path_or_layer), False
    else:
        root = path_or_layer if "://" in path_or_layer else str(Path(path_or_layer).expanduser().resolve())
        root = root.rstrip("/")
        is_table = _is_table_folder(storage_for(root), root)
    storage = storage_for(root)
    if not storage.exists(root) and "://" not in root:
        raise CrawlError(f"nothing to crawl: {root} does not exist")
    if is_table:
        parent, _, name = root.rpartition("/")
        return [(f"{_identifier(database or parent.rsplit('/', 1)[-1])}.{_identifier(name)}", root)]
    db = _identifier(database or root.rsplit("/", 1)[-1])
    return [
        (f"{db}.{_identifier(d.rstrip('/').rsplit('/', 1)[-1])}", d.rstrip("/"))
        for d in storage.list_dirs(root)
        if _visible(d)
    ]


def _quoted_name(qualified: str) -> str:
    return ".".join(f"`{part}`" for part in qualified.split("."))


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _infer(spark, folder: TableFolder, leaves: list[str]):
    """The schema Spark reads from these leaves: data columns, then the partition columns (typed from values)."""
    paths = [f"{folder.location}/{leaf}".rstrip("/") for leaf in leaves]
    reader = spark.read.option("basePath", folder.location)
    if folder.format == "parquet":
        return reader.option("mergeSchema", "true").parquet(*paths).schema
    return reader.json(paths).schema


def _conflicts(registered, found, partition: str) -> list[Drift]:
    known = {f.name: f.dataType.simpleString() for f in registered.fields} if registered is not None else {}
    return [
        Drift(f.name, known[f.name], f.dataType.simpleString(), partition)
        for f in found.fields
        if f.name in known and known[f.name] != f.dataType.simpleString()
    ]


def _merge(registered, found):
    from pyspark.sql import types as T

    if registered is None:
        return found
    names = {f.name for f in registered.fields}
    return T.StructType(list(registered.fields) + [f for f in found.fields if f.name not in names])


def _accept(spark, folder: TableFolder, leaves: list[str], registered, result: CrawlResult):
    """Infer the new leaves; the schema they add up to with the registered one, and the leaves that fit it.

    All leaves are read at once; only if that fails or conflicts is each read alone, to tell which drift.
    """
    try:
        found = _infer(spark, folder, leaves)
        if not _conflicts(registered, found, ""):
            return _merge(registered, found), list(leaves)
    except Exception as error:
        # Spark reports a failed Parquet schema merge through several exception classes: tell it by its message.
        if "merge" not in str(error).lower() and "incompatible" not in str(error).lower():
            raise
    schema, accepted = registered, []
    for leaf in leaves:
        found = _infer(spark, folder, [leaf])
        conflicts = _conflicts(schema, found, leaf)
        if conflicts:
            result.drift += conflicts
            result.held_back.append(leaf)
        else:
            schema = _merge(schema, found)
            accepted.append(leaf)
    return schema, accepted


def _partition_values(leaf: str) -> dict[str, str]:
    return {k: unquote(v) for k, _, v in (part.partition("=") for part in leaf.split("/"))}


def _normal(values: dict[str, str], types: dict[str, str]) -> tuple[str, ...]:
    """A partition's values as the metastore prints them (`month=01` of an int column is month=1)."""
    normal = []
    for key, value in values.items():
        if types.get(key) in ("int", "bigint", "smallint", "tinyint") and re.fullmatch(r"-?\d+", value):
            value = str(int(value))
        normal.append(f"{key}={value}")
    return tuple(normal)


def _known_partitions(spark, name: str, types: dict[str, str]) -> set[tuple[str, ...]]:
    rows = spark.sql(f"SHOW PARTITIONS {_quoted_name(name)}").collect()
    return {_normal(_partition_values(row[0]), types) for row in rows}


def _create(spark, name: str, folder: TableFolder, schema) -> None:
    data = [f for f in schema.fields if f.name not in folder.partition_keys]
    partitions = [schema[k] for k in folder.partition_keys]
    columns = ",\n  ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in [*data, *partitions])
    partitioned = f" PARTITIONED BY ({', '.join(f'`{k}`' for k in folder.partition_keys)})" if partitions else ""
    spark.sql(
        f"CREATE TABLE {_quoted_name(name)} (\n  {columns}\n) USING {folder.format}{partitioned} "
        f"LOCATION {_quote(folder.location)}"
    )


def _register_partitions(spark, name: str, folder: TableFolder, leaves: list[str]) -> None:
    if not folder.partition_keys or not leaves:
        return
    specs = " ".join(
        "PARTITION ("
        + ", ".join(f"`{k}` = {_quote(v)}" for k, v in _partition_values(leaf).items())
        + f") LOCATION {_quote(f'{folder.location}/{leaf}')}"
        for leaf in leaves
    )
    spark.sql(f"ALTER TABLE {_quoted_name(name)} ADD IF NOT EXISTS {specs}")


def crawl_folder(spark, name: str, folder: TableFolder) -> CrawlResult:
    """Create or update table `name` (database.table) from the files of one table folder."""
    result = CrawlResult(name, folder.location, folder.format)
    database = name.split(".")[0]
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    exists = spark.catalog.tableExists(name)
    if exists and not same_location(registered_location(spark, *name.split(".", 1)), folder.location):
        # The same name registered at another folder (another lake root): point it here, files untouched.
        spark.sql(f"DROP TABLE {_quoted_name(name)}")
        exists = False
    if folder.format == "delta":
        if not exists:
            spark.sql(f"CREATE TABLE {_quoted_name(name)} USING DELTA LOCATION {_quote(folder.location)}")
            result.action = "registered"
        return result
    registered = spark.table(name).schema if exists else None
    types = {f.name: f.dataType.simpleString() for f in registered.fields} if registered is not None else {}
    known = _known_partitions(spark, name, types) if exists and folder.partition_keys else set()
    if exists and not folder.partition_keys:
        new_leaves = list(folder.leaves)  # unpartitioned: every file is read again
    else:
        new_leaves = [leaf for leaf in folder.leaves if _normal(_partition_values(leaf), types) not in known]
    if not new_leaves:
        return result
    schema, accepted = _accept(spark, folder, new_leaves, registered, result)
    if schema is None:
        return result  # no leaf fitted: nothing to create
    if not exists:
        _create(spark, name, folder, schema)
        result.action = "created"
    else:
        added = [f for f in schema.fields if f.name not in types]
        if added:
            columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in added)
            spark.sql(f"ALTER TABLE {_quoted_name(name)} ADD COLUMNS ({columns})")
            result.columns_added = [f"{f.name} {f.dataType.simpleString()}" for f in added]
        if added or (accepted and folder.partition_keys):
            result.action = "updated"
    _register_partitions(spark, name, folder, accepted)
    if folder.partition_keys:
        result.partitions_added = accepted
    if not exists or result.columns_added or result.partitions_added:
        spark.catalog.refreshTable(name)
    return result


def _catalog_table(name: str, location: str, settings: Settings):
    """The catalog/ definition behind `name`, if any; refusing a folder that is not its location."""
    for table in all_tables():
        if table.qualified_name == name:
            if table.location_under(settings.lake_root).rstrip("/") != location.rstrip("/"):
                raise CrawlError(
                    f"{name} is defined in catalog/{table.layer}/{table.name}.yaml at "
                    f"{table.location_under(settings.lake_root)}, not {location}: crawl it under another --database"
                )
            return table
    return None


def _register_catalog_table(spark, settings: Settings, table, folder: TableFolder) -> CrawlResult:
    """Tables of catalog/ keep their YAML schema: register them, then the partitions not yet registered."""
    register_table(spark, table, settings.lake_root, settings.names)
    known = set()
    if table.format == "parquet" and table.partition_keys:
        database = settings.names.database(table.layer)
        known = {row[0] for row in spark.sql(f"SHOW PARTITIONS {database}.{table.name}").collect()}
    new = [leaf for leaf in folder.leaves if leaf and leaf not in known]
    add_partitions(spark, table, [_partition_values(leaf) for leaf in new], settings.names)
    result = CrawlResult(table.qualified_name, folder.location, table.format, f"registered from catalog/{table.layer}")
    result.partitions_added = new if table.format == "parquet" else []
    return result


def crawl(spark, settings: Settings, path_or_layer: str, database: str | None = None) -> list[CrawlResult]:
    """Crawl every table folder a layer or path holds (see `targets`); one result per table.

    A folder that cannot be one table (mixed formats, stray folders, a catalog/ table's name at
    another location) gets a result with its error; the others are crawled all the same.
    """
    results = []
    for name, location in targets(settings, path_or_layer, database):
        try:
            folder = scan(location)
            if folder is None:
                continue
            table = _catalog_table(name, location, settings)
        except CrawlError as error:
            results.append(CrawlResult(name, location, "-", action="not crawled", error=str(error)))
            continue
        if table is None:
            results.append(crawl_folder(spark, name, folder))
        else:
            results.append(_register_catalog_table(spark, settings, table, folder))
    return results
