"""Validation of the screen's forms: every rule gives a Japanese message, and a form with any
error saves nothing (the caller writes only when ``errors`` is empty, in one transaction).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from mimamori.casescreen.vocab import (
    HAND_ENTRY_ORIGINS,
    ITEMS,
    OUTCOME_NEEDS_SUPPORT,
    OUTCOMES,
    OUTCOMES_NEEDING_REVIEW,
    SUPPORT_ACTIONS,
)

MAX_TEXT = 2000
MAX_SHORT = 100
MAX_REVIEW_DAYS = 2 * 366
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATE_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")


@dataclass
class Result:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(raw: Any) -> str:
    """NFKC-normalised (full-width digits → ASCII), stripped text."""
    if raw is None:
        return ""
    return unicodedata.normalize("NFKC", str(raw)).strip()


def parse_date(raw: Any) -> date | None:
    """YYYY-MM-DD or YYYY/MM/DD (full-width digits allowed); None if not a real date."""
    text = _text(raw)
    match = _DATE.match(text) or _DATE_SLASH.match(text)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _bounded(form: dict[str, Any], result: Result, name: str, label: str, limit: int, missing: str | None) -> str:
    """The text field `name`: `missing` is its error when it is empty (None: it may be), and it is
    at most `limit` characters."""
    value = _text(form.get(name))
    if missing and not value:
        result.errors[name] = missing
    elif len(value) > limit:
        result.errors[name] = f"{label}は{limit}文字以内にしてください。"
    return value


def validate_outcome(form: dict[str, Any], *, today: date, is_correction: bool = False) -> Result:
    """The conference-outcome form: outcome, reasons, support actions, responsible, review date."""
    result = Result()
    outcome = _text(form.get("outcome"))
    if outcome not in OUTCOMES:
        result.errors["outcome"] = "判定を「" + "・".join(OUTCOMES) + "」から選んでください。"
    run_month = _text(form.get("run_month"))
    if not _MONTH.match(run_month):
        result.errors["run_month"] = "判定の対象月（YYYY-MM）が正しくありません。画面を開き直してください。"
    reasons = _bounded(form, result, "reasons", "判定の理由", MAX_TEXT, "判定の理由を入力してください。")
    actions = [_text(a) for a in (form.get("support_actions") or []) if _text(a)]
    unknown = [a for a in actions if a not in SUPPORT_ACTIONS]
    other = _text(form.get("support_action_other"))
    if unknown:
        result.errors["support_actions"] = "支援内容の選択肢にない値が送られました。画面を開き直してください。"
    if other:
        if len(other) > MAX_SHORT:
            result.errors["support_action_other"] = f"その他の支援内容は{MAX_SHORT}文字以内にしてください。"
        else:
            actions.append(f"その他:{other}")
    if outcome == OUTCOME_NEEDS_SUPPORT and not actions:
        result.errors["support_actions"] = f"{OUTCOME_NEEDS_SUPPORT}の場合は支援内容を1つ以上選んでください。"
    responsible = _bounded(form, result, "responsible", "担当者", MAX_SHORT, "担当者を入力してください。")
    raw_review = _text(form.get("next_review_date"))
    review = parse_date(raw_review) if raw_review else None
    if raw_review and review is None:
        result.errors["next_review_date"] = "次回見直し日は 2026-12-01 の形の実在する日付で入力してください。"
    elif review is None and outcome in OUTCOMES_NEEDING_REVIEW:
        result.errors["next_review_date"] = f"{outcome}の場合は次回見直し日を入力してください。"
    elif review is not None and review <= today:
        result.errors["next_review_date"] = "次回見直し日は今日より後の日付にしてください。"
    elif review is not None and review > today + timedelta(days=MAX_REVIEW_DAYS):
        result.errors["next_review_date"] = "次回見直し日は2年以内にしてください。"
    raw_conf = _text(form.get("conference_date"))
    conference = parse_date(raw_conf) if raw_conf else today
    if conference is None:
        result.errors["conference_date"] = "会議日は 2026-11-20 の形の実在する日付で入力してください。"
    elif conference > today:
        result.errors["conference_date"] = "会議日に未来の日付は入力できません。"
    missing = "既に記録された判定を訂正する場合は、訂正の理由を入力してください。" if is_correction else None
    correction = _bounded(form, result, "correction_reason", "訂正の理由", MAX_TEXT, missing)
    result.values = {
        "outcome": outcome,
        "run_month": run_month,
        "reasons": reasons,
        "support_actions": actions,
        "responsible": responsible,
        "next_review_date": review,
        "conference_date": conference,
        "correction_reason": correction or None,
    }
    return result


def validate_hand_entry(
    form: dict[str, Any],
    *,
    today: date,
    known_items: dict[str, str] | None = None,
    birth_date: date | None = None,
    source_status: str | None = None,
) -> Result:
    """A hand-entered item: code, value (あり/なし), as-of date, origin; a reason to remove a
    source's true (domain.md §6: a source's true is removed only by a correction, with a reason)."""
    items = known_items or ITEMS
    result = Result()
    code = _text(form.get("item_code"))
    if code not in items:
        result.errors["item_code"] = "項目を一覧から選んでください。"
    raw_value = _text(form.get("value"))
    value = {"true": True, "false": False}.get(raw_value)
    if value is None:
        result.errors["value"] = "「該当あり」か「該当なし」を選んでください。"
    raw_date = _text(form.get("as_of_date"))
    as_of = parse_date(raw_date)
    if not raw_date:
        result.errors["as_of_date"] = "基準日（紙の記録の日付）を入力してください。"
    elif as_of is None:
        result.errors["as_of_date"] = "基準日は 2026-10-01 の形の実在する日付で入力してください。"
    elif as_of > today:
        result.errors["as_of_date"] = "基準日に未来の日付は入力できません。"
    elif birth_date is not None and as_of < birth_date - timedelta(days=300):
        result.errors["as_of_date"] = "基準日がこどもの出生より前（妊娠期間より前）になっています。"
    origin = _text(form.get("origin"))
    origin_other = _text(form.get("origin_other"))
    if origin == "その他":
        if not origin_other:
            result.errors["origin"] = "出所が「その他」の場合は、その内容を入力してください。"
        elif len(origin_other) > MAX_SHORT:
            result.errors["origin"] = f"出所は{MAX_SHORT}文字以内にしてください。"
        else:
            origin = f"その他:{origin_other}"
    elif origin not in HAND_ENTRY_ORIGINS:
        result.errors["origin"] = "出所（紙台帳など）を選んでください。"
    removes_a_source_true = value is False and source_status == "true"
    missing = "連携データで「該当」となっている項目を「該当なし」にするには、訂正の理由を入力してください。"
    correction = _bounded(
        form, result, "correction_reason", "訂正の理由", MAX_TEXT, missing if removes_a_source_true else None
    )
    result.values = {
        "item_code": code,
        "value": value,
        "as_of_date": as_of,
        "origin": origin,
        "correction_reason": correction or None,
    }
    return result


def validate_identity_decision(form: dict[str, Any]) -> Result:
    """same / different (a candidate, or for 'same' any resident by 宛名番号) or not_in_town."""
    result = Result()
    decision = _text(form.get("decision"))
    if decision not in ("same", "different", "not_in_town"):
        result.errors["decision"] = "「同一人物」「別人」「町内に該当者なし」のいずれかを選んでください。"
    record_key = _text(form.get("record_key"))
    person_id = unicodedata.normalize("NFKC", _text(form.get("person_id"))).strip()
    if not record_key:
        result.errors["record_key"] = "対象のレコードが指定されていません。画面を開き直してください。"
    elif decision in ("same", "different") and not person_id:
        result.errors["person_id"] = "同一人物・別人を記録するには、候補を選ぶか宛名番号を入力してください。"
    elif person_id and not re.fullmatch(r"[0-9A-Za-z-]{1,32}", person_id):
        result.errors["person_id"] = "宛名番号は半角の英数字で入力してください。"
    reason = _text(form.get("reason"))
    if len(reason) > MAX_TEXT:
        result.errors["reason"] = f"理由は{MAX_TEXT}文字以内にしてください。"
    result.values = {
        "decision": decision,
        "record_key": record_key,
        "person_id": person_id if decision != "not_in_town" else None,
        "reason": reason or None,
    }
    return result
