"""Security headers on every kind of page of every web service the project serves (issue #17).

Airflow's API server (the project's root middleware), Superset (Talisman), the case screen and
the docs site: an HTML page, a static file, a JSON answer, an error, a redirect, a page behind
the login, and a refused login. Each must carry a CSP that allows nothing off-host and no inline
script in general, and forbids framing by other sites; ``nosniff``; ``X-Frame-Options``; a
``Referrer-Policy`` that keeps URLs on the site; and no HSTS (everything is plain http).
"""

from __future__ import annotations

import base64
import hashlib
import random
import re

import pytest
import requests
from requests.adapters import HTTPAdapter

_OCTETS = (random.randint(1, 254), random.randint(1, 254))
REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


class _SourceAddress(HTTPAdapter):
    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def client_from(n: int) -> requests.Session:
    """A session from this session's n-th loopback address (so its logins count nowhere else)."""
    session = requests.Session()
    session.mount("http://", _SourceAddress(f"127.{_OCTETS[0]}.{_OCTETS[1]}.{n}"))
    return session


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = words[1:]
    return parsed


def check(response: requests.Response, frame_ancestors: str = "'none'") -> list[str]:
    """What is missing or wrong in `response`'s security headers (empty when all is well)."""
    h = response.headers
    where = f"{response.request.method} {response.url} ({response.status_code})"
    csp = directives(h.get("Content-Security-Policy", ""))
    problems = []
    if csp.get("default-src") != ["'self'"]:
        problems.append(f"{where}: CSP default-src is {csp.get('default-src')}")
    if csp.get("frame-ancestors") != [frame_ancestors]:
        problems.append(f"{where}: CSP frame-ancestors is {csp.get('frame-ancestors')}")
    scripts = csp.get("script-src", csp.get("default-src", []))
    if {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(scripts):
        problems.append(f"{where}: CSP script-src allows {scripts}")
    offhost = [s for values in csp.values() for s in values if re.match(r"(https?:|\*|//)", s)]
    if offhost:
        problems.append(f"{where}: CSP allows off-host sources {offhost}")
    if h.get("X-Content-Type-Options", "").lower() != "nosniff":
        problems.append(f"{where}: X-Content-Type-Options is {h.get('X-Content-Type-Options')!r}")
    if h.get("X-Frame-Options", "").upper() not in ("DENY", "SAMEORIGIN"):
        problems.append(f"{where}: X-Frame-Options is {h.get('X-Frame-Options')!r}")
    if h.get("Referrer-Policy", "").lower() not in REFERRER_POLICIES:
        problems.append(f"{where}: Referrer-Policy is {h.get('Referrer-Policy')!r}")
    if "Strict-Transport-Security" in h:
        problems.append(f"{where}: HSTS sent on plain http")
    return problems


@pytest.fixture()
def page():
    """A fresh headless Debian-chromium page (throw-away profile)."""
    from mimamori.browser import chromium

    with chromium() as context:
        yield context.new_page()


def check_all(responses, **kwargs) -> None:
    problems = [p for r in responses for p in check(r, **kwargs)]
    assert not problems, "\n".join(problems)


# --- Airflow ------------------------------------------------------------------------------------


def test_airflow_headers_on_every_kind_of_answer(airflow_api, settings):
    s = client_from(101)
    token = s.post(
        f"{airflow_api}/auth/token", json={"username": "admin", "password": settings.airflow_admin_password}, timeout=30
    )
    assert token.status_code == 201
    signed_in = {"Authorization": f"Bearer {token.json()['access_token']}"}
    responses = [
        token,  # a login answer
        s.get(f"{airflow_api}/", timeout=30),  # the UI's page
        s.get(f"{airflow_api}/dags", timeout=30),  # a UI route (the SPA's catch-all)
        s.get(f"{airflow_api}/auth/login/", timeout=30),  # FAB's login page (Flask, mounted)
        s.get(f"{airflow_api}/auth/static/appbuilder/css/ab.css", timeout=30),  # FAB's static files
        s.get(f"{airflow_api}/static/pin_32.png", timeout=30),  # the UI's static files
        s.get(f"{airflow_api}/api/v2/monitor/health", timeout=30),  # JSON, public
        s.get(f"{airflow_api}/api/v2/dags", timeout=30),  # JSON, refused (401)
        s.get(f"{airflow_api}/api/v2/dags", headers=signed_in, timeout=30),  # JSON, signed in
        s.get(f"{airflow_api}/api/v2/no-such-endpoint", headers=signed_in, timeout=30),  # 404
        s.get(f"{airflow_api}/auth/logout", allow_redirects=False, timeout=30),  # a redirect
        s.get(f"{airflow_api}/docs", timeout=30),  # Swagger UI is off (it loads from a CDN)
    ]
    assert [r.status_code for r in responses[:9]] == [201, 200, 200, 200, 200, 200, 200, 401, 200]
    assert responses[9].status_code == 404 and responses[10].status_code in (302, 307)
    assert responses[11].status_code != 200 or "swagger-ui" not in responses[11].text
    guesser = client_from(102)  # a refused (rate-limited) login carries them too
    for _ in range(10):
        limited = guesser.post(f"{airflow_api}/auth/token", json={"username": "admin", "password": "x"}, timeout=30)
        if limited.status_code == 429:
            break
    assert limited.status_code == 429
    check_all([*responses, limited])


@pytest.mark.browser
def test_airflow_ui_works_under_its_csp(airflow_api, settings, page):
    """The CSP must not break the UI: log in through the form, the React UI draws its navigation
    and reports no CSP violation (FAB's login page has one inline script, blocked by design)."""
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{airflow_api}/auth/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", settings.airflow_admin_password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(lambda u: "/auth/login" not in u, timeout=60_000)
    violations.clear()
    page.goto(f"{airflow_api}/dags")
    page.locator("nav, [role=navigation], a[href*='dags']").first.wait_for(timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert page.locator("a[href*='dags']").count() > 0
    assert not violations, violations


# --- Superset -----------------------------------------------------------------------------------


def test_superset_headers_on_every_kind_of_answer(superset, settings):
    s = client_from(103)
    login_page = s.get(f"{superset}/login/", timeout=60)
    asset = re.search(r'src="(/static/assets/[^"]+\.js)"', login_page.text).group(1)
    token = re.search(r'name="csrf_token"\s+id="csrf_token"\s+value="([^"]+)"', login_page.text).group(1)
    login = s.post(
        f"{superset}/login/",
        data={"username": "admin", "password": settings.superset_admin_password, "csrf_token": token},
        allow_redirects=False,
        timeout=60,
    )
    assert login.status_code == 302 and "/login" not in login.headers["location"]
    anonymous = client_from(104)
    responses = [
        login_page,  # the login page
        login,  # a login answer (redirect)
        s.get(f"{superset}/superset/welcome/", timeout=60),  # a page behind the login
        s.get(f"{superset}/api/v1/dashboard/", timeout=60),  # JSON, signed in
        anonymous.get(f"{superset}/api/v1/dashboard/", timeout=60),  # JSON, refused
        anonymous.get(f"{superset}{asset}", timeout=60),  # a static file
        anonymous.get(f"{superset}/health", timeout=60),  # the health check
        anonymous.get(f"{superset}/no-such-page/", timeout=60),  # 404
    ]
    assert [r.status_code for r in responses] == [200, 302, 200, 200, 401, 200, 200, 404]
    # Superset frames its own pages (X-Frame-Options SAMEORIGIN), so frame-ancestors is 'self'
    check_all(responses, frame_ancestors="'self'")
    # no cross-origin reader: Superset's default CORS answers two map-tile sites
    probe = anonymous.get(f"{superset}/health", headers={"Origin": "https://tile.openstreetmap.org"}, timeout=60)
    assert "Access-Control-Allow-Origin" not in probe.headers


# --- the case screen ----------------------------------------------------------------------------


def test_casescreen_headers_on_every_kind_of_answer(casescreen_url, cs_config):
    from mimamori.casescreen import auth
    from mimamori.stack import pg

    password = "sec-headers-password-1234"
    with pg.connect(cs_config.settings, role="casework") as conn:
        auth.add_user(conn, cs_config.casework_schema, "sec-headers", "nurse", password, "試験用")
    s = client_from(105)
    login_page = s.get(f"{casescreen_url}/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text).group(1)
    refused = s.post(
        f"{casescreen_url}/login",
        data={"username": "sec-headers", "password": "wrong", "csrf_token": token, "next": ""},
        allow_redirects=False,
        timeout=30,
    )
    login = s.post(
        f"{casescreen_url}/login",
        data={"username": "sec-headers", "password": password, "csrf_token": token, "next": ""},
        allow_redirects=False,
        timeout=30,
    )
    anonymous = client_from(106)
    responses = [
        login_page,
        refused,  # a refused login
        login,  # a login answer (redirect)
        s.get(f"{casescreen_url}/candidates", timeout=30),  # a page behind the login
        anonymous.get(f"{casescreen_url}/candidates", allow_redirects=False, timeout=30),  # redirect to login
        anonymous.get(f"{casescreen_url}/static/style.css", timeout=30),  # a static file
        anonymous.get(f"{casescreen_url}/healthz", timeout=30),  # plain text
        anonymous.get(f"{casescreen_url}/no-such-page", timeout=30),  # 404
    ]
    assert [r.status_code for r in responses] == [200, 401, 303, 200, 303, 200, 200, 404]
    check_all(responses)


# --- the docs site ------------------------------------------------------------------------------

PROBE = (
    "<!doctype html><meta charset='utf-8'><title>probe</title>"
    "<script>document.title = 'inline script ran';</script><p>csp probe</p>"
)


def test_docs_site_headers_on_every_kind_of_answer(docs_site, settings):
    from mimamori.stack import docs

    probe = docs.site_dir(settings) / "gx" / "mimamori-csp-probe.html"
    probe.write_text(PROBE, encoding="utf-8")
    try:
        s = client_from(107)
        responses = [
            s.get(f"{docs_site}/", timeout=30),  # the index
            s.get(f"{docs_site}/gx/", timeout=30),  # a folder (GX's index or a listing)
            s.get(f"{docs_site}/gx", allow_redirects=False, timeout=30),  # a redirect
            s.get(f"{docs_site}/gx/mimamori-csp-probe.html", timeout=30),  # a generated page with inline script
            s.get(f"{docs_site}/no-such-page.html", timeout=30),  # 404
        ]
        assert [r.status_code for r in responses] == [200, 200, 301, 200, 404]
        check_all(responses)
        # the generated page's own inline script is allowed by its hash, and only that one
        script = re.search(r"<script>(.*?)</script>", PROBE).group(1).encode()
        digest = "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        assert directives(responses[3].headers["Content-Security-Policy"])["script-src"] == ["'self'", digest]
        assert directives(responses[0].headers["Content-Security-Policy"])["script-src"] == ["'self'"]
    finally:
        probe.unlink(missing_ok=True)


@pytest.mark.browser
def test_docs_site_inline_script_runs_under_its_csp(docs_site, settings, page):
    """The hash the server computes is the one chromium computes: the page's own script runs."""
    from mimamori.stack import docs

    probe = docs.site_dir(settings) / "gx" / "mimamori-csp-probe.html"
    probe.write_text(PROBE, encoding="utf-8")
    try:
        violations = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{docs_site}/gx/mimamori-csp-probe.html")
        page.wait_for_load_state("load")
        assert page.title() == "inline script ran" and not violations, violations
    finally:
        probe.unlink(missing_ok=True)
