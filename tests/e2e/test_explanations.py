"""Every verdict explained in words, the same on the child page, the printed sheet and the dashboard.

For each role, every child × type of the published month that is flagged or reaches its threshold
(the school board: its pupils only) is compared three ways: the sentence and the items of the
explanation marts as that audience reads them (child_type_verdicts, child_type_items), the case
screen's page and print, and the 類型別詳細 dashboard's data. Counts and ids are reported, never
a name.
"""

from __future__ import annotations

import re
import uuid
from html import unescape

import pytest
from mimamori import access
from mimamori import superset_assets as sa
from mimamori.stack import pg

ROLES = {"coordinator": "coordinator", "caseworker": "staff", "school_board": "school_board"}
PASSWORD = "explain-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def month(dashboard_month):
    return dashboard_month["run_month"]


def mart_rows(settings, audience: str, month: str) -> dict[tuple[str, str], dict]:
    """(person, type) → sentence and items, read with the audience's own login (its row-level security)."""
    login = access.declaration().audiences[audience].casescreen_login
    out: dict[tuple[str, str], dict] = {}
    with pg.connect(settings, role=login, autocommit=True) as conn:
        for person, type_code, sentence, label in conn.execute(
            "select v.person_id, v.type_code, v.verdict_ja, v.verdict_label_ja from published.child_type_verdicts v "
            "join published.child_type_scores s using (run_month, person_id, type_code) "
            "where v.run_month = %s and (s.is_flagged or (s.is_in_age_range and s.score >= s.threshold))",
            (month,),
        ):
            out[(person, type_code)] = {"sentence": sentence, "label": label, "items": set()}
        for person, type_code, item, status in conn.execute(
            "select person_id, type_code, item_code, status from published.child_type_items where run_month = %s",
            (month,),
        ):
            if (person, type_code) in out:
                out[(person, type_code)]["items"].add((item, status))
    return out


@pytest.fixture(scope="module")
def screens(month, warehouse):
    from fastapi.testclient import TestClient
    from mimamori.casescreen import auth
    from mimamori.casescreen.app import create_app
    from mimamori.casescreen.config import load_config
    from mimamori.casescreen.schema import init_db

    config = load_config(warehouse, secret_key=uuid.uuid4().hex)
    init_db(config)
    with pg.connect(warehouse, role=access.PREAUTH_LOGIN) as conn:
        for role in ROLES:
            auth.add_user(conn, config.casework_schema, f"ex_{role}", role, PASSWORD, role)
    app = create_app(config)
    clients = {}
    for role in ROLES:
        client = TestClient(app, base_url="http://127.0.0.1")
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"username": f"ex_{role}", "password": PASSWORD, "csrf_token": token, "next": ""})
        clients[role] = client
    return clients


def _page_verdicts(html: str) -> dict[str, dict]:
    """type code → sentence and the items (code, status word) of the page's verdict table."""
    start = html.find('id="verdicts"')
    if start < 0:
        return {}
    ends = [i for i in (html.find(m, start) for m in ('id="items"', "<h2>5.", 'id="history"')) if i > 0]
    table = html[start : min(ends) if ends else len(html)]
    out = {}
    for chunk in table.split('<tr class="verdict-')[1:]:
        type_code = re.match(r'[^"]*" data-type="([^"]+)"', chunk).group(1)
        sentence = re.search(r'<p class="verdict-sentence">(.*?)</p>', chunk, re.S)
        items = set(
            re.findall(
                r'data-item="([^"]+)">\s*<td>.*?<td class="status">.*?<span class="word">(\S+?)</span></td>',
                chunk,
                re.S,
            )
        )
        out[type_code] = {"sentence": unescape(sentence.group(1).strip()) if sentence else None, "items": items}
    return out


STATUS_WORD = {"true": "該当", "false": "非該当", "unknown": "データなし"}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_child_page_and_the_sheet_say_what_the_mart_says(role, month, screens, settings):
    """Every child × type at or over its threshold: the page's sentence and items are the mart's."""
    audience = ROLES[role]
    expected = mart_rows(settings, audience, month)
    assert len(expected) >= 20, f"{role}: too few child × type rows at or over the threshold to mean anything"
    people = sorted({p for p, _ in expected})
    differing = 0
    for n, person in enumerate(people):
        # every child's page; the printed sheet (the same template part) for every tenth child
        paths = [f"/children/{person}"] + ([f"/children/{person}/sheet"] if n % 10 == 0 else [])
        for path in paths:
            html = screens[role].get(path).text
            shown = _page_verdicts(html)
            for (p, type_code), want in expected.items():
                if p != person:
                    continue
                got = shown.get(type_code)
                items = {(code, STATUS_WORD[status]) for code, status in want["items"]}
                if got is None or got["sentence"] != want["sentence"] or got["items"] != items:
                    differing += 1
    assert differing == 0, f"{role}: {differing} page(s)×type(s) differ from the mart (of {len(expected)})"


@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_dashboard_says_what_the_mart_says(role, month, dashboard_month, settings):
    from mimamori.stack import superset as ss

    audience = ROLES[role]
    expected = mart_rows(settings, audience, month)
    api = sa.Api.login(ss.url(settings), role, sa.user_password(settings, role))
    datasets = {r["table_name"]: r["id"] for r in api.list_all("/api/v1/dataset/", ("id", "table_name"))}
    body = {
        "datasource": {"id": datasets["mimamori_type_items"], "type": "table"},
        "force": True,
        "queries": [
            {
                "columns": ["person_id", "type_code", "verdict_ja", "item_code", "item_status_code"],
                "metrics": [],
                "filters": [{"col": "run_month", "op": "IN", "val": [month]}],
                "row_limit": 200000,
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }
    rows = api.call("POST", "/api/v1/chart/data", json=body).json()["result"][0]["data"]
    dashboard: dict[tuple[str, str], dict] = {}
    for row in rows:
        entry = dashboard.setdefault(
            (row["person_id"], row["type_code"]), {"sentence": row["verdict_ja"], "items": set()}
        )
        entry["items"].add((row["item_code"], row["item_status_code"]))
    differing = [
        key
        for key, want in expected.items()
        if dashboard.get(key) != {"sentence": want["sentence"], "items": want["items"]}
    ]
    assert not differing, (
        f"{role}: {len(differing)} of {len(expected)} child × type differ between the dashboard and the mart"
    )
    if audience == "school_board":
        visible = access.declaration().visible_items("school_board")
        assert {code for _, (code, _) in ((k, i) for k, v in dashboard.items() for i in v["items"])} <= visible


def test_restricted_wording_never_names_a_hidden_item(month, settings):
    decl = access.declaration()
    hidden = sorted(set(decl.items) - decl.visible_items("school_board"))
    expected = mart_rows(settings, "school_board", month)
    assert expected
    for want in expected.values():
        assert not any(re.search(rf"\b{code}\b", want["sentence"]) for code in hidden)
    with pg.connect(settings, role="case_school_board", autocommit=True) as conn:
        codes = {r[0] for r in conn.execute("select distinct verdict_code from published.child_type_verdicts")}
    assert codes <= {
        "out_of_age",
        "flagged",
        "not_flagged",
        "below_threshold",
        "pending",
        "required_unknown",
        "required_false",
    }
