"""Superset 6.1 configuration for mimamori (こども見守りデータ基盤).

Loaded by Superset through ``SUPERSET_CONFIG_PATH``. Every value comes from the environment,
with the same variable names as ``.env`` and docker-compose: the local launcher
(``include/mimamori/stack/superset.py``) passes them resolved from ``mimamori.settings``.
Only the standard library and Superset itself are imported, so the same file works in a container.

- SUPERSET_SECRET_KEY                       signs sessions (required)
- SUPERSET_SQLALCHEMY_DATABASE_URI          metadata DB; if unset it is built from
  MIMAMORI_PG_HOST / MIMAMORI_PG_PORT / MIMAMORI_SUPERSET_DB and role ``superset`` with
  MIMAMORI_SUPERSET_PASSWORD (PostgreSQL via psycopg2)
- SUPERSET_HOME                             data dir (default <MIMAMORI_STATE_DIR>/superset)
- MIMAMORI_SUPERSET_PORT                    used for the base URL of reports/screenshots
- MIMAMORI_SUPERSET_AUDIENCE_LOGINS         JSON {Superset role: PostgreSQL login} from the audience
  declaration (dbt_project/seeds/access), and MIMAMORI_<LOGIN>_PASSWORD for each login
- MIMAMORI_SUPERSET_NO_ACCESS_LOGIN         the login that reads nothing (default ``dashboard``)
- MIMAMORI_SUPERSET_LOGIN_RATE_LIMIT        login attempts per client address (default 10 per minute)
- MIMAMORI_SUPERSET_RATELIMIT_STORAGE_URI   where the counts live (default memory://, per worker)
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from urllib.parse import quote


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(
            f"{name} is not set: start Superset through mimamori.stack.superset "
            "(or `make up`), which passes it from .env"
        )
    return value


def _metadata_uri() -> str:
    explicit = os.environ.get("SUPERSET_SQLALCHEMY_DATABASE_URI")
    if explicit:
        return explicit
    host = os.environ.get("MIMAMORI_PG_HOST", "127.0.0.1")
    port = os.environ.get("MIMAMORI_PG_PORT", "54329")
    db = os.environ.get("MIMAMORI_SUPERSET_DB", "superset")
    password = quote(_required("MIMAMORI_SUPERSET_PASSWORD"), safe="")
    return f"postgresql+psycopg2://superset:{password}@{host}:{port}/{db}"


# --- secrets and metadata database -----------------------------------------------------------
SECRET_KEY = _required("SUPERSET_SECRET_KEY")
SQLALCHEMY_DATABASE_URI = _metadata_uri()
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

# --- local state ------------------------------------------------------------------------------
_state = Path(os.environ.get("MIMAMORI_STATE_DIR", ".local"))
DATA_DIR = os.environ.get("SUPERSET_HOME") or str(_state / "superset")
UPLOAD_FOLDER = os.path.join(DATA_DIR, "uploads") + "/"

# --- Japanese UI --------------------------------------------------------------------------------
BABEL_DEFAULT_LOCALE = "ja"
LANGUAGES = {
    "ja": {"flag": "jp", "name": "日本語"},
    "en": {"flag": "us", "name": "English"},
}

# --- network: 127.0.0.1 only, nothing off-host -------------------------------------------------
# gunicorn binds 127.0.0.1 (see the launcher); URLs Superset builds for itself point there too.
_port = os.environ.get("MIMAMORI_SUPERSET_PORT", "18088")
WEBDRIVER_BASEURL = f"http://127.0.0.1:{_port}/"
WEBDRIVER_BASEURL_USER_FRIENDLY = WEBDRIVER_BASEURL
ENABLE_PROXY_FIX = False
SUPERSET_WEBSERVER_TIMEOUT = 120

# The 6.1 frontend always renders a Scarf telemetry pixel
# (https://apachesuperset.gateway.scarf.sh/pixel/...). Keep Talisman on with a CSP that allows
# nothing off-host: the pixel, web fonts, map tiles and docs images are all blocked.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    # X-Frame-Options stays SAMEORIGIN (Talisman's default) and the CSP says the same in
    # frame-ancestors: Superset frames its own pages (e.g. the embedded chart preview).
    "frame_options": "SAMEORIGIN",
    "referrer_policy": "same-origin",
    "content_security_policy": {
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    # plain http on 127.0.0.1: HSTS belongs to the TLS proxy in front, if any
    "strict_transport_security": False,
    "session_cookie_secure": False,
}
TALISMAN_DEV_CONFIG = TALISMAN_CONFIG
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []
# Superset 6.1 answers cross-origin requests from two map-tile sites by default (CORS_OPTIONS);
# no other origin has any business reading this server's responses.
ENABLE_CORS = False

# --- login rate limit ------------------------------------------------------------------------------
# Failed or not, every login POST counts against the client address (the TCP peer: gunicorn
# listens on 127.0.0.1 and ENABLE_PROXY_FIX is off, so X-Forwarded-For is not believed).
# AUTH_RATE_LIMITED alone limits neither login of Superset 6.1: it puts the limit on
# SupersetAuthView, which only serves the page (GET /login/), while the form posts to FAB's
# AuthDBView, and FAB never limits the JSON API login (/api/v1/security/login, /refresh beside
# it). The security manager below limits both. Storage is memory:// — one count per gunicorn
# worker (2 here), so an address gets at most 2 × AUTH_RATE_LIMIT per window; set
# MIMAMORI_SUPERSET_RATELIMIT_STORAGE_URI=redis://… for one count shared by all workers.
# No application-wide limit (Superset's default "50 per second" would throttle a dashboard's
# own burst of chart and asset requests).
RATELIMIT_ENABLED = True
AUTH_RATE_LIMITED = True
AUTH_RATE_LIMIT = os.environ.get("MIMAMORI_SUPERSET_LOGIN_RATE_LIMIT", "10 per minute")
RATELIMIT_APPLICATION = None
RATELIMIT_STRATEGY = "moving-window"  # "N per minute" means any 60 s, not a clock-aligned minute
RATELIMIT_STORAGE_URI = os.environ.get("MIMAMORI_SUPERSET_RATELIMIT_STORAGE_URI", "memory://")
RATELIMIT_HEADERS_ENABLED = True


def _security_manager():
    from superset.security import SupersetSecurityManager

    class MimamoriSecurityManager(SupersetSecurityManager):
        """Superset's security manager with the login limit where the logins actually are."""

        def register_views(self):
            # imported here: superset.views needs the initialised app
            from flask_appbuilder.security.api import SecurityApi
            from flask_appbuilder.security.views import AuthView
            from superset.views.auth import SupersetAuthView

            super().register_views()
            if not self.is_auth_limited:
                return
            for view in self.appbuilder.baseviews:
                form = isinstance(view, AuthView) and not isinstance(view, SupersetAuthView)  # that one is limited
                if (form or isinstance(view, SecurityApi)) and view.blueprint is not None:
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)

    return MimamoriSecurityManager


CUSTOM_SECURITY_MANAGER = _security_manager()

# --- the database boundary: every query runs as the logged-in user's audience ---------------------
# Superset's own row-level security filters only the SQL Superset writes; a custom SQL metric,
# column or filter (or SQL Lab) is arbitrary SQL. So no query runs as a login that can read more
# than the user's audience: DB_CONNECTION_MUTATOR replaces the connection's user and password with
# the PostgreSQL login of the user's audience (mimamori.access; the grants, column privileges and
# row-level security policies of that login are the wall). A user with no audience, or more than
# one, or a query with no user, runs as the login that reads nothing. The connection's stored
# credentials are never used as they are.
_AUDIENCE_LOGINS: dict[str, str] = json.loads(os.environ.get("MIMAMORI_SUPERSET_AUDIENCE_LOGINS") or "{}")
_NO_ACCESS_LOGIN = os.environ.get("MIMAMORI_SUPERSET_NO_ACCESS_LOGIN", "dashboard")
_log = logging.getLogger("mimamori.audience")


def _password(login: str) -> str:
    return os.environ.get(f"MIMAMORI_{login.upper()}_PASSWORD", "")


def audience_login(username, security_manager) -> str:
    """The PostgreSQL login for the Superset user ``username`` (the no-access login if unclear)."""
    if not username:
        return _NO_ACCESS_LOGIN
    user = security_manager.find_user(username=username)
    roles = {role.name for role in getattr(user, "roles", None) or []}
    logins = {_AUDIENCE_LOGINS[name] for name in roles if name in _AUDIENCE_LOGINS}
    if len(logins) != 1:
        _log.warning("user %s has %d audience logins: querying as %s", username, len(logins), _NO_ACCESS_LOGIN)
        return _NO_ACCESS_LOGIN
    return logins.pop()


def DB_CONNECTION_MUTATOR(url, params, username, security_manager, source):  # noqa: N802 - Superset's name
    login = audience_login(username, security_manager)
    password = _password(login)
    if not password:  # fail closed: a login without a password cannot connect
        login, password = _NO_ACCESS_LOGIN, _password(_NO_ACCESS_LOGIN)
    return url.set(username=login, password=password), params


# Chart data is never cached: a cache keyed by the query would hand one audience's result to
# another (the same query returns different rows per login). Explicit, though it is the default.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}

# --- Japanese where Superset's own pages are English ---------------------------------------------
# The 404 page Superset serves is a built English page; ours says it in Japanese (an API call gets
# JSON as before). The login page turns Japanese once the Public role may fetch the language pack
# (mimamori.superset_assets.provision_roles grants that one permission and nothing else).
_NOT_FOUND_HTML = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>ページが見つかりません</title></head>
<body style="font-family: sans-serif; margin: 3rem;"><h1>ページが見つかりません</h1>
<p>アドレスが誤っているか、このページは削除されました。</p><p><a href="/">ダッシュボードの一覧へ戻る</a></p></body></html>"""


def FLASK_APP_MUTATOR(app):  # noqa: N802 - Superset's name
    from flask import jsonify, request

    def not_found(_error):
        if "text/html" in request.accept_mimetypes and not request.path.startswith("/api/"):
            return _NOT_FOUND_HTML, 404, {"Content-Type": "text/html; charset=utf-8"}
        return jsonify({"message": "見つかりません（404）"}), 404

    app.register_error_handler(404, not_found)


# --- local conveniences ---------------------------------------------------------------------------
FEATURE_FLAGS: dict[str, bool] = {
    # Superset's own guard against subqueries in custom SQL stays on. The test suite turns it off
    # (MIMAMORI_SUPERSET_ALLOW_ADHOC_SUBQUERY=1) to prove that the database alone holds the wall.
    "ALLOW_ADHOC_SUBQUERY": os.environ.get("MIMAMORI_SUPERSET_ALLOW_ADHOC_SUBQUERY") == "1",
}
