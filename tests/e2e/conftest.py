"""Browser-level fixtures: fresh chromium pages (the session's Superset is in tests/conftest.py)."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import uuid
from datetime import date, timedelta

import pytest


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


#: What the conference decided for the month's proposed children, in candidate order (cycled).
OUTCOMES = ("要支援", "調査継続", "経過観察", "支援不要", "要支援", "支援不要")
#: The coordinator who records them on the case screen (an account of this fixture's own).
RECORDER = "e2e_conference"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _build_evaluation(settings, month: str) -> None:
    """The evaluation marts rebuilt for the month (real dbt, their data and unit tests included),
    as the month's run does: they read casework.conference_outcomes as it is now."""
    from mimamori import dbt

    lines: list[str] = []
    result = dbt.run(
        settings,
        ["build", "--select", "evaluation_children", "conference_outcome_history", "outcome_yield"],
        run_month=month,
        log=lines.append,
    )
    assert result.ok, "dbt build of the evaluation marts failed: " + ", ".join(result.failures)


@contextlib.contextmanager
def _conference_outcomes(settings, month: str):
    """The coordinator records the conference's outcomes for the month's proposed children through
    the case screen (the FastAPI app itself: login, CSRF, the outcome form, validation, audit), as
    staff do after the conference. Yields [(person_id, outcome)]. The outcomes are removed
    afterwards — a republished month keeps its yield in history — so the suites after this one
    (tests/learning, tests/governance record their own) find the casework as the judged town left it."""
    from fastapi.testclient import TestClient
    from mimamori import access
    from mimamori.casescreen import auth
    from mimamori.casescreen import repo as cs_repo
    from mimamori.casescreen.app import create_app
    from mimamori.casescreen.config import load_config
    from mimamori.casescreen.schema import init_db
    from mimamori.stack import pg

    config = load_config(settings, secret_key=uuid.uuid4().hex)
    init_db(config)
    cs_repo._columns_cache.clear()
    password = "e2e-" + uuid.uuid4().hex
    with pg.connect(settings, role=access.PREAUTH_LOGIN) as conn:
        auth.add_user(conn, config.casework_schema, RECORDER, "coordinator", password, "会議の記録")
    with pg.connect(settings, autocommit=True) as conn:
        proposed = conn.execute(
            "select unnest(string_to_array(person_ids, ' ')) from published.household_candidates"
            " where is_proposed order by household_rank"
        ).fetchall()
    assert proposed, "the judged month proposes nobody: the yield would prove nothing"
    review = (date.today() + timedelta(days=90)).isoformat()
    recorded: list[tuple[str, str]] = []
    try:
        with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
            login = client.post(
                "/login",
                data={
                    "username": RECORDER,
                    "password": password,
                    "csrf_token": _csrf(client.get("/login").text),
                    "next": "",
                },
                follow_redirects=False,
            )
            assert login.status_code == 303, f"the coordinator could not log in: {login.status_code}"
            for (person,), outcome in zip(proposed, itertools.cycle(OUTCOMES)):
                page = client.get(f"/children/{person}")
                assert page.status_code == 200, f"the child's page: {page.status_code}"
                saved = client.post(
                    f"/children/{person}/outcomes",
                    data={
                        "csrf_token": _csrf(page.text),
                        "run_month": month,
                        "outcome": outcome,
                        "reasons": "会議での検討結果",
                        "support_actions": ["面談"] if outcome == "要支援" else [],
                        "responsible": "こども家庭センター",
                        "next_review_date": review,
                    },
                    follow_redirects=False,
                )
                assert saved.status_code == 303 and "saved=outcome" in saved.headers["location"], (
                    f"the case screen did not save the outcome: {saved.status_code}"
                )
                recorded.append((person, outcome))
        yield recorded
    finally:
        with pg.connect(settings, autocommit=True) as conn:
            conn.execute("delete from casework.conference_outcomes where decided_by = %s", (RECORDER,))


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
    _build_evaluation(warehouse, month)
    tables, pseudo = pipeline.published_relations(warehouse)
    publish.publish(warehouse, month, tables, pseudo)
    schemas = {"history": "history", "published_pseudo": "published_pseudo"}
    api = superset_assets.admin_api(warehouse)
    stats = superset_assets.import_bundle(warehouse, schemas=schemas, api=api)
    superset_assets.provision_roles(warehouse, api=api)
    before = _ev_yield_rows(api, warehouse, month)
    # after the conference: the outcomes recorded on the case screen, the month re-run and published
    with _conference_outcomes(warehouse, month) as recorded:
        _build_evaluation(warehouse, month)
        publish.publish(warehouse, month, tables, pseudo)
    _build_evaluation(warehouse, month)  # the marts as the judged town left them (history keeps the yield)
    assert _latest_publication(warehouse) == month, "an older month would open the dashboards"
    return {
        "run_month": month,
        "schemas": schemas,
        "import_stats": stats,
        "yield_before": before,
        "outstanding_before": outstanding,
        "recorded": recorded,
    }
