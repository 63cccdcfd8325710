"""The audit trail: who did what, when, to which child — ids only, never a personal value.

Every view of a child's page, every edit and every export (printed sheet) writes one row to
``casework.audit_log`` in the same transaction as the action itself, so an action that is not
logged does not happen. ``detail`` may hold only ids, codes, counts and version numbers: the
whitelist below refuses anything else (a name, a reason text, an item's value).
"""

from __future__ import annotations

import json
import re
from typing import Any

from psycopg import sql

#: actions the screen records
ACTIONS = {
    "login": "ログイン",
    "login_failed": "ログイン失敗",
    "unlock": "ロック解除",
    "logout": "ログアウト",
    "view_candidates": "候補一覧の閲覧",
    "view_child": "こどもページの閲覧",
    "denied_child": "閲覧拒否（権限外）",
    "denied_action": "操作の拒否（権限外）",
    "export_sheet": "情報収集シートの出力",
    "record_outcome": "判定の記録",
    "hand_entry": "項目の手入力",
    "view_identity_queue": "名寄せ確認キューの閲覧",
    "view_unmatched": "未照合一覧の閲覧",
    "identity_decision": "名寄せの判断",
    "view_audit": "監査ログの閲覧",
    "rejected_input": "入力エラー（保存なし）",
    "correction": "データ訂正の記録",
    "disclosure_export": "開示請求による出力",
}

_DETAIL_KEYS = {
    "outcome_id",
    "version",
    "hand_entry_id",
    "item_code",
    "decision_id",
    "correction_id",
    "record_id",
    "person_id",
    "household_id",
    "fields",
    "count",
    "reason_code",
    "status",
    "permission",
}
#: how each detail key and object type reads on the audit page
DETAIL_LABELS = {
    "outcome_id": "判定の番号",
    "version": "版",
    "hand_entry_id": "手入力の番号",
    "item_code": "項目",
    "decision_id": "名寄せ判断の番号",
    "correction_id": "訂正の番号",
    "record_id": "記録",
    "person_id": "宛名番号",
    "household_id": "世帯番号",
    "fields": "誤りのあった欄",
    "count": "件数",
    "reason_code": "理由",
    "status": "内容",
    "permission": "必要な権限",
}
OBJECT_LABELS = {"child": "こども", "record": "届いた記録", "staff_user": "職員", "client_address": "端末"}
REASON_LABELS = {
    "unknown": "名前かパスワードの誤り",
    "mismatch": "名前かパスワードの誤り",
    "locked": "ロック中",
    "inactive": "停止中のアカウント",
    "address_limited": "この端末からの試行が多すぎる",
}


def readable_detail(detail: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A detail as (label, value) pairs staff read; the codes themselves stay in the database."""
    out = []
    for key, value in (detail or {}).items():
        if key == "reason_code":
            value = REASON_LABELS.get(str(value), value)
        elif isinstance(value, (list, tuple)):
            value = "、".join(map(str, value))
        out.append((DETAIL_LABELS.get(key, key), str(value)))
    return out


_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{0,64}$")


def _check_detail(detail: dict[str, Any]) -> dict[str, Any]:
    for key, value in detail.items():
        if key not in _DETAIL_KEYS:
            raise ValueError(f"audit detail key {key!r} is not an id/code field")
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, bool) or (isinstance(v, int)) or v is None:
                continue
            if not isinstance(v, str) or not _SAFE_VALUE.match(v):
                raise ValueError(f"audit detail {key!r} must hold ids or codes only")
    return detail


def record(
    conn,
    schema: str,
    action: str,
    *,
    staff=None,
    username: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    run_month: str | None = None,
    detail: dict[str, Any] | None = None,
    client: str | None = None,
) -> int:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    detail = _check_detail(dict(detail or {}))
    row = conn.execute(
        sql.SQL(
            "insert into {}.audit_log (staff_id, username, staff_role, action, object_type, object_id, run_month, "
            "detail, client) values (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s) returning audit_id"
        ).format(sql.Identifier(schema)),
        (
            getattr(staff, "staff_id", None),
            getattr(staff, "username", None) or username,
            getattr(staff, "role", None),
            action,
            object_type,
            object_id,
            run_month,
            json.dumps(detail, ensure_ascii=False),
            client,
        ),
    ).fetchone()
    return int(row[0])
