"""`lake table features`: each Delta table's protocol and features against catalog/, and --apply to align them."""

from __future__ import annotations

import argparse
import sys

from lakekit.catalog.metastore import has_data
from lakekit.catalog.model import all_tables
from lakekit.cli.output import print_rows
from lakekit.core.settings import ConfigError, load_settings, require_lake_root


def add_parser(table_sub, common) -> None:
    """`features` under `lake table`; `common` adds --lake-root, --env and --verbose."""
    features = table_sub.add_parser(
        "features",
        help="show each Delta table's protocol and features against catalog/; --apply makes them match",
        description=(
            "Jobs never change an existing table's features (they decide which engines can read it). "
            "This shows where a table differs from its catalog/ YAML, and --apply aligns it: properties "
            "by ALTER TABLE, a reader feature Delta cannot drop in place (deletionVectors) by writing the "
            "table a new log over the same files (its history restarts at version 0). Run --apply while "
            "no job writes the table."
        ),
    )
    features.add_argument("table", nargs="*", help="layer.name of Delta tables (default: every one written)")
    features.add_argument("--apply", action="store_true", help="make each table match catalog/")
    features.add_argument("--format", choices=["table", "csv", "json"], default="table")
    common(features)
    features.set_defaults(func=cmd_features)


def cmd_features(ns: argparse.Namespace) -> int:
    from lakekit.cli import _tables
    from lakekit.core.session import get_spark
    from lakekit.sinks.delta_features import align_features, feature_drift, table_detail

    tables = _tables(ns.table) if ns.table else [t for t in all_tables() if t.format == "delta"]
    settings = require_lake_root(load_settings(ns.env, ns.lake_root))
    for table in tables:
        if table.format != "delta":
            raise ConfigError(f"{table.qualified_name} is a {table.format} table: only Delta tables have features")
    written = [t for t in tables if has_data(t, settings.lake_root)]
    for table in tables:
        if table not in written:
            # On stderr with --format json/csv: stdout holds the rows alone.
            print(
                f"{table.qualified_name}: not written under {settings.lake_root} yet",
                file=sys.stdout if ns.format == "table" else sys.stderr,
            )
    if not written:
        return 0
    spark = get_spark(settings)
    rows = []
    drifted = 0
    for table in written:
        path = table.location_under(settings.lake_root)
        if ns.apply:
            out = sys.stdout if ns.format == "table" else sys.stderr
            align_features(
                spark,
                table,
                path,
                lambda message, name=table.qualified_name, out=out: print(f"{name}: {message}", file=out),
            )
        detail = table_detail(spark, path)
        drift = feature_drift(table, detail)
        drifted += bool(drift)
        rows.append(
            (
                table.qualified_name,
                f"{detail.reader_version}/{detail.writer_version}",
                ", ".join(detail.features),
                "; ".join(drift) or "matches catalog/",
            )
        )
    print_rows(["table", "protocol (reader/writer)", "features", "against catalog/"], rows, ns.format)
    return 1 if drifted else 0
