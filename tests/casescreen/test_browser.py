"""The case screen in Debian's chromium (Playwright), served by uvicorn as `make up` serves it.

A caseworker logs in, opens a candidate, records 要支援 with a support action and enters an item
from a paper ledger; bad input gets a clear message and saves nothing; a school-board user cannot
open a child who is not on this month's 学齢簿; no page shows the address of a household with a
resident under 支援措置; every step is in the audit table. Screenshots go to
<artifacts_dir>/casescreen-*.png.
"""

from __future__ import annotations

import re

import pytest
from cs_fixtures import CW, DV_ADDRESS, MONTH, PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture()
def shots(cs_config):
    path = cs_config.settings.artifacts_dir
    path.mkdir(parents=True, exist_ok=True)
    return lambda page, name, **kw: page.screenshot(path=str(path / f"casescreen-{name}.png"), **kw)


@pytest.fixture()
def browser_page():
    from mimamori.browser import chromium

    with chromium() as context:
        yield context.new_page()


def browser_login(page, base, username):
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/candidates$"))


def audit_since(conn, username, start):
    return conn.execute(
        f"select action, object_id, detail from {CW}.audit_log where username = %s and audit_id > %s order by audit_id",
        (username, start),
    ).fetchall()


def test_caseworker_records_an_outcome_and_a_paper_item(casescreen_url, browser_page, cw_conn, shots):
    page, base = browser_page, casescreen_url
    start = cw_conn.execute(f"select coalesce(max(audit_id), 0) from {CW}.audit_log").fetchone()[0]
    outcomes_before = cw_conn.execute(f"select count(*) from {CW}.conference_outcomes").fetchone()[0]
    hand_before = cw_conn.execute(f"select count(*) from {CW}.hand_entries").fetchone()[0]

    page.goto(f"{base}/candidates")
    assert "/login" in page.url
    shots(page, "login")
    browser_login(page, base, "cw")
    assert page.get_by_text(f"{MONTH} の支援優先度の高い世帯").is_visible()
    shots(page, "candidates", full_page=True)

    page.click("a.child-link[data-person='100002']")
    page.wait_for_url(re.compile(r".*/children/100002$"))
    # the word beside the mark: a status never rests on colour or a symbol alone
    assert page.locator("tr[data-item='I08'] td.status .word").inner_text() == "該当"
    assert page.locator("tr[data-item='I06'] td.status .word").inner_text() == "データなし"
    assert (
        page.locator("tr[data-item='I08'] td.status .mark").inner_text()
        != page.locator("tr[data-item='I06'] td.status .mark").inner_text()
    )

    # bad input first: a message in Japanese, nothing saved, what was typed is kept
    page.check("input[name=outcome][value='要支援']")
    page.fill("textarea[name=reasons]", "欠席が増え、家庭の負担が大きい。")
    page.click("#save-outcome")
    errors = page.locator("#outcome-errors")
    assert errors.is_visible()
    text = errors.inner_text()
    assert "保存していません" in text and "支援内容を1つ以上" in text and "担当者を入力" in text
    assert page.locator("textarea[name=reasons]").input_value() == "欠席が増え、家庭の負担が大きい。"
    shots(page, "bad-input", full_page=False, clip=None)
    assert cw_conn.execute(f"select count(*) from {CW}.conference_outcomes").fetchone()[0] == outcomes_before

    # then the conference's decision: 要支援 with 面談 and 家庭訪問
    page.check("input[name=outcome][value='要支援']")
    page.check("input[name=support_actions][value='面談']")
    page.check("input[name=support_actions][value='家庭訪問']")
    page.fill("input[name=responsible]", "相談員 花子")
    page.fill("input[name=next_review_date]", "2027-02-01")
    page.click("#save-outcome")
    page.wait_for_url(re.compile(r".*/children/100002\?saved=outcome"))
    assert page.get_by_text("会議の判定を記録しました").is_visible()
    assert page.locator("#outcomes").get_by_text("面談、家庭訪問").is_visible()

    # a paper item: I06 from the school's paper ledger
    page.select_option("#item_code", "I06")
    page.check("input[name=value][value='true']")
    page.fill("#as_of_date", "2026-10-01")
    page.select_option("#origin", "紙台帳")
    page.click("#save-hand")
    page.wait_for_url(re.compile(r".*/children/100002\?saved=hand"))
    assert "該当あり・紙台帳・2026-10-01" in page.locator("tr[data-item='I06']").inner_text()
    shots(page, "child", full_page=True)

    # the printable information-collection sheet
    page.goto(f"{base}/children/100002/sheet")
    assert page.get_by_role("heading", name="情報収集シート").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible()  # the print stylesheet hides the navigation
    shots(page, "sheet-print", full_page=True)
    page.emulate_media(media="screen")

    outcome = cw_conn.execute(
        f"select outcome, support_actions, responsible, next_review_date::text, decided_by, judged_run_month "
        f"from {CW}.conference_outcomes where person_id = '100002' order by outcome_id desc limit 1"
    ).fetchone()
    assert outcome == ("要支援", ["面談", "家庭訪問"], "相談員 花子", "2027-02-01", "cw", MONTH)
    assert cw_conn.execute(f"select count(*) from {CW}.hand_entries").fetchone()[0] == hand_before + 1
    entry = cw_conn.execute(
        f"select item_code, value, as_of_date::text, origin, entered_by from {CW}.hand_entries "
        "where person_id = '100002' order by hand_entry_id desc limit 1"
    ).fetchone()
    assert entry == ("I06", True, "2026-10-01", "紙台帳", "cw")

    steps = [(a, o) for a, o, _ in audit_since(cw_conn, "cw", start)]
    assert steps[0] == ("login", None)
    for step in [
        ("view_candidates", None),
        ("view_child", "100002"),
        ("rejected_input", "100002"),
        ("record_outcome", "100002"),
        ("hand_entry", "100002"),
        ("export_sheet", "100002"),
    ]:
        assert step in steps, (step, steps)
    details = [d for a, _, d in audit_since(cw_conn, "cw", start) if a in ("record_outcome", "hand_entry")]
    assert details[1]["item_code"] == "I06" and "value" not in details[1]


def test_school_board_cannot_open_a_child_not_on_the_register(casescreen_url, browser_page, cw_conn, shots):
    page, base = browser_page, casescreen_url
    start = cw_conn.execute(f"select coalesce(max(audit_id), 0) from {CW}.audit_log").fetchone()[0]
    browser_login(page, base, "sb")
    response = page.goto(f"{base}/children/300002")
    assert response.status == 403
    assert page.get_by_text("学齢簿に載っていない").is_visible()
    shots(page, "school-board-403")
    assert page.goto(f"{base}/children/100002").status == 200
    steps = [(a, o) for a, o, _ in audit_since(cw_conn, "sb", start)]
    assert ("denied_child", "300002") in steps and ("view_child", "100002") in steps


def test_no_dv_protected_address_is_shown_or_printed(casescreen_url, browser_page, cw_conn, shots):
    page, base = browser_page, casescreen_url
    browser_login(page, base, "coord")
    for path in ("/candidates", "/children/200002", "/children/200002/sheet", "/identity", "/audit"):
        page.goto(base + path)
        found = DV_ADDRESS in page.content()
        assert not found, path
    page.goto(f"{base}/children/200002/sheet")
    page.emulate_media(media="print")
    found = DV_ADDRESS in page.inner_text("body")
    assert not found, "the protected address is on the page"
    assert "（表示しません）" in page.inner_text("body")
    shots(page, "dv-sheet-print", full_page=True)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")
    page.goto(f"{base}/audit")
    assert page.locator("#audit tbody tr").count() > 5
    shots(page, "audit", full_page=False)
