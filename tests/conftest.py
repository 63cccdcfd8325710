"""Session-wide services for the suite: started once, stopped at the end.

The suite runs on its own state folder and ports (``.local/test``, ports +100) so that it
never touches the demo stack a person may have running. Services are started lazily by the
fixtures that need them and stopped in reverse order when the session ends.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_STATE = REPO / ".local" / "test"

# Ports are the stack's defaults + MIMAMORI_TEST_PORT_OFFSET (100), so a suite can run beside a
# demo stack, and two clones can run their suites side by side with different offsets.
_OFFSET = int(os.environ.get("MIMAMORI_TEST_PORT_OFFSET", "100"))
_TEST_ENV = {
    "MIMAMORI_STATE_DIR": str(TEST_STATE),
    "MIMAMORI_INBOX": str(TEST_STATE / "town" / "inbox"),
    "MIMAMORI_PG_PORT": str(54329 + _OFFSET),
    "MIMAMORI_AIRFLOW_PORT": str(18080 + _OFFSET),
    "MIMAMORI_SUPERSET_PORT": str(18088 + _OFFSET),
    "MIMAMORI_CASESCREEN_PORT": str(18090 + _OFFSET),
    "MIMAMORI_SMTP_PORT": str(18025 + _OFFSET),
    "MIMAMORI_DOCS_PORT": str(18081 + _OFFSET),
    # the suite's docs site is its own, on loopback, whatever base URL a developer's .env names
    "MIMAMORI_DOCS_BASE_URL": "",
    "MIMAMORI_DOCS_BIND": "127.0.0.1",
    # Superset's own guard against subqueries in custom SQL is off in the suite: the boundary tests
    # (tests/security) prove that the database holds without it.
    "MIMAMORI_SUPERSET_ALLOW_ADHOC_SUBQUERY": "1",
    "MIMAMORI_AIRFLOW_LOG_PORT": str(18793 + _OFFSET),
    "MIMAMORI_AIRFLOW_TRIGGER_LOG_PORT": str(18794 + _OFFSET),
    # The suite's towns deliver in the contract layout unless a test names a town's mappings.
    "MIMAMORI_TOWN_DIR": "",
}
for _key, _value in _TEST_ENV.items():
    os.environ[_key] = _value
os.environ.pop("MIMAMORI_WAREHOUSE_DSN", None)
sys.path.insert(0, str(REPO / "include"))

from mimamori.settings import get_settings  # noqa: E402
from mimamori.stack.envfile import ensure_env  # noqa: E402

ensure_env(REPO)
get_settings.cache_clear()

from town_fixtures import judged_town, published_town  # noqa: E402, F401  (one judged town for the whole session)


@pytest.fixture(scope="session")
def settings():
    return get_settings()


@pytest.fixture(scope="session")
def warehouse(settings):
    """The project-local PostgreSQL cluster, initialised, started and provisioned once, with an
    empty warehouse: a suite run twice on one checkout starts as on a fresh clone (an earlier
    run's published months would otherwise change what "the latest month" is)."""
    from mimamori.stack import pg

    was_running = pg.is_running(settings)
    pg.reset_warehouse(settings)  # initialises and starts the cluster when needed, then provisions
    yield settings
    if not was_running:
        pg.stop(settings)


@pytest.fixture()
def wh_conn(warehouse):
    """A superuser connection to the warehouse database (autocommit)."""
    from mimamori.stack import pg

    with pg.connect(warehouse, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def mailcatcher(settings):
    """The aiosmtpd mail catcher on the suite's SMTP port, writing .eml files under .local/test/mail."""
    from mimamori.stack import procs
    from mimamori.stack.__main__ import start_mail

    was_running = bool(procs.read_pid(settings, "mailcatcher"))
    start_mail(settings)
    yield settings.mail_dir
    if not was_running:
        procs.stop(settings, "mailcatcher")


@pytest.fixture(scope="session")
def airflow_ready(warehouse, mailcatcher):
    """Airflow's metadata DB migrated; the environment for `airflow` commands in os.environ."""
    from mimamori.stack import airflow

    airflow.migrate(warehouse)
    os.environ.update(airflow.env(warehouse))
    return warehouse


@pytest.fixture(scope="session")
def airflow_api(airflow_ready):
    """Base URL of Airflow's API server (FAB auth manager, the project's plugin), started once.

    Only the API server: no test here needs the scheduler. Stopped at the end of the session,
    but only if this session started it.
    """
    from mimamori.stack import airflow, procs

    started_here = procs.read_pid(airflow_ready, "airflow-api-server") is None
    argv = airflow.service_argv(airflow_ready, "airflow-api-server")
    procs.start(airflow_ready, "airflow-api-server", argv, env=airflow.env(airflow_ready))
    try:
        airflow.wait_healthy(airflow_ready, timeout=180)
        yield airflow.url(airflow_ready)
    finally:
        if started_here:
            procs.stop(airflow_ready, "airflow-api-server")


@pytest.fixture(scope="session")
def superset(warehouse):
    """Base URL of the suite's Superset: set up (idempotent), started and healthy.

    Stopped at the end of the session, but only if this session started it.
    """
    from mimamori.stack import superset as ss

    ss.init(warehouse)
    started_here = ss.running(warehouse) is None
    ss.start(warehouse)
    try:
        ss.wait_healthy(warehouse, timeout=120)
        yield ss.url(warehouse)
    finally:
        if started_here:
            ss.stop(warehouse)


@pytest.fixture(scope="session")
def docs_site(settings):
    """Base URL of the docs site (the project's static server with security headers)."""
    from mimamori.stack import docs, procs

    started_here = procs.read_pid(settings, "docs") is None
    docs.start(settings)
    yield settings.docs_url
    if started_here:
        docs.stop(settings)


# --- the case screen (tests/casescreen, tests/security) ------------------------------------------
# Its fixture data and helpers are in tests/casescreen/cs_fixtures.py.


@pytest.fixture(scope="session")
def cs_config(warehouse):
    """The screen's configuration on the fixture schemas, its tables created, four staff accounts."""
    import uuid

    sys.path.insert(0, str(REPO / "tests" / "casescreen"))
    from cs_fixtures import CW, HIST, PASSWORD, PASSWORDS, PUB, _create_fixture_schemas, apply_access
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
        apply_access(conn)  # the audience declaration on the fixture schemas, as publication applies it
    repo._columns_cache.clear()
    with pg.connect(warehouse, role="casework") as conn:
        for username, (role, display) in PASSWORDS.items():
            auth.add_user(conn, CW, username, role, PASSWORD, display)
    yield config
    with pg.connect(warehouse, autocommit=True) as conn:
        for schema in (PUB, HIST, CW):
            conn.execute(f"drop schema if exists {schema} cascade")
    repo._columns_cache.clear()


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


# Suites that build the warehouse for a town of their own run before the session's shared judged
# town (town_fixtures.judged_town) is built, so they cannot overwrite the marts its users read:
# the DAG runs (seed 42, two months) and the identity evaluation (an untuned seed) come first.
_FIRST = ("airflow", "identity")
# The privacy scan reads everything the session wrote, so it runs after every other test.
_LAST = ("privacy",)


def pytest_collection_modifyitems(session, config, items):
    def rank(item) -> int:
        parts = Path(str(item.fspath)).relative_to(REPO / "tests").parts
        top = parts[0] if parts else ""
        if top in _FIRST:
            return _FIRST.index(top)
        return len(_FIRST) + (1 if top in _LAST else 0)

    items.sort(key=rank)  # stable: the order inside each group is kept
