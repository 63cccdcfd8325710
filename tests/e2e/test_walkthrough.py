"""A walk through every page a staff role sees, in chromium, on the real published month.

For each case-screen role: the login page, the candidate list (and a filtered one), a child's page
and printed sheet, the identity review and the audit log where the role may open them, and a page
that does not exist — each screenshotted (``<artifacts>/walk-<role>-<page>.png``) and scanned: no
English word and no raw code in what mimamori writes (allowed: ids, dates, numbers, item codes such
as I08, file names). The Superset side is scanned through what the bundle writes (titles, labels,
column names) and the dashboards' cell values (tests/e2e/test_dashboards.py takes its screenshots).
Only counts and the offending words are reported, never a name.
"""

from __future__ import annotations

import re
import sys
import uuid

import pytest
from mimamori import access
from mimamori.stack import pg, procs

pytestmark = pytest.mark.browser

PASSWORD = "walk-" + uuid.uuid4().hex
ROLES = ("coordinator", "caseworker", "nurse", "school_board")
#: file names as delivered (学齢簿.csv), whole: the extension is part of a name, not English
FILE_NAME = re.compile(r"[^\s（）()「」『』、。・:：/]+\.(?:csv|xlsx|tsv|txt|pdf|html)\b")
#: ids, dates, numbers, 宛名番号, item codes (I08), pseudonymous refs (hex): any token with a digit
ID = re.compile(r"(?<![A-Za-z_])[A-Za-z]*\d[\w-]*")
#: words that may appear: units and names people know as they are
ALLOWED = re.compile(r"^(PDF|CSV|A4|EPDS|mimamori|DV|ID|PC)$")
WORD = re.compile(r"[A-Za-z][A-Za-z_.-]*[A-Za-z]|[A-Za-z]")


def english_words(text: str) -> set[str]:
    """Latin-letter words left once file names and ids are taken out: English, or a raw code."""
    text = ID.sub(" ", FILE_NAME.sub(" ", text))
    return {w for w in WORD.findall(text) if not ALLOWED.match(w)}


def test_the_scan_finds_english_and_raw_codes_but_not_ids_or_files():
    assert english_words("学齢簿.csv 12行目 宛名番号 0000100015 I08 3fa9bc0d12 2026-10 A4") == set()
    assert english_words("Sign in") == {"Sign", "in"}
    assert english_words("gakko__school_register:12") == {"gakko__school_register"}
    assert english_words("歩き_coordinator（coordinator）") == {"coordinator"}


@pytest.fixture(scope="module")
def walk_screen(dashboard_month, warehouse):
    """A case screen on the real published month (its own port: the case-screen tests' instance
    serves their fixture schemas), with one account per role."""
    from mimamori.casescreen import auth
    from mimamori.casescreen.config import load_config
    from mimamori.casescreen.schema import init_db
    from mimamori.stack import casescreen

    config = load_config(warehouse)
    init_db(config)
    with pg.connect(warehouse, role=access.PREAUTH_LOGIN) as conn:
        for role in ROLES:
            auth.add_user(conn, config.casework_schema, f"walk_{role}", role, PASSWORD, "歩き確認")
    port = warehouse.casescreen_port + 7
    env = casescreen.env(warehouse, {"MIMAMORI_CASESCREEN_PORT": str(port)})
    procs.start(
        warehouse,
        "casescreen-walk",
        [sys.executable, "-m", "mimamori.casescreen", "serve", "--port", str(port)],
        env=env,
    )
    try:
        procs.wait_port(port, 60, "case screen (walk-through)")
        yield f"http://127.0.0.1:{port}"
    finally:
        procs.stop(warehouse, "casescreen-walk")


def _a_child(settings, role: str) -> str:
    """A flagged child the role may open (the school board: a pupil on this month's 学齢簿)."""
    audience = access.declaration().audience_of(role)
    with pg.connect(settings, role=audience.casescreen_login, autocommit=True) as conn:
        return conn.execute(
            "select s.person_id from published.child_scores s where s.is_flagged order by s.total_points desc limit 1"
        ).fetchone()[0]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_a_role_in_plain_japanese(role, walk_screen, warehouse, browser_context):
    page = browser_context.new_page()
    shots = warehouse.artifacts_dir
    shots.mkdir(parents=True, exist_ok=True)
    found: dict[str, set[str]] = {}

    def visit(name: str, path: str) -> str:
        page.goto(f"{walk_screen}{path}", wait_until="domcontentloaded")
        page.screenshot(path=str(shots / f"walk-{role}-{name}.png"), full_page=True)
        # account names and client addresses in the audit log are ids, not words: not scanned
        page.evaluate("document.querySelectorAll('td.username, td.client').forEach(e => e.remove())")
        text = page.locator("body").inner_text()
        words = english_words(text)
        if words:
            found[name] = words
        return text

    visit("login", "/login")
    page.fill("input[name=username]", f"walk_{role}")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/candidates.*"))
    text = visit("candidates", "/candidates")
    assert "候補" in text
    visit("candidates-filtered", "/candidates?proposed=yes")
    child = _a_child(warehouse, role)
    text = visit("child", f"/children/{child}")
    assert "判定と理由" in text and "気づき" in text
    visit("sheet", f"/children/{child}/sheet")
    may = access.declaration().actions(role)
    if "identity" in may:
        visit("identity", "/identity")
    if "audit" in may:
        visit("audit", "/audit")
    visit("not-found", "/no-such-page")
    assert not found, f"{role}: English or raw codes on the pages: {found}"


def test_what_mimamori_writes_in_superset_is_japanese(dashboard_month, warehouse):
    """Dashboard titles, chart names, column labels and filter names of the bundle, and the text
    values of every chart's data as the coordinator receives it."""
    import yaml
    from mimamori import superset_assets as sa

    bundle = sa.bundle_dir(warehouse)
    written: dict[str, set[str]] = {}
    for path in bundle.rglob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        texts = [doc.get(k) or "" for k in ("dashboard_title", "slice_name", "description")]
        texts += [c.get("verbose_name") or "" for c in doc.get("columns", [])]
        texts += [m.get("verbose_name") or "" for m in doc.get("metrics", [])]
        meta = doc.get("metadata") or {}
        texts += [f.get("name") or "" for f in meta.get("native_filter_configuration", [])]
        words = set().union(*(english_words(t) for t in texts if isinstance(t, str)))
        if words:
            written[path.name] = words
    api = sa.admin_api(warehouse)
    values: set[str] = set()
    for chart in api.list_all("/api/v1/chart/", ("id",)):
        result = api.get_json(f"/api/v1/chart/{chart['id']}/data/")["result"][0]
        for row in result["data"]:
            for value in row.values():
                if isinstance(value, str) and not value.startswith("<a href="):
                    values |= english_words(value)
    assert not written, f"English in the bundle's labels: {written}"
    assert not values, f"English or raw codes in the dashboards' values: {sorted(values)[:30]}"


def test_superset_login_and_missing_pages_are_japanese(dashboard_month, superset, browser_context):
    page = browser_context.new_page()
    page.goto(f"{superset}/login/", wait_until="networkidle")
    login_text = page.locator("body").inner_text()
    page.goto(f"{superset}/no-such-page/", wait_until="domcontentloaded")
    missing_text = page.locator("body").inner_text()
    assert "ページが見つかりません" in missing_text
    assert re.search(r"[ぁ-んァ-ン一-龥]", login_text), "the login page has no Japanese"
    assert "Sign in" not in login_text and "Username" not in login_text
