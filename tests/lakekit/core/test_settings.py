"""Settings (lakekit/core/settings.py): conf/base.yaml with an environment's overlay, the schema, one resolver."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from pydantic import Field

from lakekit.core.settings import ConfigError, PipelineSettings, deep_merge, load_settings, read_conf, resolve_settings

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _no_conf_from_the_shell(monkeypatch):
    for variable in ("LAKE_ENVIRONMENT", "LAKE_NAMES", "LAKE_CONF_DIR", "LAKE_ENV", "LAKE_ROOT"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def conf_dir(tmp_path, monkeypatch):
    """write(name, conf): conf/<name>.yaml in a conf folder of its own, which load_settings reads."""
    folder = tmp_path / "conf"
    folder.mkdir()
    monkeypatch.setenv("LAKE_CONF_DIR", str(folder))

    def write(name: str, conf: dict) -> None:
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(conf))

    return write


BASE = {
    "metastore": "derby",
    "spark": {"master": "local[2]", "conf": {"spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false"}},
    "serve": {"port": 8080, "api_keys": ["a", "b"]},
    "sources": {"demo": {"url": "https://example.com/api/", "pages": 3}},
}


def test_an_overlay_overrides_a_nested_key_and_keeps_its_siblings(conf_dir):
    conf_dir("base", BASE)
    conf_dir("x", {"lake_root": "/tmp/lake", "spark": {"conf": {"spark.ui.enabled": "true"}}, "serve": {"port": 9}})
    settings = load_settings("x")
    assert settings.spark == {
        "master": "local[2]",
        "conf": {"spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "true"},
    }
    assert settings.serve == {"port": 9, "api_keys": ["a", "b"]}
    assert settings.sources == BASE["sources"]
    assert (settings.env, settings.lake_root, settings.metastore) == ("x", "/tmp/lake", "derby")


def test_an_overlays_list_replaces_the_bases_and_is_not_appended_to_it(conf_dir):
    conf_dir("base", BASE)
    conf_dir("x", {"lake_root": "/tmp/lake", "serve": {"api_keys": ["c"]}})
    assert load_settings("x").serve["api_keys"] == ["c"]
    assert deep_merge({"a": [1, 2], "b": {"c": 1}}, {"a": [3], "b": None}) == {"a": [3], "b": None}


def test_the_shipped_environments_are_the_base_with_their_overlay(monkeypatch):
    base = yaml.safe_load((REPO / "conf" / "base.yaml").read_text())
    for env in ("local", "aws"):
        overlay = yaml.safe_load((REPO / "conf" / f"{env}.yaml").read_text())
        assert read_conf(env, REPO / "conf").merged == deep_merge(base, overlay)
        # Both read the one sources block; neither overlay repeats it.
        assert "sources" not in overlay
        assert load_settings(env, "/tmp/lake").sources == base["sources"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"x": {"serve": {"port": "eighty"}}},
            "conf/x.yaml: serve.port: Input should be a valid integer, unable to parse string as an integer",
        ),
        ({"base": {"spark": {"mastr": "local[1]"}}, "x": {}}, "conf/base.yaml: spark.mastr: unknown key"),
        ({"x": {"lake_rot": "/tmp"}}, "conf/x.yaml: lake_rot: unknown key"),
        ({"x": {"jobs": {"default": {"timeout_minutes": 0}}}}, "conf/x.yaml: jobs.default.timeout_minutes: Input"),
        ({"x": {"sources": {"demo": ["not", "a", "mapping"]}}}, "conf/x.yaml: sources.demo: Input should be"),
    ],
)
def test_a_wrong_type_or_an_unknown_key_is_refused_naming_the_file_and_the_key(conf_dir, files, message):
    for name, conf in files.items():
        conf_dir(name, {"lake_root": "/tmp/lake", **conf} if name == "x" else conf)
    with pytest.raises(ConfigError) as raised:
        load_settings("x")
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_a_retired_key_is_refused_naming_its_replacement_before_the_schema_sees_it(conf_dir):
    conf_dir("base", {"sources": {"randomuser": {"results": 5}}})
    conf_dir("x", {"lake_root": "/tmp/lake"})
    with pytest.raises(ConfigError) as raised:
        load_settings("x")
    assert str(raised.value) == "conf/base.yaml: sources.randomuser is no longer read; set sources.users instead"


class DemoSettings(PipelineSettings):
    section = "demo"
    url: str | None = None
    pages: int = Field(1, ge=1)
    timeout_seconds: float = 30


def test_a_setting_is_the_argument_else_the_conf_else_the_declared_default(conf_dir):
    conf_dir("base", BASE)
    conf_dir("x", {"lake_root": "/tmp/lake", "sources": {"demo": {"timeout_seconds": 5}}})
    settings = load_settings("x")
    assert resolve_settings(DemoSettings, settings, {}) == DemoSettings(
        url="https://example.com/api/", pages=3, timeout_seconds=5
    )
    given = resolve_settings(DemoSettings, settings, {"pages": "7", "url": None, "other": "x"})
    assert (given.url, given.pages, given.timeout_seconds) == ("https://example.com/api/", 7, 5)
    conf_dir("x", {"lake_root": "/tmp/lake", "sources": {"demo": {"pages": 2}}})
    conf_dir("base", {})
    assert resolve_settings(DemoSettings, load_settings("x"), {}) == DemoSettings(pages=2, timeout_seconds=30)


def test_a_wrong_pipeline_setting_names_the_file_that_set_it_or_the_argument(conf_dir):
    conf_dir("base", BASE)
    conf_dir("x", {"lake_root": "/tmp/lake", "sources": {"demo": {"pages": "many"}}})
    settings = load_settings("x")
    with pytest.raises(ConfigError) as raised:
        resolve_settings(DemoSettings, settings, {"pages": "2"})  # conf is checked even when an argument wins
    assert str(raised.value) == (
        "conf/x.yaml: sources.demo.pages: Input should be a valid integer, unable to parse string as an integer"
    )
    conf_dir("x", {"lake_root": "/tmp/lake", "sources": {"demo": {"page": 2}}})
    with pytest.raises(ConfigError, match=r"^conf/x\.yaml: sources\.demo\.page: unknown key$"):
        resolve_settings(DemoSettings, load_settings("x"), {})
    with pytest.raises(ConfigError, match=r"^--pages: Input should be greater than or equal to 1, got '0'$"):
        resolve_settings(DemoSettings, dataclasses.replace(settings, sources={}), {"pages": "0"})


def test_a_conf_folder_without_a_base_reads_the_environment_alone(conf_dir):
    conf_dir("x", {"lake_root": "/tmp/lake", "serve": {"port": 1}})
    assert load_settings("x").serve == {"port": 1}
