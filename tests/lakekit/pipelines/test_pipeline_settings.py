"""Each pipeline's settings model against the shipped conf: every sources.<section> is declared and valid."""

from __future__ import annotations

import pytest

from lakekit.core import registry
from lakekit.core.settings import PipelineSettings, load_settings, resolve_settings


def _declared() -> dict[str, type[PipelineSettings]]:
    registry.pipelines()  # imports every pipeline module, and so each settings model it declares
    return {
        model.section: model for model in PipelineSettings.__subclasses__() if model.__module__.startswith("lakekit.")
    }


@pytest.mark.parametrize("env", ["local", "aws"])
def test_every_sources_section_of_the_shipped_conf_is_a_pipelines_and_valid(env, monkeypatch):
    for variable in ("LAKE_CONF_DIR", "LAKE_ENVIRONMENT", "LAKE_NAMES"):
        monkeypatch.delenv(variable, raising=False)
    settings = load_settings(env, "s3://bucket/lake")
    declared = _declared()
    assert set(settings.sources) == set(declared) == {"users", "complaints"}
    for section, model in declared.items():
        resolved = resolve_settings(model, settings, {})
        assert resolved.url == settings.sources[section]["url"], section
        # Each key conf sets is the value a run gets when no argument is given.
        for key, value in settings.sources[section].items():
            assert getattr(resolved, key) == model.model_validate({key: value}).model_dump()[key], (section, key)
