"""Security headers and a login rate limit for the web services the project serves itself.

One place for what every page of Airflow's API server and the docs site sends (the case screen
and Superset set theirs in ``casescreen/app.py`` and ``superset/superset_config.py``):

- ``Content-Security-Policy``: scripts, styles, images, connections from the same origin only;
  nothing off-host; no framing (``frame-ancestors 'none'``); forms post to the same origin;
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (older browsers),
  ``Referrer-Policy: same-origin`` (a URL with an id never leaves the site in a Referer);
- no ``Strict-Transport-Security``: everything is plain http on 127.0.0.1, where HSTS would be
  ignored at best and would pin the name to https at worst. Put TLS in front (a reverse proxy)
  and send HSTS from there.

:class:`AirflowGuard` is an ASGI middleware that Airflow 3 loads as a *root* middleware from the
plugin ``plugins/mimamori_web.py`` (``fastapi_root_middlewares``), so it sees every request of
the API server, including the auth manager's ``/auth`` app. It adds the headers above and
limits login attempts per client address on every login path of the FAB auth manager: the
form (``POST /auth/login/``, which FAB also limits) and the token endpoints
(``POST /auth/token``, ``/auth/token/cli``, which FAB does not limit: they are FastAPI routes
outside its Flask limiter). One bucket for all three, so switching paths buys no guesses.
State is in memory of the API server process (``AIRFLOW__API__WORKERS=1`` in the local stack;
with more workers each has its own count, so an address gets up to workers × the limit).
"""

from __future__ import annotations

import json

#: CSP of Airflow 3's React UI and FAB's login pages. The UI's style engine (Chakra/emotion)
#: inserts <style> elements at run time, hence 'unsafe-inline' for styles only; scripts are the
#: UI's own bundle. Monaco (code view) runs in blob: workers.
AIRFLOW_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

#: Airflow's login paths (FAB auth manager), compared without a trailing slash.
AIRFLOW_LOGIN_PATHS = frozenset({"/auth/login", "/auth/token", "/auth/token/cli"})
#: as FAB's own default ([fab] auth_rate_limit); read from Airflow's config when it is set
DEFAULT_LOGIN_LIMIT = "5 per 40 second"


def security_headers(csp: str) -> dict[str, str]:
    return {"Content-Security-Policy": csp, **BASE_HEADERS}


class AirflowGuard:
    """ASGI middleware: security headers on every response, a per-address limit on logins."""

    def __init__(self, app, limit: str | None = None, csp: str = AIRFLOW_CSP):
        from limits import parse, storage, strategies

        self.app = app
        if limit is None:
            limit = _airflow_login_limit()
        self.limit = parse(limit)
        self.limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self.headers = [(k.lower().encode(), v.encode()) for k, v in security_headers(csp).items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and scope["path"].rstrip("/") in AIRFLOW_LOGIN_PATHS:
            client = (scope.get("client") or ("unknown", 0))[0]
            if not self.limiter.hit(self.limit, "airflow-login", client):
                await self._refuse(send)
                return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in self.headers if name not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(self, send) -> None:
        body = json.dumps({"detail": f"Too many login attempts from this address (limit: {self.limit})"}).encode()
        retry = str(self.limit.get_expiry())
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", retry.encode()),
            *self.headers,
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _airflow_login_limit() -> str:
    try:
        from airflow.configuration import conf

        return conf.get("fab", "auth_rate_limit", fallback=DEFAULT_LOGIN_LIMIT) or DEFAULT_LOGIN_LIMIT
    except Exception:  # noqa: BLE001 - outside Airflow (tests of the class itself)
        return DEFAULT_LOGIN_LIMIT
