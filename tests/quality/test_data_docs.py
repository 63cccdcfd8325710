"""The GX data docs as a data owner opens them: offline, in Japanese, linked from the mails.

Real parts only: the session's gates (CLEAN and BAD months) built the data docs, the project's
docs site serves them, Debian's chromium opens them with every request that would leave this
machine blocked and recorded, and the mails go through Airflow's SMTP connection into the mail
catcher. No personal value is printed: a failure names the page or the link, never a value.
"""

from __future__ import annotations

import dataclasses
import re
import time
from urllib.parse import urlsplit

import pytest
from quality_data import BAD, CLEAN, PERSONAL

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture()
def browser_context():
    """A fresh headless Debian-chromium context (as tests/e2e's: throw-away profile, ja-JP)."""
    from mimamori.browser import chromium

    with chromium() as context:
        yield context


class Watch:
    """Every request of a browser context: outside ones aborted and recorded (also those the page's
    CSP stops before the network), failed ones recorded."""

    def __init__(self, context) -> None:
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.console: list[str] = []
        context.route("**/*", self._route)

    @staticmethod
    def _loopback(url: str) -> bool:
        return url.startswith(("data:", "blob:")) or (urlsplit(url).hostname or "") in LOOPBACK

    def _route(self, route) -> None:
        if self._loopback(route.request.url):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def page(self, context):
        page = context.new_page()
        page.on(
            "response",
            lambda r: self.failed.append(f"{r.status} {urlsplit(r.url).path}") if r.status >= 400 else None,
        )
        # a request the page's CSP blocks never reaches the route: it fails, and counts as attempted
        page.on("request", lambda r: None if self._loopback(r.url) else self.outside.append(r.url))
        page.on(
            "requestfailed",
            lambda r: self.failed.append(f"failed {r.url}") if self._loopback(r.url) else self.outside.append(r.url),
        )
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        return page


def _settle(page) -> None:
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")  # web fonts (Font Awesome) loaded or failed


def _bad_page(gate_results, source: str = "fukushi") -> dict:
    r = gate_results[("raw", BAD)][source]
    return next(p for p in r.pages if not p["success"])


def test_data_docs_index_works_offline(gate_results, docs_site, browser_context):
    watch = Watch(browser_context)
    page = watch.page(browser_context)
    page.goto(f"{docs_site}/gx/index.html")
    _settle(page)
    assert not watch.outside, f"the index asked outside hosts: {sorted({urlsplit(u).hostname for u in watch.outside})}"
    assert not watch.failed, watch.failed
    # Not blank: bootstrap-table filled the results table from the page's script, with this
    # session's runs, and Bootstrap styled it (the navbar is a flex box only with its CSS).
    rows = page.locator("#検査結果 table tbody tr")
    assert rows.count() >= 3
    assert rows.first.locator("i.fa-check-circle, i.fa-times").count() == 1  # the status icon
    # this session's runs are in the table (its own search box, in Japanese, finds them)
    search = page.locator("#検査結果").get_by_role("searchbox", name="検索")
    search.fill(f"{BAD}-raw")
    search.press("Enter")
    page.wait_for_function(
        "run => [...document.querySelectorAll('#検査結果 table tbody tr')].every(r => r.innerText.includes(run))",
        arg=f"{BAD}-raw",
        timeout=10_000,
    )
    assert f"{BAD}-raw" in page.locator("#検査結果 table tbody").inner_text()
    assert page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).display") == "flex"
    # Font Awesome's font is the site's: the pass/fail icons are drawn, not blank squares
    assert page.evaluate("document.fonts.check('900 16px \"Font Awesome 6 Free\"')")
    # in Japanese where the owner reads it
    assert page.title().startswith("品質検査の結果一覧")
    body = page.locator("body").inner_text()
    for word in ("こども見守りデータ基盤", "検査結果", "処理日時", "結果"):
        assert word in body, word
    for english in ("Validation Results", "Run Time", "Expectation Suites", "Stay current"):
        assert english not in body, english
    assert not watch.console, watch.console  # no script error, no CSP violation


def test_a_result_page_works_offline_and_reads_in_japanese(gate_results, docs_site, browser_context):
    watch = Watch(browser_context)
    page = watch.page(browser_context)
    page.emulate_media(color_scheme="dark")  # GX's dark-mode stylesheet loads its logo from outside
    failed = _bad_page(gate_results)
    page.goto(f"{docs_site}/gx/{failed['page']}")
    _settle(page)
    assert not watch.outside, f"the page asked outside hosts: {sorted({urlsplit(u).hostname for u in watch.outside})}"
    assert not watch.failed, watch.failed
    body = page.locator("body").inner_text()
    assert len(body) > 500
    for word in ("検査結果", "概要", "不合格", "検査した項目", "観測値", "目次"):
        assert word in body, word
    for english in ("Overview", "Evaluated Expectations", "Table of Contents", "Stay current"):
        assert english not in body, english
    assert page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).display") == "flex"
    assert page.locator("i.fa-times").count() >= 1  # the failed checks' icons
    assert page.evaluate("document.fonts.check('900 16px \"Font Awesome 6 Free\"')")
    for value in PERSONAL:
        found = value in body
        assert not found, "a personal value on a data-docs page (value not shown)"
    # the 不合格のみ filter (GX's inline handler, allowed by its hash) hides the passed checks
    passed = page.locator("tr:has(i.fa-check-circle)").first
    assert passed.is_visible()
    page.get_by_text("不合格のみ", exact=True).click()
    passed.wait_for(state="hidden", timeout=10_000)
    assert page.locator("tr:has(i.fa-times)").first.is_visible()
    assert not watch.console, watch.console  # no script error, no CSP violation
    # its navigation leads to the month's Japanese summary and back to the index, on this site
    page.get_by_role("link", name="月ごとの検査結果（日本語の要約）").first.click()
    _settle(page)
    assert page.url.endswith("/gx/mimamori/index.html") and BAD in page.locator("body").inner_text()
    assert not watch.outside and not watch.failed


def test_japanese_summary_of_the_month_per_source(gate_results, docs_site, browser_context, registry):
    watch = Watch(browser_context)
    page = watch.page(browser_context)
    page.goto(f"{docs_site}/gx/mimamori/{BAD}.html")
    _settle(page)
    assert not watch.outside and not watch.failed, (watch.outside, watch.failed)
    body = page.locator("body").inner_text()
    for stage in ("取り込み後の検査", "名寄せ後の検査", "判定結果の検査"):
        assert stage in body, stage
    for name in ("fukushi", "gakko", "kodomo_katei"):
        assert registry[name].department in body, name
    # failed checks in words with their counts, e.g. 「種別」… N件
    raw = gate_results[("raw", BAD)]["fukushi"]
    for item in raw.failed:
        assert item["description_ja"] in body, item["check_id"]
    assert re.search(r"\d+件", body)
    assert "不合格" in body and "合格" in body
    for value in PERSONAL:
        found = value in body
        assert not found, "a personal value on the Japanese summary (value not shown)"
    # every link to GX's pages resolves on this site
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    pages = [h for h in hrefs if "/validations/" in h]
    assert pages, "no link to GX's result pages"
    for href in pages[:5]:
        answer = page.request.get(href)
        assert answer.status == 200, urlsplit(href).path
    # the months' index lists both months
    page.goto(f"{docs_site}/gx/mimamori/index.html")
    _settle(page)
    text = page.locator("body").inner_text()
    assert BAD in text and CLEAN in text
    assert not watch.outside and not watch.failed


def _messages_since(mail_dir, before: set[str], expected: int, timeout: float = 15.0):
    from email import message_from_bytes, policy

    deadline = time.monotonic() + timeout
    while True:
        paths = sorted(p for p in mail_dir.glob("*.eml") if p.name not in before)
        if len(paths) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


@pytest.fixture()
def configured_base(settings, monkeypatch):
    """Settings read as the stack reads them, with MIMAMORI_DOCS_BASE_URL set in the environment."""
    from mimamori.settings import get_settings

    base = "https://mimamori-docs.kaisei-town.example/qa"
    monkeypatch.setenv("MIMAMORI_DOCS_BASE_URL", base + "/")
    get_settings.cache_clear()
    try:
        yield get_settings(), base
    finally:
        monkeypatch.delenv("MIMAMORI_DOCS_BASE_URL")
        get_settings.cache_clear()


def test_mail_links_use_the_configured_docs_base_url(
    airflow_ready, mailcatcher, registry, gate_results, configured_base
):
    from mimamori.alerts import send_alerts

    configured, base = configured_base
    assert configured.docs_url == base and configured.gx_docs_url == base + "/gx"
    results = [gate_results[(stage, BAD)] for stage in ("raw", "identity", "marts")]
    before = {p.name for p in mailcatcher.glob("*.eml")}
    sent = send_alerts(configured, BAD, results, run_id="qa-docs-base-url", registry=registry)
    messages = _messages_since(mailcatcher, before, expected=len(sent))
    assert len(messages) == len(sent) >= 2
    for m in messages:
        body = m.get_body(preferencelist=("html",)).get_content()
        links = [h for h in re.findall(r"href='([^']*)'", body) if not h.startswith("mailto:")]
        assert links, m["Subject"]
        for link in links:
            assert link.startswith(base + "/gx/"), f"{m['Subject']}: {link}"
        assert "127.0.0.1" not in body
        # the first link of each mail is the month's Japanese summary
        assert f"{base}/gx/mimamori/{BAD}.html" in body


def test_docs_base_url_must_be_a_url(monkeypatch):
    from mimamori.settings import get_settings

    monkeypatch.setenv("MIMAMORI_DOCS_BASE_URL", "mimamori-docs.kaisei-town.example")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="MIMAMORI_DOCS_BASE_URL"):
            get_settings()
    finally:
        monkeypatch.delenv("MIMAMORI_DOCS_BASE_URL")
        get_settings.cache_clear()
    assert dataclasses.is_dataclass(get_settings())
