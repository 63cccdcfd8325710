"""The identity pages on marts built by dbt (issue 19), in Debian's chromium.

The judged town (seed 42, 2026-10) is built by `dbt build` and published as the DAG publishes it;
nothing here creates an identity table. A caseworker opens 名寄せ確認: every record of
``published.identity_review_records`` in review is shown with what it delivered (name, kana) and
what the matcher compared, its candidates side by side and the waterfall of each score; then the
未照合一覧: every unmatched record of the model (``intermediate.int_identity__links``) is listed,
and one is marked 町内に該当者なし, which is stored and audited. Screenshots:
<artifacts_dir>/identity-*.png. No address is on either page.
"""

from __future__ import annotations

import re
import sys
import uuid

import pytest

from governance.conftest import MONTH

pytestmark = pytest.mark.browser

USERNAME = "identity_screen_cw"
PASSWORD = "identity-screen-caseworker-pw-42"


@pytest.fixture(scope="module")
def screen(published_town):
    from mimamori.casescreen import auth
    from mimamori.casescreen import repo as cs_repo
    from mimamori.casescreen.config import env_for_process, load_config
    from mimamori.casescreen.schema import init_db
    from mimamori.stack import casescreen as stack
    from mimamori.stack import pg, procs

    settings = published_town.settings
    config = load_config(settings, secret_key=uuid.uuid4().hex)
    init_db(config)
    cs_repo._columns_cache.clear()
    with pg.connect(settings, role="casework") as conn:
        auth.add_user(conn, "casework", USERNAME, "caseworker", PASSWORD, "名寄せテスト")
    # An instance of its own (own port, own process name): the session's case screen serves the
    # fixture schemas to the other tests and must keep running.
    port = settings.casescreen_port + 8
    env = stack.env(
        settings,
        {
            **env_for_process(config),
            "MIMAMORI_CASESCREEN_SECRET": config.secret_key,
            "MIMAMORI_CASESCREEN_PORT": str(port),
        },
    )
    procs.start(
        settings,
        "casescreen-identity",
        [sys.executable, "-m", "mimamori.casescreen", "serve", "--port", str(port)],
        env=env,
    )
    try:
        procs.wait_port(port, 60, "case screen (identity screens)")
        yield f"http://127.0.0.1:{port}"
    finally:
        procs.stop(settings, "casescreen-identity")
        with pg.connect(settings, autocommit=True) as conn:
            conn.execute("delete from casework.identity_decisions where decided_by = %s", (USERNAME,))


@pytest.fixture()
def page():
    from mimamori.browser import chromium

    with chromium() as context:
        yield context.new_page()


def _login(page, base):
    page.goto(f"{base}/login")
    page.fill("#username", USERNAME)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/candidates$"))


def test_review_and_unmatched_pages_show_the_records_dbt_built(screen, page, published_town, gov_conn):
    settings = published_town.settings
    shots = settings.artifacts_dir
    shots.mkdir(parents=True, exist_ok=True)
    review = gov_conn.execute(
        "select record_id, record_name, name_norm from published.identity_review_records "
        "where link_status = 'review' and run_month = %s",
        (MONTH,),
    ).fetchall()
    unmatched_model = {
        r[0]
        for r in gov_conn.execute(
            "select record_id from intermediate.int_identity__links where link_status = 'unmatched'"
        ).fetchall()
    }
    addresses = [
        r[0] for r in gov_conn.execute("select distinct address from published.residents where address is not null")
    ]
    assert review and unmatched_model, "the judged town has records in review and unmatched"

    _login(page, screen)
    page.goto(f"{screen}/identity")
    assert page.get_by_role("heading", name="名寄せ確認キュー").is_visible()
    assert page.locator("details.rule").inner_text().count("13") >= 1  # the decision rule, in words
    page.screenshot(path=str(shots / "identity-review.png"), full_page=True)
    shown = {s.get_attribute("data-record") for s in page.locator("section.pair").all()}
    assert shown == {r[0] for r in review}
    for record_id, name, norm in review:
        section = page.locator(f"section.pair[data-record='{record_id}']")
        as_delivered = section.locator("td.delivered-name").inner_text() == name
        as_compared = norm in section.inner_text()
        assert as_delivered, f"{record_id}: the delivered name is not shown"  # booleans: no name in a failure
        assert as_compared, f"{record_id}: the compared form is not shown"
        assert section.locator("table.waterfall").count() >= 1  # each candidate's score explained
        assert "一致度（合計）" in section.inner_text()
    body = page.inner_text("body")
    leaked = [a for a in addresses if a in body]
    assert not leaked, f"{len(leaked)} address(es) on the review page"

    page.goto(f"{screen}/identity/unmatched")
    page.screenshot(path=str(shots / "identity-unmatched.png"), full_page=True)
    listed = {s.get_attribute("data-record") for s in page.locator("section.pair").all()}
    assert listed == unmatched_model, (len(listed), len(unmatched_model))
    assert page.locator("#unmatched-count").inner_text() == str(len(unmatched_model))
    body = page.inner_text("body")
    leaked = [a for a in addresses if a in body]
    assert not leaked, f"{len(leaked)} address(es) on the unmatched page"

    first = sorted(listed)[0]
    section = page.locator(f"section.pair[data-record='{first}']")
    section.locator("button.not-in-town").click()
    page.wait_for_url(re.compile(r".*/identity/unmatched\?saved=1"))
    assert page.get_by_text("判断を記録しました").is_visible()
    decision = gov_conn.execute(
        "select record_id, person_id, decision from casework.identity_decisions where decided_by = %s",
        (USERNAME,),
    ).fetchall()
    assert decision == [(first, None, "not_in_town")]
    audited = gov_conn.execute(
        "select action, object_id, detail->>'status' from casework.audit_log where username = %s order by audit_id",
        (USERNAME,),
    ).fetchall()
    assert ("view_identity_queue", None, None) in audited and ("view_unmatched", None, None) in audited
    assert ("identity_decision", first, "not_in_town") in audited
