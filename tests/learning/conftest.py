"""Fixtures of the learning tests (issue #23); the judged town itself is shared (tests/town_fixtures.py)."""

from __future__ import annotations

import pytest


@pytest.fixture()
def judged_conn(judged_town):
    from mimamori.stack import pg

    with pg.connect(judged_town.settings, autocommit=True) as conn:
        yield conn
