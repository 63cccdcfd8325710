"""Superset: health, login as admin in headless chromium, Japanese UI, nothing off-host."""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.request

import pytest
from mimamori.browser import OffHostRequests, SupersetLoginError, superset_login

# Strings of Superset 6.1's ja language pack that the navbar of the home page shows.
JA_NAV = ("ダッシュボード", "チャート", "データセット", "設定")


def test_health(superset):
    with urllib.request.urlopen(f"{superset}/health", timeout=10) as resp:
        assert resp.status == 200
        assert resp.read().strip() == b"OK"


def test_listens_on_loopback_only(superset, settings):
    port = f"{settings.superset_port:04X}"
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A" and local.endswith(":" + port):  # 0A = LISTEN
                    listening.append(local)
    assert listening == ["0100007F:" + port], f"Superset listens on {listening}, want 127.0.0.1 only"


def test_csp_allows_nothing_off_host(superset):
    with urllib.request.urlopen(f"{superset}/login/", timeout=10) as resp:
        csp = resp.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp
    assert not re.search(r"https?://", csp), f"CSP allows an off-host source: {csp}"


@pytest.mark.browser
def test_cjk_font_installed():
    """Without a CJK font chromium draws Japanese as boxes in every screenshot."""
    fc_list = shutil.which("fc-list")
    assert fc_list, "fontconfig missing: run `make deps` as root (fonts-noto-cjk)"
    families = subprocess.run([fc_list, ":lang=ja", "family"], capture_output=True, text=True).stdout
    assert families.strip(), "no Japanese font installed: run `make deps` as root (fonts-noto-cjk)"


@pytest.mark.browser
def test_admin_login_japanese_home(superset, settings, page):
    offhost = OffHostRequests(page, superset)
    superset_login(page, superset, "admin", settings.superset_admin_password)
    assert "/login" not in page.url, page.url

    for text in JA_NAV:
        page.get_by_text(text, exact=True).first.wait_for(state="visible", timeout=30_000)
    page.wait_for_load_state("networkidle")

    settings.artifacts_dir.mkdir(parents=True, exist_ok=True)
    shot = settings.artifacts_dir / "superset-home.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    assert offhost.unexpected == [], f"off-host requests: {offhost.unexpected}"
    assert offhost.answered == [], f"off-host requests not blocked: {offhost.answered}"


@pytest.mark.browser
def test_wrong_password_stays_on_login(superset, page):
    offhost = OffHostRequests(page, superset)
    with pytest.raises(SupersetLoginError):
        superset_login(page, superset, "admin", "definitely-not-the-password")
    assert "/login" in page.url
    page.get_by_text("ユーザー名またはパスワードが間違っています").wait_for(timeout=10_000)  # Japanese login page
    assert offhost.unexpected == [], f"off-host requests: {offhost.unexpected}"
    assert offhost.answered == [], f"off-host requests not blocked: {offhost.answered}"
