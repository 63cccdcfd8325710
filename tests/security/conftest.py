"""Fixtures of the boundary tests: a real published month, the declaration, logins per audience.

The tests attack the suite's real warehouse the way a user of each audience could: with that
audience's own PostgreSQL login and any SQL. They need a published month: the one the monthly DAG
published earlier in the session (tests/airflow), or — when this directory runs alone — the
session's judged town, published here with the real publication code.
"""

from __future__ import annotations

import pytest


def latest_publication(settings) -> str | None:
    from mimamori.stack import pg

    with pg.connect(settings, autocommit=True) as conn:
        if not conn.execute("select to_regclass('published.publication') is not null").fetchone()[0]:
            return None
        row = conn.execute("select run_month from published.publication order by published_at desc limit 1").fetchone()
    return row[0] if row else None


@pytest.fixture(scope="session")
def published_month(warehouse, request) -> str:
    """The month the audiences read now (published with the audience declaration applied), and the
    case screen's tables (created as `make up` creates them)."""
    from mimamori import pipeline, publish
    from mimamori.casescreen.config import load_config
    from mimamori.casescreen.schema import init_db
    from mimamori.stack import pg

    # Publish what the marts hold now, whatever earlier tests did to the published schemas (the
    # publication tests publish their own tables there; a publication drops pseudonymised tables
    # it does not list): the probes need one coherent month, published as production does.
    with pg.connect(warehouse, autocommit=True) as conn:
        built = (
            conn.execute("select to_regclass('marts.children') is not null").fetchone()[0]
            and conn.execute("select max(run_month) from marts.children").fetchone()[0]
        )
    month = built or request.getfixturevalue("judged_town").month
    tables, pseudo = pipeline.published_relations(warehouse)
    publish.publish(warehouse, month, tables, pseudo)
    init_db(load_config(warehouse))
    return month


@pytest.fixture(scope="session")
def decl(warehouse):
    from mimamori import access

    return access.declaration(str(warehouse.root))


@pytest.fixture()
def su(warehouse):
    """The cluster's superuser on the warehouse (autocommit): the reference the probes compare with."""
    from mimamori.stack import pg

    with pg.connect(warehouse, autocommit=True) as conn:
        yield conn
