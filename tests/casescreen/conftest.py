"""Fixtures of the case-screen tests: a small published month in schemas of their own.

The screen reads ``<P>.residents``, ``<P>.child_item_matches`` … (see mimamori.casescreen.repo).
The tests build those relations with a handful of children in ``cs_test_pub`` / ``cs_test_hist``
and let the screen write to ``cs_test_cw``, so they never touch (nor depend on) the real
``published`` and ``casework`` schemas that other parts of the suite build; all three schemas are
dropped at the end.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cs_fixtures import CW, HIST, PASSWORD, PASSWORDS, PUB, _create_fixture_schemas, apply_access  # noqa: E402


@pytest.fixture(scope="session")
def cs_config(warehouse):
    """The screen's configuration on the fixture schemas, its tables created, four staff accounts."""
    from mimamori.casescreen import auth, repo
    from mimamori.casescreen.config import load_config
    from mimamori.casescreen.schema import init_db
    from mimamori.stack import pg

    with pg.connect(warehouse, autocommit=True) as conn:
        _create_fixture_schemas(conn)
    config = load_config(
        warehouse, published_schema=PUB, history_schema=HIST, casework_schema=CW, secret_key=uuid.uuid4().hex
    )
    init_db(config)
    with pg.connect(warehouse, autocommit=True) as conn:
        apply_access(conn)
    repo._columns_cache.clear()
    with pg.connect(warehouse, role="casework") as conn:
        for username, (role, display) in PASSWORDS.items():
            auth.add_user(conn, CW, username, role, PASSWORD, display)
    yield config
    with pg.connect(warehouse, autocommit=True) as conn:
        for schema in (PUB, HIST, CW):
            conn.execute(f"drop schema if exists {schema} cascade")
    repo._columns_cache.clear()


@pytest.fixture()
def cw_conn(cs_config):
    """A superuser connection for assertions on the screen's tables (autocommit)."""
    from mimamori.stack import pg

    with pg.connect(cs_config.settings, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def casescreen_env(cs_config):
    from mimamori.casescreen.config import env_for_process

    return {**env_for_process(cs_config), "MIMAMORI_CASESCREEN_SECRET": cs_config.secret_key}


@pytest.fixture(scope="session")
def casescreen_url(cs_config, casescreen_env):
    """The case screen served by uvicorn on the suite's port (started here, stopped at the end)."""
    from mimamori.stack import casescreen as stack

    settings = cs_config.settings
    started_here = stack.running(settings) is None
    if not started_here:  # someone else's instance may read other schemas: restart ours
        stack.stop(settings)
    stack.start(settings, casescreen_env)
    try:
        stack.wait_healthy(settings, timeout=60)
        yield stack.url(settings)
    finally:
        stack.stop(settings)


@pytest.fixture()
def client(cs_config):
    from fastapi.testclient import TestClient
    from mimamori.casescreen.app import create_app

    with TestClient(create_app(cs_config), base_url="http://127.0.0.1") as c:
        yield c
