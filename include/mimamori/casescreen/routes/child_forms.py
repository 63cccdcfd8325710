"""The child page's forms: a conference outcome, a hand-entered item, a correction of linked data.

Each is checked by :func:`mimamori.casescreen.routes.children.child_post` (session, CSRF token,
permission, the child's visibility) before its handler runs; what a handler writes and its audit
row commit together.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from mimamori.casescreen.routes.children import CORRECTION_KINDS, ChildForm, child_post
from mimamori.casescreen.validation import validate_hand_entry, validate_outcome
from mimamori.casescreen.vocab import ITEMS
from mimamori.casescreen.web import WebDep, today

router = APIRouter()


def _saved(person_id: str, what: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/children/{quote(person_id)}?saved={what}#{anchor}", status_code=303)


def _record_outcome(f: ChildForm):
    run_month = (f.form.get("run_month") or "").strip()
    version = f.repo.latest_version(f.person_id, run_month) if run_month else 0
    result = validate_outcome(f.form, today=today(), is_correction=version > 0)
    if result.ok and run_month != f.month:
        result.errors["run_month"] = (
            f"公開中の月が {f.month} に変わりました。画面を開き直して、最新の判定を確認してから記録してください。"
        )
    if not result.ok:
        return f.reject(result.errors, which="outcome", status="outcome")
    with f.conn.transaction():
        outcome_id, version = f.repo.insert_outcome(f.person, result.values, f.session.staff.username)
        f.audit(
            "record_outcome",
            run_month=result.values["run_month"],
            detail={"outcome_id": outcome_id, "version": version},
        )
    return _saved(f.person_id, "outcome", "outcomes")


@router.post("/children/{person_id}/outcomes")
async def record_outcome(request: Request, person_id: str, web: WebDep):
    return await child_post(request, web, person_id, "outcome", _record_outcome)


def _hand_entry(f: ChildForm):
    editable = f.repo.editable_items()
    labels = {code: label for code, label in f.repo.item_labels().items() if code in editable}
    code = (f.form.get("item_code") or "").strip()
    if code in ITEMS and code not in editable:
        # an item of a department this audience may not edit (audience_departments.csv)
        return f.refuse("hand_entry")
    status = next((i["status"] for i in f.repo.item_matches(f.person_id) if i["code"] == code), None)
    result = validate_hand_entry(
        f.form, today=today(), known_items=labels, birth_date=f.person.get("birth_date"), source_status=status
    )
    if not result.ok:
        return f.reject(result.errors, which="hand", status="hand_entry")
    with f.conn.transaction():
        entry_id = f.repo.insert_hand_entry(f.person_id, result.values, f.session.staff.username)
        f.audit(
            "hand_entry",
            run_month=f.month,
            detail={"hand_entry_id": entry_id, "item_code": result.values["item_code"]},
        )
    return _saved(f.person_id, "hand", "hand-entry")


@router.post("/children/{person_id}/hand-entries")
async def hand_entry(request: Request, person_id: str, web: WebDep):
    return await child_post(request, web, person_id, "hand_entry", _hand_entry)


def _correction_errors(f: ChildForm, code: str, kind: str, reason: str, target: dict | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not code:
        errors["item_code"] = "訂正する項目を選んでください。"
    elif target is None:
        errors["item_code"] = "この項目には訂正できる連携データの記録がありません。"
    elif target.get("run_month") != f.month:
        errors["item_code"] = "公開中の月が変わりました。画面を開き直してください。"
    if kind not in CORRECTION_KINDS:
        errors["kind"] = "訂正の種類（別人の記録／値の誤り）を選んでください。"
    if not reason:
        errors["reason"] = "訂正の理由を入力してください。"
    elif len(reason) > 500:
        errors["reason"] = "訂正の理由は500文字以内で入力してください。"
    if not errors and not f.repo.has_corrections():
        errors = {"item_code": "訂正の記録表がまだありません（情報システム担当に連絡してください）。"}
    return errors


def _correction(f: ChildForm):
    code = (f.form.get("item_code") or "").strip()
    kind = (f.form.get("kind") or "").strip()
    reason = (f.form.get("reason") or "").strip()
    target = f.repo.correction_target(f.person_id, code) if code else None
    errors = _correction_errors(f, code, kind, reason, target)
    if errors:
        return f.reject(errors, which="correction", status="correction")
    with f.conn.transaction():
        correction_id, decision_id = f.repo.insert_correction(
            f.person_id, target, {"item_code": code, "kind": kind, "reason": reason}, f.session.staff.username
        )
        detail = {"correction_id": correction_id, "item_code": code, "status": kind}
        if target.get("record_id"):
            detail["record_id"] = target["record_id"]
        if decision_id:
            detail["decision_id"] = decision_id
        f.audit("correction", run_month=f.month, detail=detail)
    return _saved(f.person_id, "correction", "correction")


@router.post("/children/{person_id}/corrections")
async def correction(request: Request, person_id: str, web: WebDep):
    """A linked record is wrong for this child (wrong person / wrong value): recorded with a reason,
    audited, and honoured by every later run (docs/governance.md)."""
    return await child_post(request, web, person_id, "correct", _correction)
