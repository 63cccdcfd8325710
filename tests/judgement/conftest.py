"""Fixtures of the judgement tests; the judged town itself is shared (tests/town_fixtures.py)."""

from __future__ import annotations

import pytest
from town_fixtures import MONTH, PSEUDO_KEY, SEED, JudgedTown  # noqa: F401  (re-exported for the tests)


@pytest.fixture()
def judged_conn(judged_town):
    from mimamori.stack import pg

    with pg.connect(judged_town.settings, autocommit=True) as conn:
        yield conn
