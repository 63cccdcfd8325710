"""Fixtures of the mapping tests: the committed registry, a loader DSN on the test cluster."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def registry():
    from mimamori.ingest.registry import load_registry

    return load_registry()


@pytest.fixture(scope="session")
def loader_dsn(warehouse):
    return warehouse.dsn(role="loader")
