"""The FastAPI application: pages, forms, access control, audit.

Who may see and do what comes from the audience declaration (``mimamori.access``), and the
database enforces it: the login page and the session check run as the login ``casework``, which
reads no child data; every signed-in page then runs, in one transaction, as the case-screen login
of the staff member's audience (``case_<audience>``), whose grants, column privileges and
row-level security are the wall. The page's reads, its audit row and (for a form) its write commit
together or not at all. A request the declaration refuses, or the database refuses, is audited.

The application is assembled here; its pages are routers by area (:mod:`mimamori.casescreen.routes`)
and what they share (connections, session, CSRF, refusals, rendering) is
:class:`mimamori.casescreen.web.Web`, kept in ``app.state.web`` and given to each route as a
FastAPI dependency.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from mimamori.casescreen.config import CaseScreenConfig, load_config
from mimamori.casescreen.routes import ROUTERS
from mimamori.casescreen.vocab import COMPARISON_LABELS, ROLES, TYPE_LABELS
from mimamori.casescreen.web import TOKYO, Web

HERE = Path(__file__).resolve().parent

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _fmt_date(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _num(value: Any) -> str:
    """A score or points as people write them: 2, 1.5 (no trailing zeros); blank when unknown."""
    if value is None or value == "":
        return ""
    text = format(value, "f") if not isinstance(value, str) else value
    return text.rstrip("0").rstrip(".") if "." in text else text


def _sex(value: Any) -> str:
    return {"1": "男", "2": "女"}.get(str(value or ""), str(value or ""))


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["d"] = _fmt_date
    templates.env.filters["sex"] = _sex
    templates.env.filters["num"] = _num
    templates.env.globals.update(ROLES=ROLES, TYPE_LABELS=TYPE_LABELS, COMPARISON_LABELS=COMPARISON_LABELS)
    return templates


def create_app(config: CaseScreenConfig | None = None) -> FastAPI:
    config = config or load_config()
    app = FastAPI(title="こども見守り ケース画面", docs_url=None, redoc_url=None, openapi_url=None)
    templates = _templates()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.config = config
    app.state.web = Web(config, templates)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(404)
    async def not_found(request: Request, exc):
        return templates.TemplateResponse(
            request,
            "error.html",
            {"message": "ページが見つかりません。", "status": 404, "staff": None},
            status_code=404,
        )

    return app
