"""Browser-level fixtures: a running Superset (once per session) and fresh chromium pages."""

from __future__ import annotations

import pytest


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


@pytest.fixture()
def browser_context():
    """A fresh headless Debian-chromium context (throw-away profile, ja-JP, Asia/Tokyo)."""
    from mimamori.browser import chromium

    with chromium() as context:
        yield context


@pytest.fixture()
def page(browser_context):
    return browser_context.new_page()
