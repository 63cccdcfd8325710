"""What every page of the case screen shares: the request's connections, session, refusals, rendering.

One :class:`Web` is built per application (:func:`mimamori.casescreen.app.create_app`) and kept in
``app.state.web``; each router's routes receive it through the FastAPI dependency :func:`web_of`.
The page modules under :mod:`mimamori.casescreen.routes` hold only what their area does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from mimamori import access
from mimamori.casescreen import audit, auth
from mimamori.casescreen.config import CaseScreenConfig
from mimamori.casescreen.repo import Repo

TOKYO = ZoneInfo("Asia/Tokyo")
SESSION_COOKIE = "mm_session"
PRE_COOKIE = "mm_pre"


class Denied(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message


def today() -> date:
    return datetime.now(TOKYO).date()


def client(request: Request) -> str | None:
    return request.client.host if request.client else None


async def form_of(request: Request) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {k: form.get(k) for k in form.keys()}
    data["support_actions"] = form.getlist("support_actions")
    return data


def check_csrf(session: auth.Session, form: dict[str, Any]) -> None:
    if not auth.tokens_equal(session.csrf_token, form.get("csrf_token")):
        raise Denied(
            403, "フォームの有効期限が切れたか、不正な送信です。画面を開き直してからもう一度送信してください。"
        )


def to_login(request: Request, expired: bool = False) -> RedirectResponse:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    url = "/login?next=" + quote(target, safe="")
    if expired:
        url += "&expired=1"
    response = RedirectResponse(url, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def expired_login(request: Request) -> RedirectResponse:
    """A page asked for without a live session: to the login page (saying so when a cookie came)."""
    return to_login(request, expired=SESSION_COOKIE in request.cookies)


@dataclass(frozen=True)
class Web:
    config: CaseScreenConfig
    templates: Jinja2Templates

    @property
    def schema(self) -> str:
        """The case screen's own schema (staff, sessions, audit, outcomes, hand entries)."""
        return self.config.casework_schema

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.config.idle_minutes)

    @property
    def absolute(self) -> timedelta:
        return timedelta(hours=self.config.absolute_hours)

    @contextmanager
    def db(self) -> Iterator[psycopg.Connection]:
        """The application's own login (casework): accounts, sessions and audit only."""
        with psycopg.connect(self.config.dsn(), connect_timeout=10) as conn:
            yield conn

    @contextmanager
    def staff_db(self, session: auth.Session) -> Iterator[psycopg.Connection]:
        """The signed-in staff member's connection: their audience's case-screen login."""
        with psycopg.connect(self.config.audience_dsn(session.staff.role), connect_timeout=10) as conn:
            yield conn

    def session_of(self, request: Request, conn) -> auth.Session | None:
        return auth.load_session(conn, self.schema, request.cookies.get(SESSION_COOKIE), self.idle, self.absolute)

    def current_session(self, request: Request) -> auth.Session | None:
        with self.db() as conn:
            return self.session_of(request, conn)

    def repo_for(self, session: auth.Session, conn) -> Repo:
        return Repo(self.config, conn, access.declaration().audience_of(session.staff.role))

    def audit(self, conn, request: Request, action: str, session: auth.Session, **fields) -> None:
        """One audit row for this request by this staff member (and the client's address)."""
        audit.record(conn, self.schema, action, staff=session.staff, client=client(request), **fields)

    def page(self, request: Request, permission: str, build: Callable[[auth.Session, Any, Repo], Response]) -> Response:
        """A signed-in page behind ``permission``: to the login page without a session, an audited
        refusal without the permission, else ``build(session, conn, repo)`` on the staff member's login."""
        session = self.current_session(request)
        if session is None:
            return expired_login(request)
        with self.staff_db(session) as conn:
            try:
                self.require(conn, request, session, permission)
            except Denied as exc:
                return self.error_page(request, exc, session)
            return build(session, conn, self.repo_for(session, conn))

    def deny(
        self, conn, request: Request, session: auth.Session, permission: str, object_id: str | None = None
    ) -> Denied:
        """Audit a refused action (in its own transaction, whatever the page does next) and say why."""
        with conn.transaction():
            self.audit(
                conn,
                request,
                "denied_action",
                session,
                object_type="child" if object_id else None,
                object_id=object_id,
                detail={"permission": permission},
            )
        return Denied(403, "この操作を行う権限がありません。")

    def require(
        self, conn, request: Request, session: auth.Session, permission: str, object_id: str | None = None
    ) -> None:
        if not session.staff.may(permission):
            raise self.deny(conn, request, session, permission, object_id)

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200, session=None
    ) -> HTMLResponse:
        ctx = {"staff": session.staff if session else None, "csrf": session.csrf_token if session else "", **context}
        return self.templates.TemplateResponse(request, name, ctx, status_code=status)

    def error_page(self, request: Request, exc: Denied, session=None) -> HTMLResponse:
        return self.render(request, "error.html", {"message": exc.message, "status": exc.status}, exc.status, session)


async def web_of(request: Request) -> Web:
    """The FastAPI dependency every router's routes take: the application's :class:`Web`."""
    return request.app.state.web


#: how a route asks for the application's :class:`Web`: ``def page(request: Request, web: WebDep)``
WebDep = Annotated[Web, Depends(web_of)]
