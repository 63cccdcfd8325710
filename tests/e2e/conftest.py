"""Browser-level fixtures: fresh chromium pages (the session's Superset is in tests/conftest.py)."""

from __future__ import annotations

import json

import pytest
from town_fixtures import build_evaluation, conference_on_case_screen


@pytest.fixture()
def browser_context():
    """A fresh headless Debian-chromium context (throw-away profile, ja-JP, Asia/Tokyo)."""
    from mimamori.browser import chromium

    with chromium() as context:
        yield context


@pytest.fixture()
def page(browser_context):
    return browser_context.new_page()


# =============================================================================================
# Dashboards (tests/e2e/test_dashboards.py): `dashboard_month` is a real published month — the
# session's judged town (tests/town_fixtures.py) published with the real publication code (the
# audience declaration's grants and row-level security applied, as in production), twice: as the
# 16th's run leaves it (no conference yet), then re-run after the conference, whose outcomes the
# coordinator recorded on the real case screen. The 検証 dashboard's yield (ev_yield) is read in
# both states: empty before, the recorded counts after.
# =============================================================================================


def _latest_publication(settings) -> str | None:
    from mimamori.stack import pg

    with pg.connect(settings, autocommit=True) as conn:
        if not conn.execute("select to_regclass('published.publication') is not null").fetchone()[0]:
            return None
        if not conn.execute("select count(*) from published.publication").fetchone()[0]:
            return None
        # The dashboards open on the newest published month (max run_month in history), which is
        # the latest publication unless an older month was re-run and published again since.
        row = conn.execute("select max(run_month) from history.child_scores").fetchone()
    return row[0] if row else None


#: The coordinator who records the conference on the case screen (an account of this fixture's own).
RECORDER = "e2e_conference"


def _ev_yield_rows(api, settings, month: str) -> list[dict]:
    """ev_yield's data for the month as the 検証 dashboard asks Superset for it."""
    import yaml
    from mimamori import superset_assets as sa

    uuid_ = yaml.safe_load((sa.bundle_dir(settings) / "charts" / "ev_yield.yaml").read_text(encoding="utf-8"))["uuid"]
    cid = next(c["id"] for c in api.list_all("/api/v1/chart/", ("id", "uuid")) if c["uuid"] == uuid_)
    context = json.loads(api.get_json(f"/api/v1/chart/{cid}")["result"]["query_context"])
    context["datasource"] = {"id": context["datasource"]["id"], "type": "table"}
    for query in context["queries"]:
        query["filters"] = [*query.get("filters", []), {"col": "run_month", "op": "IN", "val": [month]}]
    return api.call("POST", "/api/v1/chart/data", json=context).json()["result"][0]["data"]


@pytest.fixture(scope="session")
def dashboard_month(superset, warehouse, judged_town):
    """The month the dashboards must show, with the bundle imported and the roles provisioned.

    Yields a dict: run_month, schemas (logical → actual), import_stats, and for the yield:
    yield_before (ev_yield's rows for the month before the conference, as Superset served them),
    outstanding_before (current outcomes of judged months up to the month, in casework, then) and
    recorded ([(person_id, outcome)] the coordinator saved on the case screen).
    """
    from mimamori import pipeline, publish, superset_assets
    from mimamori.stack import pg

    month = judged_town.month
    with pg.connect(warehouse, autocommit=True) as conn:
        outstanding = conn.execute(
            "select count(*) from casework.conference_outcomes where superseded_by is null and judged_run_month <= %s",
            (month,),
        ).fetchone()[0]
    # the 16th's run: the month published before any conference on it
    build_evaluation(warehouse, month)
    tables, pseudo = pipeline.published_relations(warehouse)
    publish.publish(warehouse, month, tables, pseudo)
    schemas = {"history": "history", "published_pseudo": "published_pseudo"}
    api = superset_assets.admin_api(warehouse)
    stats = superset_assets.import_bundle(warehouse, schemas=schemas, api=api)
    superset_assets.provision_roles(warehouse, api=api)
    before = _ev_yield_rows(api, warehouse, month)
    # after the conference: the outcomes recorded on the case screen, the month re-run and published
    with conference_on_case_screen(warehouse, month, RECORDER) as recorded:
        build_evaluation(warehouse, month)
        publish.publish(warehouse, month, tables, pseudo)
    build_evaluation(warehouse, month)  # the marts as the judged town left them (history keeps the yield)
    assert _latest_publication(warehouse) == month, "an older month would open the dashboards"
    return {
        "run_month": month,
        "schemas": schemas,
        "import_stats": stats,
        "yield_before": before,
        "outstanding_before": outstanding,
        "recorded": recorded,
    }
