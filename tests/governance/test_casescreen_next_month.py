"""The case screen feeds the next monthly run (domain.md §6, issue 9).

A caseworker records 要支援 for a flagged child of the published month (2026-10) and enters a
paper-only item through the screen; the next month's run (2026-11: its extracts loaded, the
judgement rebuilt) excludes the child from the candidates until the review date, counts the
hand-entered item with its origin, and every step is in the audit table. The shared judged town
is rebuilt for 2026-10 afterwards.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from town_fixtures import NEXT_MONTH, PSEUDO_KEY

from governance.conftest import MONTH, csrf_of, login

USERNAME = "next_month_cw"
PASSWORD = "next-month-caseworker-pw-42"
ITEM = "I33"  # 給食費の滞納: set by hand from a paper ledger


def _run_month(settings, month: str):
    """`dbt run` of the whole project for `month` (the judged town's pseudonym key)."""
    from mimamori import dbt

    return dbt.run(
        dataclasses.replace(settings, pseudo_key=PSEUDO_KEY), ["run"], run_month=month, log=lambda _line: None
    )


@pytest.fixture(scope="module")
def next_run(published_town):
    from fastapi.testclient import TestClient
    from mimamori.casescreen import auth
    from mimamori.casescreen import repo as cs_repo
    from mimamori.casescreen.app import create_app
    from mimamori.casescreen.config import load_config
    from mimamori.casescreen.schema import init_db
    from mimamori.stack import pg

    settings = published_town.settings
    config = load_config(settings, secret_key=uuid.uuid4().hex)
    init_db(config)
    cs_repo._columns_cache.clear()
    with pg.connect(settings, autocommit=True) as conn:
        child = conn.execute(
            f"""select c.person_id from published.candidate_children c
                join published.child_item_matches m on m.person_id = c.person_id and m.item_code = '{ITEM}'
                where m.status <> 'true' order by c.total_points desc, c.person_id limit 1"""
        ).fetchone()[0]
        audit_from = conn.execute("select coalesce(max(audit_id), 0) from casework.audit_log").fetchone()[0]
    with pg.connect(settings, role="casework") as conn:
        auth.add_user(conn, "casework", USERNAME, "caseworker", PASSWORD, "次月テスト")
    try:
        with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
            login(client, USERNAME, PASSWORD)
            token = csrf_of(client.get(f"/children/{child}").text)
            outcome = client.post(
                f"/children/{child}/outcomes",
                data={
                    "csrf_token": token,
                    "run_month": MONTH,
                    "outcome": "要支援",
                    "reasons": "会議で支援が必要と判断",
                    "support_actions": ["面談", "家庭訪問"],
                    "responsible": "こども支援班",
                    "next_review_date": "2027-03-31",
                },
            )
            entry = client.post(
                f"/children/{child}/hand-entries",
                data={
                    "csrf_token": token,
                    "item_code": ITEM,
                    "value": "true",
                    "as_of_date": f"{NEXT_MONTH}-01",
                    "origin": "紙台帳",
                },
                follow_redirects=False,
            )
            # The next monthly run: November's extracts arrive and the judgement runs for November.
            from mimamori.ingest.load import ingest_month

            loaded = ingest_month(
                NEXT_MONTH,
                published_town.town_dir / "inbox",
                settings.dsn(role="loader"),
                published_town.town_dir / "quarantine",
                log=lambda _line: None,
            )
            assert all(result.ok for result in loaded.values())
            rebuilt = _run_month(settings, NEXT_MONTH)
            cs_repo._columns_cache.clear()
            with pg.connect(settings, autocommit=True) as conn:
                excluded = conn.execute(
                    "select rule_code from marts.child_exclusions where person_id = %s", (child,)
                ).fetchall()
                still_candidate = conn.execute(
                    "select count(*) from marts.candidate_children where person_id = %s", (child,)
                ).fetchone()[0]
                item = conn.execute(
                    "select status, hand_entry_origin from marts.child_item_matches where person_id = %s"
                    " and item_code = %s",
                    (child, ITEM),
                ).fetchone()
                audit = conn.execute(
                    "select action from casework.audit_log where audit_id > %s and username = %s",
                    (audit_from, USERNAME),
                ).fetchall()
            yield {
                "outcome": outcome.status_code,
                "entry": entry.status_code,
                "rebuilt": rebuilt.ok,
                "excluded": {r[0] for r in excluded},
                "still_candidate": still_candidate,
                "item": item,
                "audit": [r[0] for r in audit],
            }
    finally:
        with pg.connect(settings, autocommit=True) as conn:
            conn.execute(
                "delete from casework.hand_entries where person_id = %s and entered_by = %s", (child, USERNAME)
            )
            conn.execute("update casework.conference_outcomes set superseded_by = null where person_id = %s", (child,))
            conn.execute(
                "delete from casework.conference_outcomes where person_id = %s and decided_by = %s", (child, USERNAME)
            )
        assert _run_month(settings, MONTH).ok, "could not restore the judged town"


def test_the_screen_saved_the_outcome_and_the_paper_item(next_run):
    assert next_run["outcome"] == 200
    assert next_run["entry"] == 303
    assert next_run["rebuilt"]


def test_next_run_excludes_a_child_under_support_until_its_review(next_run):
    assert "outcome_needs_support" in next_run["excluded"]
    assert next_run["still_candidate"] == 0


def test_next_run_counts_the_hand_entered_item_with_its_origin(next_run):
    assert next_run["item"] == ("true", "紙台帳")


def test_every_step_is_in_the_audit_table(next_run):
    assert {"login", "view_child", "record_outcome", "hand_entry"} <= set(next_run["audit"])
