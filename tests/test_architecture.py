"""The layout's rules: layers that only look down, a generic runtime that names no pipeline, pure transforms."""

from __future__ import annotations

import ast
import importlib
import io
import pkgutil
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

from lakekit.catalog.model import all_tables
from lakekit.core import registry

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
GENERIC = ["core", "tables", "sources", "sinks", "catalog", "serve", "cli"]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    # The packages are found on the path from `root` first, so a copy of the tree can be checked too.
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": ""},
    )


def test_import_contracts_are_kept():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_import_contracts_catch_the_runtime_importing_a_pipeline(tmp_path):
    for package in ("lakekit", "transforms", "jobs"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    storage = tmp_path / "lakekit" / "core" / "storage.py"
    storage.write_text(storage.read_text() + "\nfrom lakekit.pipelines import campaign  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "The generic runtime never imports a pipeline BROKEN" in result.stdout
    assert "lakekit.core.storage -> lakekit.pipelines.campaign" in result.stdout


def test_transforms_import_only_pyspark_themselves_and_the_standard_library():
    allowed = {"pyspark", "transforms", "__future__", *sys.stdlib_module_names}
    found = {}
    for path in (REPO / "transforms").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or "transforms"] if node.level == 0 else ["transforms"]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path.name)
    assert {top: files for top, files in found.items() if top not in allowed} == {}
    assert "pyspark" in found


def _code_tokens(path: Path) -> list[tuple[int, str, str]]:
    """(line, kind, text) of every name and string of a module; comments are left out."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [
        (t.start[0], tokenize.tok_name[t.type], t.string) for t in tokens if t.type in (tokenize.NAME, tokenize.STRING)
    ]


def names_in(paths: list[Path], own: frozenset[str] = frozenset()) -> list[str]:
    """Every pipeline, job or table name written in the code (not the comments) of these modules, but `own`."""
    tables = all_tables()
    words = {p.name for p in registry.pipelines()} | {t.name for t in tables}  # may be ordinary words
    distinct = set(registry.job_names()) | {t.qualified_name for t in tables}
    distinct |= {t.source["table"] for t in tables if t.source.get("table")}
    words, distinct = words - own, distinct - own
    anywhere = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, sorted(distinct))) + r")(?![\w])")
    found = []
    for path in paths:
        for line, kind, text in _code_tokens(path):
            literal = text.strip("\"'") if kind == "STRING" else text
            if literal in words or anywhere.search(text):
                found.append(f"{path.name}:{line}: {text[:60]}")
    return found


def test_the_generic_runtime_names_no_pipeline_job_or_table():
    paths = [p for package in GENERIC for p in sorted((REPO / "lakekit" / package).rglob("*.py"))]
    assert len(paths) > 15
    assert names_in(paths) == []


def test_the_generic_jobs_name_no_pipeline_or_table_but_their_own_jobs():
    import lakekit.jobs

    declared = [
        importlib.import_module(f"lakekit.jobs.{m.name}").PIPELINE for m in pkgutil.iter_modules(lakekit.jobs.__path__)
    ]
    own = frozenset({p.name for p in declared} | {j.name for p in declared for j in p.jobs})
    assert "raw_events" in own and all(p in registry.pipelines() for p in declared)
    paths = sorted((REPO / "lakekit" / "jobs").rglob("*.py"))
    assert names_in(paths, own) == []
    assert names_in(paths) != []  # without `own`, the check does see the job's own name


def test_the_name_check_sees_names_in_code_and_not_in_comments(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text(
        'X = load("curated.campaign_tasks")\n'
        "# raw.users in a comment is fine, and so is the word users\n"
        'Y = {"pipeline": "users"}\n'
        '"""Runs raw_user_campaign."""\n'
        'Z = "the users of the lake"\n'
    )
    assert names_in([sample]) == [
        'm.py:1: "curated.campaign_tasks"',
        'm.py:3: "users"',
        'm.py:4: """Runs raw_user_campaign."""',
    ]
