"""Browser-level fixtures: fresh chromium pages (the session's Superset is in tests/conftest.py)."""

from __future__ import annotations

import contextlib
import itertools

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
# newest one the monthly DAG published earlier in the session (tests/airflow) or, when this
# directory runs alone, the session's judged town published here with the real publication code
# (the audience declaration's grants and row-level security applied, as in production).
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


@contextlib.contextmanager
def _conference_outcomes(settings, month: str):
    """The coordinator records the conference's outcomes for the month's proposed children
    (casework.conference_outcomes, as the case screen does) and the evaluation marts are built
    with them (dbt), so the 検証 dashboard's yield (ev_yield) has a judged month to show. The
    outcomes are removed afterwards — the published month keeps its yield — so the suites after
    this one (tests/learning records its own) find the casework as the judged town left it."""
    from mimamori import dbt
    from mimamori.stack import pg

    ids: list[int] = []
    with pg.connect(settings, autocommit=True) as conn:
        proposed = conn.execute(
            "select unnest(string_to_array(person_ids, ' ')), household_id from marts.household_candidates"
            " where is_proposed order by household_rank"
        ).fetchall()
        assert proposed, "the judged month proposes nobody: the yield would prove nothing"
        try:
            for (person, household), outcome in zip(proposed, itertools.cycle(OUTCOMES)):
                ids.append(
                    conn.execute(
                        "insert into casework.conference_outcomes (person_id, household_id, judged_run_month,"
                        " outcome, decided_by) values (%s, %s, %s, %s, 'e2e') returning outcome_id",
                        (person, household, month, outcome),
                    ).fetchone()[0]
                )
            lines: list[str] = []
            result = dbt.run(
                settings,
                ["build", "--select", "evaluation_children", "conference_outcome_history", "outcome_yield"],
                run_month=month,
                log=lines.append,
            )
            assert result.ok, "dbt build of the evaluation marts failed: " + ", ".join(result.failures)
            yield
        finally:
            for outcome_id in ids:
                conn.execute("delete from casework.conference_outcomes where outcome_id = %s", (outcome_id,))


@pytest.fixture(scope="session")
def dashboard_month(superset, warehouse, request):
    """The month the dashboards must show, with the bundle imported and the roles provisioned.

    Yields a dict: run_month, schemas (logical → actual), import_stats.
    """
    from mimamori import superset_assets

    month = _latest_publication(warehouse)
    if not month:
        from mimamori import pipeline, publish

        town = request.getfixturevalue("judged_town")
        with _conference_outcomes(warehouse, town.month):
            tables, pseudo = pipeline.published_relations(warehouse)
            publish.publish(warehouse, town.month, tables, pseudo)
        month = _latest_publication(warehouse)
    schemas = {"history": "history", "published_pseudo": "published_pseudo"}
    api = superset_assets.admin_api(warehouse)
    stats = superset_assets.import_bundle(warehouse, schemas=schemas, api=api)
    superset_assets.provision_roles(warehouse, api=api)
    return {"run_month": month, "schemas": schemas, "import_stats": stats}
