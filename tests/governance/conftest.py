"""Fixtures of the governance tests (issue 11).

They reuse the judged synthetic town of tests/judgement (``judged_town``: seed 42, scale 1, run
month 2026-10, one ``dbt build``) and publish that month once, so the case screen and the
transparency report read a real published month (``judged_town`` and ``published_town`` are the
suite-wide fixtures of tests/town_fixtures.py, built once per session).
"""

from __future__ import annotations

import re

import pytest
from town_fixtures import MONTH  # noqa: F401  (the governance tests import the month from here)

PREV_MONTH = "2026-09"


@pytest.fixture()
def gov_conn(published_town):
    from mimamori.stack import pg

    with pg.connect(published_town.settings, autocommit=True) as conn:
        yield conn


def csrf_of(html: str) -> str:
    """The CSRF token of the case screen's form on this page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username: str, password: str):
    """Log in through the case screen's form; returns the response itself (303 on success)."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": ""},
        follow_redirects=False,
    )
