"""The case screen on the real published month, per role: pages, prints and hand entry stay in scope.

The school board sees its pupils' school items only — no household member, no other department's
item — on the page and on the printed 情報収集シート; hand entry of another department's item is
refused and audited, and the database refuses it too when the application is bypassed. The
coordinator prints the full sheet for the school interview. Names are compared, never printed.
"""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest
from mimamori import access
from mimamori.stack import pg

PASSWORD = "boundary-" + uuid.uuid4().hex


class Hidden(list):
    """Names for comparison only: a failing test prints its fixtures, never these values."""

    def __repr__(self) -> str:
        return f"<{len(self)} name(s), not shown>"


USERS = {"sec_coord": "coordinator", "sec_sb": "school_board", "sec_nurse": "nurse"}


@pytest.fixture(scope="module")
def screen(published_month, warehouse):
    from fastapi.testclient import TestClient
    from mimamori.casescreen import auth
    from mimamori.casescreen.app import create_app
    from mimamori.casescreen.config import load_config

    config = load_config(warehouse, secret_key=uuid.uuid4().hex)
    with pg.connect(warehouse, role=access.PREAUTH_LOGIN) as conn:
        for username, role in USERS.items():
            auth.add_user(conn, config.casework_schema, username, role, PASSWORD, username)
    app = create_app(config)

    def client_for(username: str):
        client = TestClient(app, base_url="http://127.0.0.1")
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        done = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": ""})
        assert done.status_code == 200, f"login as {username} failed"
        return client

    return {username: client_for(username) for username in USERS}


@pytest.fixture(scope="module")
def pupil(published_month, warehouse):
    """A pupil on the register with a household, another department's item and a school item."""
    with pg.connect(warehouse, autocommit=True) as su:
        row = su.execute(
            """
            select m.person_id from published.child_item_matches m
            join published.child_affiliations a on a.person_id = m.person_id and a.is_on_school_register
            where m.status = 'true' and m.item_code <> all(%s)
              and (select count(*) from published.residents r join published.residents c
                   on c.household_id = r.household_id where c.person_id = m.person_id) >= 2
            order by m.person_id limit 1
            """,
            (sorted(access.declaration().visible_items("school_board")),),
        ).fetchone()
        assert row, "no pupil with a household and another department's item: the test would mean nothing"
        person_id = row[0]
        others = Hidden(
            r[0]
            for r in su.execute(
                "select r.name from published.residents r join published.residents c on c.household_id = r.household_id "
                "where c.person_id = %s and r.person_id <> c.person_id and r.name is not null",
                (person_id,),
            )
        )
        hidden_true = [
            r[0]
            for r in su.execute(
                "select item_code from published.child_item_matches where person_id = %s and status = 'true' "
                "and item_code <> all(%s)",
                (person_id, sorted(access.declaration().visible_items("school_board"))),
            )
        ]
    return {"person_id": person_id, "household_names": others, "hidden_true": hidden_true}


def _rows_shown(html: str) -> set[str]:
    return set(re.findall(r'data-item="([^"]+)"', html))


def test_the_school_boards_page_and_print_hold_its_pupils_school_items_only(screen, pupil):
    client = screen["sec_sb"]
    visible = access.declaration().visible_items("school_board")
    for path in (f"/children/{pupil['person_id']}", f"/children/{pupil['person_id']}/sheet"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.text
        shown = sum(1 for name in pupil["household_names"] if name in html)
        assert shown == 0, f"{path}: {shown} household member name(s) on the school board's page"
        leaked = [code for code in pupil["hidden_true"] if re.search(rf"\b{re.escape(code)}\b", html)]
        assert leaked == [], f"{path}: another department's item(s) {leaked} on the school board's page"
        assert 'id="household"' not in html
    assert _rows_shown(client.get(f"/children/{pupil['person_id']}").text) <= visible


def test_the_coordinator_prints_the_full_sheet(screen, pupil):
    html = screen["sec_coord"].get(f"/children/{pupil['person_id']}/sheet").text
    assert any(name in html for name in pupil["household_names"]), "the coordinator's sheet lacks the household"
    assert all(code in html for code in pupil["hidden_true"]), "the coordinator's sheet lacks an item"


def test_hand_entry_outside_the_department_is_refused_audited_and_walled(screen, pupil, warehouse):
    client = screen["sec_sb"]
    person = pupil["person_id"]
    page = client.get(f"/children/{person}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    welfare = pupil["hidden_true"][0]
    assert f'value="{welfare}"' not in page, "the school board is offered another department's item"
    with pg.connect(warehouse, autocommit=True) as su:
        before = su.execute("select count(*) from casework.hand_entries where person_id = %s", (person,)).fetchone()[0]
        last_audit = su.execute("select coalesce(max(audit_id), 0) from casework.audit_log").fetchone()[0]
    response = client.post(
        f"/children/{person}/hand-entries",
        data={
            "csrf_token": token,
            "item_code": welfare,
            "value": "true",
            "as_of_date": "2026-10-01",
            "origin": "紙台帳",
        },
    )
    assert response.status_code == 403
    with pg.connect(warehouse, autocommit=True) as su:
        after = su.execute("select count(*) from casework.hand_entries where person_id = %s", (person,)).fetchone()[0]
        denied = su.execute(
            "select count(*) from casework.audit_log where audit_id > %s and username = 'sec_sb' "
            "and action = 'denied_action' and object_id = %s",
            (last_audit, person),
        ).fetchone()[0]
    assert after == before and denied == 1
    # the application bypassed: the school board's own login cannot write it either
    with pg.connect(warehouse, role="case_school_board") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "insert into casework.hand_entries (person_id, item_code, value, as_of_date, origin, entered_by) "
                "values (%s, %s, true, date '2026-10-01', '紙台帳', 'probe')",
                (person, welfare),
            )
    # … while a school item for its pupil is allowed (rolled back: the next run must not see it)
    school_item = sorted(access.declaration().editable_items("school_board"))[0]
    with pg.connect(warehouse, role="case_school_board") as conn:
        conn.execute(
            "insert into casework.hand_entries (person_id, item_code, value, as_of_date, origin, entered_by) "
            "values (%s, %s, true, date '2026-10-01', '紙台帳', 'probe')",
            (person, school_item),
        )
        conn.rollback()


def test_actions_a_role_may_not_take_are_refused_and_audited(screen, pupil, warehouse):
    with pg.connect(warehouse, autocommit=True) as su:
        last_audit = su.execute("select coalesce(max(audit_id), 0) from casework.audit_log").fetchone()[0]
    assert screen["sec_sb"].get("/identity").status_code == 403
    assert screen["sec_nurse"].get("/audit").status_code == 403
    with pg.connect(warehouse, autocommit=True) as su:
        rows = su.execute(
            "select username, detail->>'permission' from casework.audit_log where audit_id > %s "
            "and action = 'denied_action' order by audit_id",
            (last_audit,),
        ).fetchall()
    assert rows == [("sec_sb", "identity"), ("sec_nurse", "audit")]
