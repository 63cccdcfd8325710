"""Superset 6.1 configuration for mimamori (こども見守りデータ基盤).

Loaded by Superset through ``SUPERSET_CONFIG_PATH``. Every value comes from the environment,
with the same variable names as ``.env`` and docker-compose: the local launcher
(``include/mimamori/stack/superset.py``) passes them resolved from ``mimamori.settings``.
Only the standard library is used here, so the same file works in a container.

- SUPERSET_SECRET_KEY                       signs sessions (required)
- SUPERSET_SQLALCHEMY_DATABASE_URI          metadata DB; if unset it is built from
  MIMAMORI_PG_HOST / MIMAMORI_PG_PORT / MIMAMORI_SUPERSET_DB and role ``superset`` with
  MIMAMORI_SUPERSET_PASSWORD (PostgreSQL via psycopg2)
- SUPERSET_HOME                             data dir (default <MIMAMORI_STATE_DIR>/superset)
- MIMAMORI_SUPERSET_PORT                    used for the base URL of reports/screenshots
"""

from __future__ import annotations

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
    "content_security_policy": {
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
    "session_cookie_secure": False,
}
TALISMAN_DEV_CONFIG = TALISMAN_CONFIG
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []

# --- local conveniences ---------------------------------------------------------------------------
RATELIMIT_ENABLED = False
AUTH_RATE_LIMITED = False
RATELIMIT_STORAGE_URI = "memory://"
FEATURE_FLAGS: dict[str, bool] = {}
