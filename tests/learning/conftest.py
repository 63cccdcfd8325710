"""Fixtures of the learning tests (issue #23); the judged town itself is shared (tests/town_fixtures.py)."""

from __future__ import annotations

import pytest
from town_fixtures import build_evaluation, conference_on_case_screen

#: The coordinator who records the learning tests' conference (an account of this suite's own).
RECORDER = "learning_conference"


@pytest.fixture()
def judged_conn(judged_town):
    from mimamori.stack import pg

    with pg.connect(judged_town.settings, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="module")
def conference(published_town):
    """The conference on the published judged month, recorded once per module the way a
    coordinator does it — through the case screen over HTTP (login, CSRF, the outcome form) —
    and the evaluation marts rebuilt with it; afterwards the outcomes are removed and the marts
    rebuilt as the judged town left them. Yields [(person_id, outcome)] in candidate order."""
    settings, month = published_town.settings, published_town.month
    with conference_on_case_screen(settings, month, RECORDER) as recorded:
        build_evaluation(settings, month)
        yield recorded
    build_evaluation(settings, month)
