"""Identity review: the queue of uncertain matches and the unmatched records, and staff decisions on them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from mimamori.casescreen.validation import validate_identity_decision
from mimamori.casescreen.web import Denied, Web, WebDep, check_csrf, form_of, to_login

router = APIRouter()


def _template(status: str) -> str:
    return "identity.html" if status == "review" else "unmatched.html"


def identity_page(request: Request, web: Web, status: str):
    def build(session, conn, repo):
        records = repo.identity_records(status)
        action = "view_identity_queue" if status == "review" else "view_unmatched"
        web.audit(conn, request, action, session, detail={"count": len(records)})
        context = {"records": records, "saved": request.query_params.get("saved"), "errors": {}, "status": status}
        return web.render(request, _template(status), context, session=session)

    return web.page(request, "identity", build)


@router.get("/identity")
def identity(request: Request, web: WebDep):
    return identity_page(request, web, "review")


@router.get("/identity/unmatched")
def identity_unmatched(request: Request, web: WebDep):
    return identity_page(request, web, "unmatched")


def _check_decision(repo, form: dict):
    """The decision as validated, with the queue entry it is about (None when it is not in the queue)."""
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
    return result, entry


@router.post("/identity/decisions")
async def identity_decision(request: Request, web: WebDep):
    form = await form_of(request)
    session = web.current_session(request)
    if session is None:
        return to_login(request, expired=True)
    status = "unmatched" if form.get("back") == "unmatched" else "review"
    page = "/identity/unmatched" if status == "unmatched" else "/identity"
    with web.staff_db(session) as conn:
        repo = web.repo_for(session, conn)
        try:
            check_csrf(session, form)
            web.require(conn, request, session, "identity")
        except Denied as exc:
            return web.error_page(request, exc, session)
        result, entry = _check_decision(repo, form)
        if not result.ok:
            web.audit(
                conn, request, "rejected_input", session, detail={"fields": sorted(result.errors), "status": "identity"}
            )
            context = {
                "records": repo.identity_records(status),
                "errors": result.errors,
                "saved": None,
                "status": status,
            }
            return web.render(request, _template(status), context, 422, session)
        with conn.transaction():
            decision_id = repo.insert_identity_decision(entry, result.values, session.staff.username)
            web.audit(
                conn,
                request,
                "identity_decision",
                session,
                object_type="record",
                object_id=entry["record_id"],
                detail={
                    "decision_id": decision_id,
                    "person_id": result.values["person_id"],
                    "status": result.values["decision"],
                },
            )
        return RedirectResponse(f"{page}?saved=1", status_code=303)
