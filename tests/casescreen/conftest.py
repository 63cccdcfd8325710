"""Fixtures of the case-screen tests: a small published month in schemas of their own.

The screen reads ``<P>.residents``, ``<P>.child_item_matches`` … (see mimamori.casescreen.repo).
The tests build those relations with a handful of children in ``cs_test_pub`` / ``cs_test_hist``
and let the screen write to ``cs_test_cw``, so they never touch (nor depend on) the real
``published`` and ``casework`` schemas that other parts of the suite build; all three schemas are
dropped at the end. The session fixtures ``cs_config`` and ``casescreen_url`` live in
``tests/conftest.py`` (``tests/security`` uses the same server).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture()
def cw_conn(cs_config):
    """A superuser connection for assertions on the screen's tables (autocommit)."""
    from mimamori.stack import pg

    with pg.connect(cs_config.settings, autocommit=True) as conn:
        yield conn


@pytest.fixture()
def client(cs_config):
    from fastapi.testclient import TestClient
    from mimamori.casescreen.app import create_app

    with TestClient(create_app(cs_config), base_url="http://127.0.0.1") as c:
        yield c
