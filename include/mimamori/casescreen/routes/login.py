"""Health check, login and logout: these run as the application's own login (casework)."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from mimamori.casescreen import audit, auth
from mimamori.casescreen.web import PRE_COOKIE, SESSION_COOKIE, Web, WebDep, client, form_of

router = APIRouter()

#: the one answer to a refused login, whatever the reason (auth.authenticate)
LOGIN_REFUSED = (
    "ユーザー名またはパスワードが正しくありません。続けて誤るとアカウントが一時的にロックされます。"
    "ロックの解除は情報システム担当に依頼してください。"
)
LOGIN_ADDRESS_LIMITED = (
    f"この端末からのログインの失敗が続いたため、{auth.WINDOW_MINUTES}分間ログインを受け付けません。"
    "時間をおいてからもう一度お試しください。"
)


@router.get("/healthz", response_class=PlainTextResponse)
def healthz(web: WebDep):
    try:
        with web.db() as conn:
            conn.execute("select 1")
    except psycopg.Error:
        return PlainTextResponse("database unavailable", status_code=503)
    return PlainTextResponse("ok")


@router.get("/")
def index():
    return RedirectResponse("/candidates", status_code=303)


def login_page(web: Web, request: Request, message: str = "", status: int = 200, username: str = "") -> HTMLResponse:
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    context = {
        "login_csrf": auth.login_csrf_token(web.config.secret_key, pre),
        "message": message,
        "next": request.query_params.get("next") or "",
        "expired": request.query_params.get("expired") == "1",
        "username": username,
    }
    response = web.render(request, "login.html", context, status)
    response.set_cookie(
        PRE_COOKIE, pre, httponly=True, samesite="strict", secure=web.config.cookie_secure, path="/login"
    )
    return response


@router.get("/login")
def login_get(request: Request, web: WebDep):
    return login_page(web, request)


def _safe_next(nxt: str) -> str:
    """Where to go after login: a path on this site only."""
    parts = urlsplit(nxt)
    if parts.scheme or parts.netloc or not nxt.startswith("/") or nxt.startswith("//"):
        return "/candidates"
    return nxt


@router.post("/login")
async def login_post(request: Request, web: WebDep):
    form = await form_of(request)
    if not auth.check_login_csrf(web.config.secret_key, request.cookies.get(PRE_COOKIE), form.get("csrf_token")):
        return login_page(web, request, "ログイン画面の有効期限が切れました。もう一度入力してください。", 403)
    username = (form.get("username") or "").strip().lower()[: auth.MAX_USERNAME_LENGTH]
    password = form.get("password") or ""
    with web.db() as conn:
        # audits the attempt itself (login / login_failed with the name as typed and the address)
        staff, reason = auth.authenticate(conn, web.schema, username, password, client(request))
        if staff is None:
            conn.commit()  # the failure and its audit row count even though the login fails
            if reason == "address_limited":  # says nothing about the name: the same for every name
                response = login_page(web, request, LOGIN_ADDRESS_LIMITED, 429, username)
                response.headers["Retry-After"] = str(auth.WINDOW_MINUTES * 60)
                return response
            # unknown name, wrong password, locked or deactivated account: one answer for all
            return login_page(web, request, LOGIN_REFUSED, 401, username)
        auth.purge_expired(conn, web.schema, web.idle)
        token, _ = auth.create_session(conn, web.schema, staff)
    response = RedirectResponse(_safe_next(form.get("next") or "/candidates"), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=web.config.cookie_secure, path="/")
    response.delete_cookie(PRE_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, web: WebDep):
    form = await form_of(request)
    with web.db() as conn:
        session = web.session_of(request, conn)
        if session and auth.tokens_equal(session.csrf_token, form.get("csrf_token")):
            audit.record(conn, web.schema, "logout", staff=session.staff, client=client(request))
            auth.end_session(conn, web.schema, session.session_hash)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
