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
