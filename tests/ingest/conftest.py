"""Fixtures of the ingestion tests: the committed registry, a loader DSN on the test cluster."""

from __future__ import annotations

import pytest
from mimamori.ingest.registry import load_registry


@pytest.fixture(scope="session")
def registry():
    return load_registry()


@pytest.fixture(scope="session")
def loader_dsn(warehouse):
    return warehouse.dsn(role="loader")
