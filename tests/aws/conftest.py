"""The local AWS of these tests (see tests/cloud.py)."""

import pytest

from tests.cloud import moto_server

moto = pytest.fixture(scope="module")(moto_server)
