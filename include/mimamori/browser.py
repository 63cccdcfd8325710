"""Headless Debian chromium driven by Playwright (the PyPI package; no downloaded browser).

    from mimamori.browser import OffHostRequests, chromium, superset_login
    with chromium() as context:
        page = context.new_page()
        offhost = OffHostRequests(page, "http://127.0.0.1:18088")
        superset_login(page, "http://127.0.0.1:18088", "admin", password)
        page.screenshot(path="home.png")

Japanese text needs a CJK font on the machine (Debian: ``fonts-noto-cjk``), otherwise it is drawn
as boxes in screenshots. Never run ``playwright install``: ``make deps`` (as root) installs
Debian's ``chromium`` and the fonts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: The telemetry pixel Superset 6.1's frontend always renders; our CSP blocks it.
SCARF_PIXEL_PREFIX = "https://apachesuperset.gateway.scarf.sh/"


class BrowserMissing(RuntimeError):
    pass


class SupersetLoginError(AssertionError):
    pass


def chromium_executable() -> str:
    """Debian's chromium (MIMAMORI_CHROMIUM overrides); a clear error if it is not installed."""
    from mimamori.settings import get_settings

    override = get_settings().chromium
    candidates = [override] if override else list(CHROMIUM_CANDIDATES)
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise BrowserMissing(
        f"Debian's chromium was not found (looked for {', '.join(candidates)}): "
        "run `make deps` as root (apt-get install chromium fonts-noto-cjk). "
        "Never `playwright install`."
    )


@contextmanager
def chromium(
    *,
    headless: bool = True,
    viewport: tuple[int, int] = (1400, 900),
    locale: str = "ja-JP",
    timezone_id: str = "Asia/Tokyo",
    tmp_root: Path | str | None = None,
) -> Iterator[BrowserContext]:
    """A Playwright BrowserContext on Debian chromium with a fresh, throw-away profile."""
    executable = chromium_executable()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the Airflow venv has it
        raise BrowserMissing("the Python package playwright is missing from this venv (`make setup`)") from exc
    if tmp_root is not None:
        Path(tmp_root).mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=str(tmp_root) if tmp_root else None)
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=executable,
                headless=headless,
                args=list(CHROMIUM_ARGS),
                viewport={"width": viewport[0], "height": viewport[1]},
                locale=locale,
                timezone_id=timezone_id,
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class OffHostRequests:
    """Records every request a page makes to anywhere other than `base_url`'s host.

    ``unexpected``: off-host requests other than Superset's Scarf pixel (which the 6.1 frontend
    always attempts and our CSP blocks). ``answered``: off-host requests that got any response,
    i.e. that were not blocked; both should stay empty.
    """

    def __init__(self, page, base_url: str) -> None:
        self.host = urlsplit(base_url).hostname
        self.urls: list[str] = []
        self.answered: list[str] = []
        page.on("request", lambda request: self._off_host(request.url) and self.urls.append(request.url))
        page.on("response", lambda response: self._off_host(response.url) and self.answered.append(response.url))

    def _off_host(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about", "chrome", "chrome-extension"):
            return False
        return parts.hostname != self.host

    @property
    def unexpected(self) -> list[str]:
        return [u for u in self.urls if not u.startswith(SCARF_PIXEL_PREFIX)]


def superset_login(page, base_url: str, user: str, password: str, timeout: float = 30_000) -> None:
    """Log in through Superset's /login/ form; raises SupersetLoginError if it stays on /login/."""
    base = base_url.rstrip("/")
    page.goto(f"{base}/login/", wait_until="domcontentloaded", timeout=timeout)
    page.locator("input#username, input[name=username]").first.fill(user, timeout=timeout)
    page.locator("input#password, input[name=password]").first.fill(password)
    # Anonymous users get no language pack, so the form is in English; find the button by type
    # anyway (ja's own translation of "Sign in" is the unhelpful "ありません").
    with page.expect_response(
        lambda r: urlsplit(r.url).path.rstrip("/") == "/login" and r.request.method == "POST", timeout=timeout
    ) as answer:
        page.locator("button[type=submit], input[type=submit]").first.click()
    response = answer.value
    # FAB answers 302: to the app on success, back to /login/ on failure.
    if response.status >= 400 or "/login" in (response.headers.get("location") or "/login"):
        page.wait_for_load_state("domcontentloaded")
        raise SupersetLoginError(f"login as {user!r} failed (HTTP {response.status}); now at {page.url}")
    # the redirect away from /login/ is the login; the landing page's full load (Superset's largest
    # bundles) is not waited for: the caller goes on to the page it came for
    page.wait_for_url(lambda u: "/login" not in urlsplit(u).path, timeout=timeout, wait_until="commit")
