"""The FastAPI application: pages, forms, access control, audit.

Who may see and do what comes from the audience declaration (``mimamori.access``), and the
database enforces it: the login page and the session check run as the login ``casework``, which
reads no child data; every signed-in page then runs, in one transaction, as the case-screen login
of the staff member's audience (``case_<audience>``), whose grants, column privileges and
row-level security are the wall. The page's reads, its audit row and (for a form) its write commit
together or not at all. A request the declaration refuses, or the database refuses, is audited.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from mimamori import access
from mimamori.casescreen import audit, auth
from mimamori.casescreen import candidates as candidate_filters
from mimamori.casescreen.config import CaseScreenConfig, load_config
from mimamori.casescreen.repo import Repo, age_on
from mimamori.casescreen.validation import validate_hand_entry, validate_identity_decision, validate_outcome
from mimamori.casescreen.vocab import (
    COMPARISON_LABELS,
    HAND_ENTRY_ORIGINS,
    ITEMS,
    OUTCOMES,
    ROLES,
    SUPPORT_ACTIONS,
    TYPE_LABELS,
)

HERE = Path(__file__).resolve().parent
#: data corrections (docs/governance.md): kind → what staff read
CORRECTION_KINDS = {
    "wrong_person": "別人の記録（このこども・世帯の人の記録ではない）",
    "wrong_value": "値の誤り（この項目について記録の内容が誤っている）",
}
TOKYO = ZoneInfo("Asia/Tokyo")
SESSION_COOKIE = "mm_session"
PRE_COOKIE = "mm_pre"
#: the one answer to a refused login, whatever the reason (auth.authenticate)
LOGIN_REFUSED = (
    "ユーザー名またはパスワードが正しくありません。続けて誤るとアカウントが一時的にロックされます。"
    "ロックの解除は情報システム担当に依頼してください。"
)
LOGIN_ADDRESS_LIMITED = (
    f"この端末からのログインの失敗が続いたため、{auth.WINDOW_MINUTES}分間ログインを受け付けません。"
    "時間をおいてからもう一度お試しください。"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Denied(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message


def today() -> date:
    return datetime.now(TOKYO).date()


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


def create_app(config: CaseScreenConfig | None = None) -> FastAPI:
    config = config or load_config()
    app = FastAPI(title="こども見守り ケース画面", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["d"] = _fmt_date
    templates.env.filters["sex"] = _sex
    templates.env.filters["num"] = _num
    templates.env.globals.update(ROLES=ROLES, TYPE_LABELS=TYPE_LABELS, COMPARISON_LABELS=COMPARISON_LABELS)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.config = config
    idle = timedelta(minutes=config.idle_minutes)
    absolute = timedelta(hours=config.absolute_hours)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @contextmanager
    def db() -> Iterator[psycopg.Connection]:
        with psycopg.connect(config.dsn(), connect_timeout=10) as conn:
            yield conn

    @contextmanager
    def staff_db(session: auth.Session) -> Iterator[psycopg.Connection]:
        """The signed-in staff member's connection: their audience's case-screen login."""
        with psycopg.connect(config.audience_dsn(session.staff.role), connect_timeout=10) as conn:
            yield conn

    def current_session(request: Request) -> auth.Session | None:
        with db() as conn:
            return session_of(request, conn)

    def repo_for(session: auth.Session, conn) -> Repo:
        return Repo(config, conn, access.declaration().audience_of(session.staff.role))

    def client(request: Request) -> str | None:
        return request.client.host if request.client else None

    def deny(conn, request: Request, session: auth.Session, permission: str, object_id: str | None = None) -> Denied:
        """Audit a refused action (in its own transaction, whatever the page does next) and say why."""
        with conn.transaction():
            audit.record(
                conn,
                config.casework_schema,
                "denied_action",
                staff=session.staff,
                object_type="child" if object_id else None,
                object_id=object_id,
                detail={"permission": permission},
                client=client(request),
            )
        return Denied(403, "この操作を行う権限がありません。")

    def render(request: Request, name: str, context: dict[str, Any], status: int = 200, session=None) -> HTMLResponse:
        ctx = {"staff": session.staff if session else None, "csrf": session.csrf_token if session else "", **context}
        return templates.TemplateResponse(request, name, ctx, status_code=status)

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

    def session_of(request: Request, conn) -> auth.Session | None:
        return auth.load_session(conn, config.casework_schema, request.cookies.get(SESSION_COOKIE), idle, absolute)

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

    def error_page(request: Request, exc: Denied, session=None) -> HTMLResponse:
        return render(request, "error.html", {"message": exc.message, "status": exc.status}, exc.status, session)

    def require(conn, request: Request, session: auth.Session, permission: str, object_id: str | None = None) -> None:
        if not session.staff.may(permission):
            raise deny(conn, request, session, permission, object_id)

    def child_access(repo: Repo, session: auth.Session, person_id: str, month: str | None, request: Request) -> dict:
        """The child if this staff member may see them; 404/403 otherwise (a refusal is audited).

        For an audience whose rows are scoped (the school board: this month's 学齢簿) a child
        outside the scope is refused (403) whether or not the child exists; the database would
        return no row for them anyway."""
        require(repo.conn, request, session, "view", person_id)
        scoped = repo.audience is not None and repo.audience.row_scope == "school_register"
        if scoped and not repo.on_school_register(person_id):
            audit.record(
                repo.conn,
                config.casework_schema,
                "denied_child",
                staff=session.staff,
                object_type="child",
                object_id=person_id,
                run_month=month,
                client=client(request),
            )
            raise Denied(403, "このこどもは今月の学齢簿に載っていないため、教育委員会の権限では閲覧できません。")
        person = repo.person(person_id)
        if person is None or not person.get("in_scope"):
            raise Denied(404, "該当するこどもが見つかりません（今月の対象外か、番号が誤っています）。")
        return person

    # --- health, login ---------------------------------------------------------------------------

    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz():
        try:
            with db() as conn:
                conn.execute("select 1")
        except psycopg.Error:
            return PlainTextResponse("database unavailable", status_code=503)
        return PlainTextResponse("ok")

    @app.get("/")
    def index():
        return RedirectResponse("/candidates", status_code=303)

    def login_page(request: Request, message: str = "", status: int = 200, username: str = "") -> HTMLResponse:
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
        nxt = request.query_params.get("next") or ""
        response = render(
            request,
            "login.html",
            {
                "login_csrf": auth.login_csrf_token(config.secret_key, pre),
                "message": message,
                "next": nxt,
                "expired": request.query_params.get("expired") == "1",
                "username": username,
            },
            status,
        )
        response.set_cookie(
            PRE_COOKIE, pre, httponly=True, samesite="strict", secure=config.cookie_secure, path="/login"
        )
        return response

    @app.get("/login")
    def login_get(request: Request):
        return login_page(request)

    @app.post("/login")
    async def login_post(request: Request):
        form = await form_of(request)
        if not auth.check_login_csrf(config.secret_key, request.cookies.get(PRE_COOKIE), form.get("csrf_token")):
            return login_page(request, "ログイン画面の有効期限が切れました。もう一度入力してください。", 403)
        username = (form.get("username") or "").strip().lower()[: auth.MAX_USERNAME_LENGTH]
        password = form.get("password") or ""
        with db() as conn:
            # audits the attempt itself (login / login_failed with the name as typed and the address)
            staff, reason = auth.authenticate(conn, config.casework_schema, username, password, client(request))
            if staff is None:
                conn.commit()  # the failure and its audit row count even though the login fails
                if reason == "address_limited":  # says nothing about the name: the same for every name
                    response = login_page(request, LOGIN_ADDRESS_LIMITED, 429, username)
                    response.headers["Retry-After"] = str(auth.WINDOW_MINUTES * 60)
                    return response
                # unknown name, wrong password, locked or deactivated account: one answer for all
                return login_page(request, LOGIN_REFUSED, 401, username)
            auth.purge_expired(conn, config.casework_schema, idle)
            token, _ = auth.create_session(conn, config.casework_schema, staff)
        nxt = form.get("next") or "/candidates"
        parts = urlsplit(nxt)
        if parts.scheme or parts.netloc or not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/candidates"
        response = RedirectResponse(nxt, status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=config.cookie_secure, path="/")
        response.delete_cookie(PRE_COOKIE, path="/login")
        return response

    @app.post("/logout")
    async def logout(request: Request):
        form = await form_of(request)
        with db() as conn:
            session = session_of(request, conn)
            if session and auth.tokens_equal(session.csrf_token, form.get("csrf_token")):
                audit.record(conn, config.casework_schema, "logout", staff=session.staff, client=client(request))
                auth.end_session(conn, config.casework_schema, session.session_hash)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # --- candidates and follow-ups ----------------------------------------------------------------

    @app.get("/candidates")
    def candidates(request: Request):
        session = current_session(request)
        if session is None:
            return to_login(request, expired=SESSION_COOKIE in request.cookies)
        with staff_db(session) as conn:
            try:
                require(conn, request, session, "view")
            except Denied as exc:
                return error_page(request, exc, session)
            repo = repo_for(session, conn)
            month = repo.current_month()
            view = candidate_filters.apply(repo.candidates(), candidate_filters.read_filters(request.query_params))
            households = view.households
            follow_ups = repo.follow_ups()
            audit.record(
                conn,
                config.casework_schema,
                "view_candidates",
                staff=session.staff,
                run_month=month,
                detail={"count": sum(len(h["children"]) for h in households)},
                client=client(request),
            )
            return render(
                request,
                "candidates.html",
                {
                    "month": month,
                    "households": households,
                    "view": view,
                    "follow_ups": follow_ups,
                    "audience": repo.audience,
                },
                session=session,
            )

    # --- the child's page ------------------------------------------------------------------------

    def child_context(repo: Repo, person: dict, month: str | None) -> dict[str, Any]:
        person_id = person["person_id"]
        items = repo.item_matches(person_id)
        hand = repo.hand_entries(person_id)
        latest_hand: dict[str, dict] = {}
        for entry in hand:
            latest_hand.setdefault(entry["item_code"], entry)
        for item in items:
            item["hand"] = latest_hand.get(item["code"])
        scores = repo.type_scores(person_id)
        verdicts = repo.type_verdicts(person_id)
        members = repo.household(person.get("household_id"))
        as_of = today()
        for m in members:
            m["age"] = age_on(m.get("birth_date"), as_of)
        outcomes = repo.outcomes(person_id)
        labels = repo.item_labels()
        editable = repo.editable_items()
        return {
            "month": month,
            "person": person,
            "audience": repo.audience,
            "items_limited": repo.audience is not None
            and not access.declaration().sees_all_departments(repo.audience.code),
            "items": items,
            "matched": [i for i in items if i["status"] == "true"],
            "unknown": [i for i in items if i["status"] == "unknown"],
            "scores": scores,
            "verdicts": verdicts,
            "flagged": [s for s in scores if s["is_flagged"]],
            "total_points": repo.total_points(person_id),
            "history": repo.score_history(person_id),
            "members": members,
            "affiliations": repo.affiliations(person_id),
            "outcomes": outcomes,
            "may_read_outcomes": repo.may_read("conference_outcomes"),
            "hand_entries": hand,
            "corrections": repo.corrections(person_id),
            "can_correct": repo.has_corrections(),
            "CORRECTION_KINDS": CORRECTION_KINDS,
            "version_this_month": repo.latest_version(person_id, month) if month else 0,
            "OUTCOMES": OUTCOMES,
            "SUPPORT_ACTIONS": SUPPORT_ACTIONS,
            "ORIGINS": HAND_ENTRY_ORIGINS,
            "item_labels": labels,
            "editable_labels": {code: label for code, label in labels.items() if code in editable},
            "today": as_of,
        }

    def child_response(
        request, repo, session, person, month, *, errors=None, form=None, which=None, saved=None, status=200
    ):
        ctx = child_context(repo, person, month)
        ctx.update({"errors": errors or {}, "form": form or {}, "which": which, "saved": saved})
        return render(request, "child.html", ctx, status, session)

    def reject_child_input(conn, request, repo, session, person, month, *, errors, form, which, status):
        """A form on the child page failed validation: audit which fields (never their values)
        and show the page again with the errors (422)."""
        audit.record(
            conn,
            config.casework_schema,
            "rejected_input",
            staff=session.staff,
            object_type="child",
            object_id=person["person_id"],
            run_month=month,
            detail={"fields": sorted(errors), "status": status},
            client=client(request),
        )
        return child_response(request, repo, session, person, month, errors=errors, form=form, which=which, status=422)

    def child_page(request: Request, person_id: str, action: str, template: str | None):
        """GET of the child's page (``template`` None) or its printed sheet, audited as ``action``."""
        session = current_session(request)
        if session is None:
            return to_login(request, expired=SESSION_COOKIE in request.cookies)
        with staff_db(session) as conn:
            repo = repo_for(session, conn)
            month = repo.current_month()
            try:
                if template is not None:
                    require(conn, request, session, "sheet", person_id)
                person = child_access(repo, session, person_id, month, request)
            except Denied as exc:
                conn.commit()
                return error_page(request, exc, session)
            audit.record(
                conn,
                config.casework_schema,
                action,
                staff=session.staff,
                object_type="child",
                object_id=person_id,
                run_month=month,
                client=client(request),
            )
            if template is None:
                return child_response(request, repo, session, person, month, saved=request.query_params.get("saved"))
            return render(request, template, child_context(repo, person, month), session=session)

    @app.get("/children/{person_id}")
    def child(request: Request, person_id: str):
        return child_page(request, person_id, "view_child", None)

    @app.get("/children/{person_id}/sheet")
    def sheet(request: Request, person_id: str):
        return child_page(request, person_id, "export_sheet", "sheet.html")

    async def child_post(request: Request, person_id: str, permission: str, handler):
        form = await form_of(request)
        session = current_session(request)
        if session is None:
            return to_login(request, expired=True)
        with staff_db(session) as conn:
            repo = repo_for(session, conn)
            month = repo.current_month()
            try:
                check_csrf(session, form)
                require(conn, request, session, permission, person_id)
                person = child_access(repo, session, person_id, month, request)
            except Denied as exc:
                conn.commit()
                return error_page(request, exc, session)
            try:
                return handler(conn, repo, session, person, month, form)
            except psycopg.errors.InsufficientPrivilege:
                # the database refused what the declaration should already have refused: say so, audited
                conn.rollback()
                exc = deny(conn, request, session, permission, person_id)
                return error_page(request, exc, session)

    @app.post("/children/{person_id}/outcomes")
    async def record_outcome(request: Request, person_id: str):
        def handle(conn, repo: Repo, session, person, month, form):
            run_month = (form.get("run_month") or "").strip()
            version = repo.latest_version(person_id, run_month) if run_month else 0
            result = validate_outcome(form, today=today(), is_correction=version > 0)
            if result.ok and run_month != month:
                result.errors["run_month"] = (
                    f"公開中の月が {month} に変わりました。画面を開き直して、最新の判定を確認してから記録してください。"
                )
            if not result.ok:
                return reject_child_input(
                    conn,
                    request,
                    repo,
                    session,
                    person,
                    month,
                    errors=result.errors,
                    form=form,
                    which="outcome",
                    status="outcome",
                )
            with conn.transaction():
                outcome_id, version = repo.insert_outcome(person, result.values, session.staff.username)
                audit.record(
                    conn,
                    config.casework_schema,
                    "record_outcome",
                    staff=session.staff,
                    object_type="child",
                    object_id=person_id,
                    run_month=result.values["run_month"],
                    detail={"outcome_id": outcome_id, "version": version},
                    client=client(request),
                )
            return RedirectResponse(f"/children/{quote(person_id)}?saved=outcome#outcomes", status_code=303)

        return await child_post(request, person_id, "outcome", handle)

    @app.post("/children/{person_id}/hand-entries")
    async def hand_entry(request: Request, person_id: str):
        def handle(conn, repo: Repo, session, person, month, form):
            editable = repo.editable_items()
            labels = {code: label for code, label in repo.item_labels().items() if code in editable}
            code = (form.get("item_code") or "").strip()
            if code in ITEMS and code not in editable:
                # an item of a department this audience may not edit (audience_departments.csv)
                return error_page(request, deny(conn, request, session, "hand_entry", person_id), session)
            status = next((i["status"] for i in repo.item_matches(person_id) if i["code"] == code), None)
            result = validate_hand_entry(
                form, today=today(), known_items=labels, birth_date=person.get("birth_date"), source_status=status
            )
            if not result.ok:
                return reject_child_input(
                    conn,
                    request,
                    repo,
                    session,
                    person,
                    month,
                    errors=result.errors,
                    form=form,
                    which="hand",
                    status="hand_entry",
                )
            with conn.transaction():
                entry_id = repo.insert_hand_entry(person_id, result.values, session.staff.username)
                audit.record(
                    conn,
                    config.casework_schema,
                    "hand_entry",
                    staff=session.staff,
                    object_type="child",
                    object_id=person_id,
                    run_month=month,
                    detail={"hand_entry_id": entry_id, "item_code": result.values["item_code"]},
                    client=client(request),
                )
            return RedirectResponse(f"/children/{quote(person_id)}?saved=hand#hand-entry", status_code=303)

        return await child_post(request, person_id, "hand_entry", handle)

    @app.post("/children/{person_id}/corrections")
    async def correction(request: Request, person_id: str):
        """A linked record is wrong for this child (wrong person / wrong value): recorded with a reason,
        audited, and honoured by every later run (docs/governance.md)."""

        def handle(conn, repo: Repo, session, person, month, form):
            code = (form.get("item_code") or "").strip()
            kind = (form.get("kind") or "").strip()
            reason = (form.get("reason") or "").strip()
            errors: dict[str, str] = {}
            target = repo.correction_target(person_id, code) if code else None
            if not code:
                errors["item_code"] = "訂正する項目を選んでください。"
            elif target is None:
                errors["item_code"] = "この項目には訂正できる連携データの記録がありません。"
            elif target.get("run_month") != month:
                errors["item_code"] = "公開中の月が変わりました。画面を開き直してください。"
            if kind not in CORRECTION_KINDS:
                errors["kind"] = "訂正の種類（別人の記録／値の誤り）を選んでください。"
            if not reason:
                errors["reason"] = "訂正の理由を入力してください。"
            elif len(reason) > 500:
                errors["reason"] = "訂正の理由は500文字以内で入力してください。"
            if errors or not repo.has_corrections():
                errors = errors or {"item_code": "訂正の記録表がまだありません（情報システム担当に連絡してください）。"}
                return reject_child_input(
                    conn,
                    request,
                    repo,
                    session,
                    person,
                    month,
                    errors=errors,
                    form=form,
                    which="correction",
                    status="correction",
                )
            with conn.transaction():
                correction_id, decision_id = repo.insert_correction(
                    person_id, target, {"item_code": code, "kind": kind, "reason": reason}, session.staff.username
                )
                detail = {"correction_id": correction_id, "item_code": code, "status": kind}
                if target.get("record_id"):
                    detail["record_id"] = target["record_id"]
                if decision_id:
                    detail["decision_id"] = decision_id
                audit.record(
                    conn,
                    config.casework_schema,
                    "correction",
                    staff=session.staff,
                    object_type="child",
                    object_id=person_id,
                    run_month=month,
                    detail=detail,
                    client=client(request),
                )
            return RedirectResponse(f"/children/{quote(person_id)}?saved=correction#correction", status_code=303)

        return await child_post(request, person_id, "correct", handle)

    # --- identity review -------------------------------------------------------------------------

    def identity_page(request: Request, status: str):
        session = current_session(request)
        if session is None:
            return to_login(request, expired=SESSION_COOKIE in request.cookies)
        with staff_db(session) as conn:
            try:
                require(conn, request, session, "identity")
            except Denied as exc:
                return error_page(request, exc, session)
            repo = repo_for(session, conn)
            records = repo.identity_records(status)
            audit.record(
                conn,
                config.casework_schema,
                "view_identity_queue" if status == "review" else "view_unmatched",
                staff=session.staff,
                detail={"count": len(records)},
                client=client(request),
            )
            return render(
                request,
                "identity.html" if status == "review" else "unmatched.html",
                {"records": records, "saved": request.query_params.get("saved"), "errors": {}, "status": status},
                session=session,
            )

    @app.get("/identity")
    def identity(request: Request):
        return identity_page(request, "review")

    @app.get("/identity/unmatched")
    def identity_unmatched(request: Request):
        return identity_page(request, "unmatched")

    @app.post("/identity/decisions")
    async def identity_decision(request: Request):
        form = await form_of(request)
        session = current_session(request)
        if session is None:
            return to_login(request, expired=True)
        status = "unmatched" if form.get("back") == "unmatched" else "review"
        page = "/identity/unmatched" if status == "unmatched" else "/identity"
        with staff_db(session) as conn:
            repo = repo_for(session, conn)
            try:
                check_csrf(session, form)
                require(conn, request, session, "identity")
            except Denied as exc:
                return error_page(request, exc, session)
            result = validate_identity_decision(form)
            entry = repo.identity_entry(result.values["record_key"]) if result.ok else None
            if result.ok and entry is None:
                result.errors["record_key"] = "この記録は確認キュー・未照合一覧にありません。画面を開き直してください。"
            elif result.ok and result.values["decision"] != "not_in_town":
                person_id = result.values["person_id"]
                is_candidate = any(c["person_id"] == person_id for c in entry["candidates"])
                typed_resident = result.values["decision"] == "same" and repo.resident_exists(person_id)
                if not (is_candidate or typed_resident):
                    result.errors["person_id"] = (
                        "この宛名番号は候補にも今月の住民記録にもありません。番号を確かめてください。"
                        if result.values["decision"] == "same"
                        else "この組み合わせは確認キューにありません。画面を開き直してください。"
                    )
            if not result.ok:
                audit.record(
                    conn,
                    config.casework_schema,
                    "rejected_input",
                    staff=session.staff,
                    detail={"fields": sorted(result.errors), "status": "identity"},
                    client=client(request),
                )
                return render(
                    request,
                    "identity.html" if status == "review" else "unmatched.html",
                    {
                        "records": repo.identity_records(status),
                        "errors": result.errors,
                        "saved": None,
                        "status": status,
                    },
                    422,
                    session,
                )
            with conn.transaction():
                decision_id = repo.insert_identity_decision(entry, result.values, session.staff.username)
                audit.record(
                    conn,
                    config.casework_schema,
                    "identity_decision",
                    staff=session.staff,
                    object_type="record",
                    object_id=entry["record_id"],
                    detail={
                        "decision_id": decision_id,
                        "person_id": result.values["person_id"],
                        "status": result.values["decision"],
                    },
                    client=client(request),
                )
            return RedirectResponse(f"{page}?saved=1", status_code=303)

    # --- audit page ------------------------------------------------------------------------------

    @app.get("/audit")
    def audit_page(request: Request):
        session = current_session(request)
        if session is None:
            return to_login(request, expired=SESSION_COOKIE in request.cookies)
        with staff_db(session) as conn:
            try:
                require(conn, request, session, "audit")
            except Denied as exc:
                return error_page(request, exc, session)
            repo = repo_for(session, conn)
            q = request.query_params
            filters = {k: (q.get(k) or "").strip()[:64] for k in ("username", "object_id", "action")}
            rows = repo.audit_rows(**filters)
            audit.record(
                conn,
                config.casework_schema,
                "view_audit",
                staff=session.staff,
                detail={"count": len(rows)},
                client=client(request),
            )
            return render(
                request,
                "audit.html",
                {
                    "rows": rows,
                    "filters": filters,
                    "ACTIONS": audit.ACTIONS,
                    "OBJECT_LABELS": audit.OBJECT_LABELS,
                    "readable": audit.readable_detail,
                },
                session=session,
            )

    @app.exception_handler(404)
    async def not_found(request: Request, exc):
        return templates.TemplateResponse(
            request,
            "error.html",
            {"message": "ページが見つかりません。", "status": 404, "staff": None},
            status_code=404,
        )

    return app
