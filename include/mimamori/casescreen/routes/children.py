"""The child's page and its printed sheet (情報収集シート), and what the page's forms share."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi import APIRouter, Request

from mimamori import access
from mimamori.casescreen.repo import Repo, age_on
from mimamori.casescreen.vocab import HAND_ENTRY_ORIGINS, OUTCOMES, SUPPORT_ACTIONS
from mimamori.casescreen.web import Denied, Web, WebDep, check_csrf, expired_login, form_of, to_login, today

router = APIRouter()

#: data corrections (docs/governance.md): kind → what staff read
CORRECTION_KINDS = {
    "wrong_person": "別人の記録（このこども・世帯の人の記録ではない）",
    "wrong_value": "値の誤り（この項目について記録の内容が誤っている）",
}


def child_access(web: Web, repo: Repo, session, person_id: str, month: str | None, request: Request) -> dict:
    """The child if this staff member may see them; 404/403 otherwise (a refusal is audited).

    For an audience whose rows are scoped (the school board: this month's 学齢簿) a child
    outside the scope is refused (403) whether or not the child exists; the database would
    return no row for them anyway."""
    web.require(repo.conn, request, session, "view", person_id)
    scoped = repo.audience is not None and repo.audience.row_scope == "school_register"
    if scoped and not repo.on_school_register(person_id):
        web.audit(
            repo.conn, request, "denied_child", session, object_type="child", object_id=person_id, run_month=month
        )
        raise Denied(403, "このこどもは今月の学齢簿に載っていないため、教育委員会の権限では閲覧できません。")
    person = repo.person(person_id)
    if person is None or not person.get("in_scope"):
        raise Denied(404, "該当するこどもが見つかりません（今月の対象外か、番号が誤っています）。")
    return person


def _items_with_hand_entries(repo: Repo, person_id: str) -> tuple[list[dict], list[dict]]:
    """The child's item matches, each with its latest hand entry; and all hand entries."""
    items = repo.item_matches(person_id)
    hand = repo.hand_entries(person_id)
    latest_hand: dict[str, dict] = {}
    for entry in hand:
        latest_hand.setdefault(entry["item_code"], entry)
    for item in items:
        item["hand"] = latest_hand.get(item["code"])
    return items, hand


def child_context(repo: Repo, person: dict, month: str | None) -> dict[str, Any]:
    person_id = person["person_id"]
    items, hand = _items_with_hand_entries(repo, person_id)
    scores = repo.type_scores(person_id)
    members = repo.household(person.get("household_id"))
    as_of = today()
    for m in members:
        m["age"] = age_on(m.get("birth_date"), as_of)
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
        "verdicts": repo.type_verdicts(person_id),
        "flagged": [s for s in scores if s["is_flagged"]],
        "total_points": repo.total_points(person_id),
        "history": repo.score_history(person_id),
        "members": members,
        "affiliations": repo.affiliations(person_id),
        "outcomes": repo.outcomes(person_id),
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
    web: Web, request, repo, session, person, month, *, errors=None, form=None, which=None, saved=None, status=200
):
    ctx = child_context(repo, person, month)
    ctx.update({"errors": errors or {}, "form": form or {}, "which": which, "saved": saved})
    return web.render(request, "child.html", ctx, status, session)


def child_page(request: Request, web: Web, person_id: str, action: str, template: str | None):
    """GET of the child's page (``template`` None) or its printed sheet, audited as ``action``."""
    session = web.current_session(request)
    if session is None:
        return expired_login(request)
    with web.staff_db(session) as conn:
        repo = web.repo_for(session, conn)
        month = repo.current_month()
        try:
            if template is not None:
                web.require(conn, request, session, "sheet", person_id)
            person = child_access(web, repo, session, person_id, month, request)
        except Denied as exc:
            conn.commit()
            return web.error_page(request, exc, session)
        web.audit(conn, request, action, session, object_type="child", object_id=person_id, run_month=month)
        if template is None:
            return child_response(web, request, repo, session, person, month, saved=request.query_params.get("saved"))
        return web.render(request, template, child_context(repo, person, month), session=session)


@router.get("/children/{person_id}")
def child(request: Request, person_id: str, web: WebDep):
    return child_page(request, web, person_id, "view_child", None)


@router.get("/children/{person_id}/sheet")
def sheet(request: Request, person_id: str, web: WebDep):
    return child_page(request, web, person_id, "export_sheet", "sheet.html")


class ChildForm:
    """One POST of a form on the child's page, after the session, CSRF token, permission and the
    child's visibility have been checked: what the form's handler works with."""

    def __init__(self, web: Web, request: Request, conn, repo: Repo, session, person: dict, month, form: dict):
        self.web, self.request, self.conn, self.repo = web, request, conn, repo
        self.session, self.person, self.month, self.form = session, person, month, form

    @property
    def person_id(self) -> str:
        return self.person["person_id"]

    def audit(self, action: str, **fields) -> None:
        self.web.audit(
            self.conn, self.request, action, self.session, object_type="child", object_id=self.person_id, **fields
        )

    def reject(self, errors: dict[str, str], which: str, status: str):
        """The form failed validation: audit which fields (never their values) and show the page
        again with the errors (422)."""
        self.audit("rejected_input", run_month=self.month, detail={"fields": sorted(errors), "status": status})
        web, request = self.web, self.request
        return child_response(
            web,
            request,
            self.repo,
            self.session,
            self.person,
            self.month,
            errors=errors,
            form=self.form,
            which=which,
            status=422,
        )

    def refuse(self, permission: str):
        """Audit and show a refusal of this form's action."""
        exc = self.web.deny(self.conn, self.request, self.session, permission, self.person_id)
        return self.web.error_page(self.request, exc, self.session)


async def child_post(request: Request, web: Web, person_id: str, permission: str, handler):
    """A form on the child's page: checked as :class:`ChildForm` says, then ``handler(ChildForm)``."""
    form = await form_of(request)
    session = web.current_session(request)
    if session is None:
        return to_login(request, expired=True)
    with web.staff_db(session) as conn:
        repo = web.repo_for(session, conn)
        month = repo.current_month()
        try:
            check_csrf(session, form)
            web.require(conn, request, session, permission, person_id)
            person = child_access(web, repo, session, person_id, month, request)
        except Denied as exc:
            conn.commit()
            return web.error_page(request, exc, session)
        try:
            return handler(ChildForm(web, request, conn, repo, session, person, month, form))
        except psycopg.errors.InsufficientPrivilege:
            # the database refused what the declaration should already have refused: say so, audited
            conn.rollback()
            return ChildForm(web, request, conn, repo, session, person, month, form).refuse(permission)
