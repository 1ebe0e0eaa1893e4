"""Fixtures of the pipeline tests that load DynamoDB: one moto_server per test module, boto3 pointed at it."""

from __future__ import annotations

import pytest

from tests.servers import MotoServer


@pytest.fixture(scope="module")
def moto_server():
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def moto(moto_server, monkeypatch):
    for key, value in moto_server.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_server


@pytest.fixture(scope="module")
def moto_module(moto_server):
    """boto3 pointed at the module's moto_server for the whole module (for module-scoped fixtures that load it)."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in moto_server.env.items():
            patch.setenv(key, value)
        patch.delenv("AWS_PROFILE", raising=False)
        yield moto_server
