"""The application over HTTP (in-process): access by role, CSRF, expiry, DV masking, audit, forms."""

from __future__ import annotations

import pytest
from cs_fixtures import CW, DV_ADDRESS, MONTH, PLAIN_ADDRESS, csrf_of, login
from mimamori.casescreen.vocab import ITEMS


def audit_actions(conn, username, since_id=0):
    return [
        (r[0], r[1])
        for r in conn.execute(
            f"select action, object_id from {CW}.audit_log where username = %s and audit_id > %s order by audit_id",
            (username, since_id),
        ).fetchall()
    ]


def last_audit_id(conn):
    return conn.execute(f"select coalesce(max(audit_id), 0) from {CW}.audit_log").fetchone()[0]


def test_pages_need_a_login(client):
    for path in ("/candidates", "/children/100002", "/children/100002/sheet", "/identity", "/audit"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_login_needs_the_forms_csrf_token_and_a_right_password(client, cw_conn):
    client.get("/login")
    assert client.post("/login", data={"username": "cw", "password": "correct-horse-battery-42"}).status_code == 403
    start = last_audit_id(cw_conn)
    bad = login(client, "cw", "wrong-password")
    assert bad.status_code == 401 and "ユーザー名またはパスワードが正しくありません" in bad.text
    assert audit_actions(cw_conn, "cw", start) == [("login_failed", None)]
    good = login(client, "cw")
    assert good.status_code == 200 and "候補世帯" in good.text
    assert client.cookies.get("mm_session")


def test_security_headers_and_no_caching(client):
    login(client, "cw")
    response = client.get("/children/100002")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"


def test_candidates_and_follow_ups(client):
    login(client, "cw")
    page = client.get("/candidates").text
    assert f"{MONTH} の支援優先度の高い世帯" in page
    for name in ("山田　太郎", "佐藤　さくら", "鈴木　一郎"):
        assert name in page
    listed = "山田　次郎" in page  # not flagged
    assert not listed, "a child who is not flagged is listed"
    assert "田中　陽" in page and "経過観察" in page  # a follow-up, not a candidate
    assert "risk" not in page.lower() and "リスク" not in page


def test_child_page_shows_why_with_sources_and_no_data(client):
    login(client, "cw")
    page = client.get("/children/100002").text
    assert "気づきの理由" in page and "貧困" in page and "ヤングケアラー" in page
    assert "生活保護受給世帯" in page and "福祉班 生活保護.csv" in page and "PA-0012" in page and "2025-04-01" in page
    assert "データなし" in page  # I06 unknown and every item without a row
    assert PLAIN_ADDRESS in page  # an ordinary household's address is shown
    assert "開成小学校" in page  # affiliation
    assert "2026-08" in page and "2026-09" in page  # score history across published months
    assert "山田　花子" in page  # household


def test_a_dv_protected_address_never_appears(client):
    """A child whose household has a resident under 支援措置: no page or sheet shows the address."""
    login(client, "coord")
    pages = [
        client.get(p).text
        for p in (
            "/candidates",
            "/children/200002",
            "/children/200002/sheet",
            "/identity",
            "/audit",
            "/children/100002",
            "/children/100002/sheet",
        )
    ]
    for page in pages:
        found = DV_ADDRESS in page
        assert not found, "the protected address is on the page"
    assert "支援措置の対象者がいるため表示しません" in pages[1]
    assert "手入力（紙台帳）" in pages[1]  # a hand-entered item in force, shown with its origin
    assert "（表示しません）" in pages[2] and "支援措置" not in pages[2]  # the printout does not say why


def test_school_board_sees_only_children_on_the_school_register(client, cw_conn):
    login(client, "sb")
    candidates = client.get("/candidates").text
    assert "山田　太郎" in candidates and "佐藤　さくら" in candidates
    assert "鈴木　一郎" not in candidates  # 0 years old: not on the 学齢簿
    assert client.get("/children/100002").status_code == 200
    start = last_audit_id(cw_conn)
    denied = client.get("/children/300002")
    assert denied.status_code == 403 and "学齢簿に載っていない" in denied.text
    assert client.get("/children/300002/sheet").status_code == 403
    assert audit_actions(cw_conn, "sb", start) == [("denied_child", "300002"), ("denied_child", "300002")]
    assert client.get("/identity").status_code == 403
    assert client.get("/audit").status_code == 403


def test_only_the_coordinator_sees_the_audit_page(client):
    login(client, "nurse")
    assert client.get("/audit").status_code == 403
    assert client.get("/identity").status_code == 403  # identity review: coordinator and caseworkers
    client.cookies.clear()
    login(client, "coord")
    page = client.get("/audit")
    assert page.status_code == 200 and "監査ログ" in page.text


def test_unknown_or_adult_persons_are_not_found(client):
    login(client, "cw")
    assert client.get("/children/999999").status_code == 404
    assert client.get("/children/100001").status_code == 404  # the mother: not a child in scope


def test_posts_without_the_sessions_csrf_token_are_refused_and_save_nothing(client, cw_conn):
    login(client, "cw")
    before = cw_conn.execute(f"select count(*) from {CW}.hand_entries").fetchone()[0]
    form = {"item_code": "I06", "value": "true", "as_of_date": "2026-10-01", "origin": "紙台帳"}
    for token in (None, "forged"):
        data = dict(form, **({"csrf_token": token} if token else {}))
        response = client.post("/children/100002/hand-entries", data=data)
        assert response.status_code == 403 and "不正な送信" in response.text
    assert cw_conn.execute(f"select count(*) from {CW}.hand_entries").fetchone()[0] == before


def test_bad_outcome_input_gets_a_message_and_saves_nothing(client, cw_conn):
    login(client, "cw")
    token = csrf_of(client.get("/children/100003").text)
    before = cw_conn.execute(f"select count(*) from {CW}.conference_outcomes").fetchone()[0]
    response = client.post(
        "/children/100003/outcomes",
        data={
            "csrf_token": token,
            "run_month": MONTH,
            "outcome": "要支援",
            "reasons": "理由",
            "responsible": "",
            "next_review_date": "2026-02-30",
        },
    )
    assert response.status_code == 422
    assert "保存していません" in response.text and "担当者を入力" in response.text
    assert "支援内容を1つ以上" in response.text and "実在する日付" in response.text
    assert 'value="理由"' not in response.text and ">理由</textarea>" in response.text  # the input is kept
    assert cw_conn.execute(f"select count(*) from {CW}.conference_outcomes").fetchone()[0] == before


def test_outcome_versions_are_kept(client, cw_conn):
    login(client, "nurse")
    token = csrf_of(client.get("/children/100003").text)
    form = {
        "csrf_token": token,
        "run_month": MONTH,
        "outcome": "経過観察",
        "reasons": "保育園から様子を聞く",
        "support_actions": ["見守り"],
        "responsible": "保健師 みどり",
        "next_review_date": "2027-03-01",
    }
    assert client.post("/children/100003/outcomes", data=form).status_code == 200
    # the same month again is a correction: refused without a reason, kept as version 2 with one
    again = client.post("/children/100003/outcomes", data=dict(form, outcome="調査継続"))
    assert again.status_code == 422 and "訂正の理由" in again.text
    page = client.post("/children/100003/outcomes", data=dict(form, outcome="調査継続", correction_reason="記入誤り"))
    assert page.status_code == 200 and "会議の判定を記録しました" in page.text
    rows = cw_conn.execute(
        f"select version, outcome, correction_reason, decided_by, judged_run_month, household_id, "
        f"superseded_by is not null from {CW}.conference_outcomes where person_id = '100003' order by version"
    ).fetchall()
    assert rows == [
        (1, "経過観察", None, "nurse", MONTH, "H001", True),
        (2, "調査継続", "記入誤り", "nurse", MONTH, "H001", False),
    ]


def test_every_item_can_be_hand_entered_through_the_screen(client, cw_conn):
    login(client, "cw")
    token = csrf_of(client.get("/children/400002").text)
    for code in ITEMS:
        response = client.post(
            "/children/400002/hand-entries",
            data={
                "csrf_token": token,
                "item_code": code,
                "value": "true",
                "as_of_date": "2026-10-01",
                "origin": "紙台帳",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, (code, response.text[:500])
    rows = cw_conn.execute(
        f"select item_code, value, origin, entered_by from {CW}.hand_entries where person_id = '400002'"
    ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(ITEMS)
    assert {(r[1], r[2], r[3]) for r in rows} == {(True, "紙台帳", "cw")}
    page = client.get("/children/400002").text
    assert page.count("該当あり・紙台帳・2026-10-01") == len(ITEMS)  # shown with its origin on every item


def test_school_board_cannot_record_outcomes(client, cw_conn):
    login(client, "sb")
    page = client.get("/children/100002").text
    assert "会議の判定を記録する" not in page
    token = csrf_of(page)
    response = client.post(
        "/children/100002/outcomes",
        data={"csrf_token": token, "run_month": MONTH, "outcome": "支援不要", "reasons": "x", "responsible": "y"},
    )
    assert response.status_code == 403


def test_identity_decisions(client, cw_conn):
    key = "gakko__school_register:S0017"
    login(client, "cw")
    page = client.get("/identity").text
    assert "ヤマダ　タロウ" in page and "山田　太朗" in page and "住所が一致" in page and "学齢簿.csv" in page
    assert "山田太朗" in page and "ヤマダタロ" in page  # as the matcher compared them
    assert "一致度（合計）" in page and "+8.3" in page and "13" in page  # the waterfall and the rule
    assert PLAIN_ADDRESS not in page
    token = csrf_of(page)
    bad = client.post("/identity/decisions", data={"csrf_token": token, "record_key": key, "person_id": "100002"})
    assert bad.status_code == 422 and "同一人物" in bad.text
    forged = client.post(
        "/identity/decisions",
        data={"csrf_token": token, "record_key": "other", "person_id": "100002", "decision": "same"},
    )
    assert forged.status_code == 422 and "確認キュー・未照合一覧にありません" in forged.text
    ok = client.post(
        "/identity/decisions",
        data={"csrf_token": token, "record_key": key, "person_id": "100003", "decision": "different"},
    )
    assert ok.status_code == 200 and "判断を記録しました" in ok.text
    assert "ヤマダ　ジロウ" not in ok.text and "ヤマダ　タロウ" in ok.text  # the other candidate is still open
    ok = client.post(
        "/identity/decisions", data={"csrf_token": token, "record_key": key, "person_id": "100002", "decision": "same"}
    )
    assert "確認待ちの記録はありません" in ok.text
    # the 未照合一覧: a record whose 宛名番号 is not on the register; a typed number must exist
    page = client.get("/identity/unmatched").text
    assert "相談記録.csv" in page and "999999" in page and 'id="unmatched-count">1<' in page
    unknown = client.post(
        "/identity/decisions",
        data={"csrf_token": token, "record_key": "fukushi__consultations:C-5", "person_id": "123456",
              "decision": "same", "back": "unmatched"},
    )  # fmt: skip
    assert unknown.status_code == 422 and "今月の住民記録にもありません" in unknown.text
    moved = client.post(
        "/identity/decisions",
        data={"csrf_token": token, "record_key": "fukushi__consultations:C-5", "decision": "not_in_town",
              "back": "unmatched"},
    )  # fmt: skip
    assert moved.status_code == 200 and "判断を記録しました" in moved.text
    rows = cw_conn.execute(
        f"select record_key, raw_table, record_id, run_month, person_id, decision, decided_by "
        f"from {CW}.identity_decisions order by decision_id"
    ).fetchall()
    assert rows == [
        (key, "gakko__school_register", "gakko__school_register:17", MONTH, "100003", "different", "cw"),
        (key, "gakko__school_register", "gakko__school_register:17", MONTH, "100002", "same", "cw"),
        ("fukushi__consultations:C-5", "fukushi__consultations", "fukushi__consultations:5", MONTH, None,
         "not_in_town", "cw"),
    ]  # fmt: skip


def test_idle_sessions_expire(client, cw_conn):
    login(client, "cw")
    assert client.get("/candidates").status_code == 200
    cw_conn.execute(f"update {CW}.staff_sessions set last_seen_at = now() - interval '31 minutes'")
    response = client.get("/candidates")
    assert response.url.path == "/login" and "一定時間操作がなかったため" in response.text


def test_logout_ends_the_session(client):
    page = login(client, "cw")
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert client.get("/candidates", follow_redirects=False).status_code == 303


def test_audit_rows_carry_ids_only(client, cw_conn):
    login(client, "cw")
    client.get("/children/100002")
    client.get("/children/100002/sheet")
    rows = cw_conn.execute(
        f"select username, action, object_id, detail::text, coalesce(client, '') from {CW}.audit_log"
    ).fetchall()
    text = repr(rows)
    for name in ("山田", "太郎", "ヤマダ", "開成町", "2016-06-10", "correct-horse"):
        assert name not in text
    actions = {r[1] for r in rows}
    assert {"login", "view_child", "export_sheet"} <= actions


@pytest.mark.parametrize("path", ["/children/100002", "/children/100002/sheet"])
def test_every_child_view_is_audited(client, cw_conn, path):
    login(client, "cw")
    start = last_audit_id(cw_conn)
    client.get(path)
    expected = "view_child" if path.endswith("100002") else "export_sheet"
    assert audit_actions(cw_conn, "cw", start) == [(expected, "100002")]
