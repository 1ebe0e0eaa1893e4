"""Read a Delta table's log without Spark: current files per partition, and each commit's metrics."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path


def commits(table: Path) -> list[dict]:
    """Every commit in order: {version, operation, metrics, adds, removes}."""
    found = []
    for path in sorted((table / "_delta_log").glob("*.json")):
        actions = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        info = next((a["commitInfo"] for a in actions if "commitInfo" in a), {})
        found.append(
            {
                "version": int(path.stem),
                "operation": info.get("operation"),
                "metrics": info.get("operationMetrics", {}),
                "adds": [a["add"] for a in actions if "add" in a],
                "removes": [a["remove"] for a in actions if "remove" in a],
            }
        )
    return found


def files_at(table: Path, version: int | None = None) -> dict[str, dict]:
    """The table's live data files at `version` (latest when None), by path."""
    live: dict[str, dict] = {}
    for commit in commits(table):
        if version is not None and commit["version"] > version:
            break
        # Removes first: a commit that gives a file a deletion vector removes and re-adds the same path.
        for remove in commit["removes"]:
            live.pop(remove["path"], None)
        for add in commit["adds"]:
            live[add["path"]] = add
    return live


def max_files_per_partition(files: dict[str, dict]) -> int:
    counts = Counter(json.dumps(f.get("partitionValues", {}), sort_keys=True) for f in files.values())
    return max(counts.values(), default=0)


def total_bytes(files: dict[str, dict]) -> int:
    return sum(f["size"] for f in files.values())
