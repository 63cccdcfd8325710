"""Disclosure export for a request under APPI Art. 76 (保有個人情報の開示請求).

    python -m mimamori.disclosure --person-id 0000100060 --requested-by sato \\
        [--request-ref 開示請求第12号] --out kaiji-0000100060.html   # or .json; --format both

Everything the warehouse holds about one person (宛名番号), in one readable file:

1. 住民記録: the person's rows of 住民.csv, every month still held;
2. 各課の記録: every raw row that names the person's 宛名番号 (any ``*atena_no`` column: the person's
   own rows, 妊産婦 rows as mother or child, 児童扶養手当 as recipient), every month still held, and
   the records the identity resolution linked to the person in the last built month (school records
   without a 宛名番号), with the link's method and reason;
3. 判定: per published month, the 37 items (status, source record, date, correction), the type
   scores and the total points (``history.*``);
4. ケース記録: conference outcomes, hand entries, corrections, identity decisions;
5. 監査ログ: every audit entry about the person (views, edits, exports, earlier disclosures).

A resident under a DV protection measure (支援措置) never has the address exported: every address
column is replaced by 「（支援措置のため表示しません）」. Records keyed only to a 世帯番号 (相談 rows
about the household) are listed by count, not content: they concern other members too.

The export is itself audited: a ``casework.disclosure_log`` row (who requested it, when, for whom,
the request reference, the file's sha256, counts) and, when the case screen's audit log exists, a
``casework.audit_log`` row (action ``disclosure_export``). The file holds personal data: it is
written with mode 0600 and must be handed over under the town's disclosure procedure.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import sql

from mimamori.settings import Settings, get_settings

TOKYO = ZoneInfo("Asia/Tokyo")
MASK = "（支援措置のため表示しません）"
_ID = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
_ADDRESS_COLS = re.compile(r"address|住所")
_DV_TRUE = {"true", "t", "1", "有", "あり"}

SECTION_TITLES = {
    "residents": "1. 住民記録",
    "source_records": "2. 各課から受け取った記録（宛名番号で結び付くもの）",
    "linked_records": "2b. 名寄せで結び付けた記録（宛名番号のない記録）",
    "household_records": "2c. 世帯番号だけで世帯に結び付く記録（件数のみ）",
    "item_matches": "3. 判定に使った項目（公開した月ごと）",
    "type_scores": "3b. 類型ごとの点数",
    "scores": "3c. 総合点",
    "conference_outcomes": "4. ケース会議の判定",
    "hand_entries": "4b. 手入力した項目",
    "corrections": "4c. データの訂正",
    "identity_decisions": "4d. 名寄せの判断",
    "audit_log": "5. 監査ログ（この人についての閲覧・入力・出力）",
    "disclosure_log": "5b. これまでの開示請求による出力",
}


class DisclosureError(RuntimeError):
    pass


def _exists(conn, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def _rows(conn, query, params=()) -> list[dict[str, Any]]:
    cur = conn.execute(query, params)
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _columns(conn, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
            " order by ordinal_position",
            (schema, table),
        ).fetchall()
    ]


def _tables(conn, schema: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = %s and table_type = 'BASE TABLE'"
            " order by table_name",
            (schema,),
        ).fetchall()
    ]


def _built_attempt(conn) -> str | None:
    """The attempt whose raw rows the identity models were built from (None: built before attempts)."""
    if not _exists(conn, "intermediate.int_identity__build_attempt"):
        return None
    row = conn.execute("select run_id from intermediate.int_identity__build_attempt").fetchone()
    return row[0] if row else None


def _source_records(conn, person_id: str, residents: list[dict]) -> tuple[list[dict], list[dict]]:
    """Rows of every other raw table that name the person (any *atena_no column), and per table the
    count of rows of their household that name no one."""
    source_records: list[dict] = []
    household_counts: list[dict] = []
    household_ids = sorted({str(r["setai_no"]) for r in residents if r.get("setai_no")})
    for table in _tables(conn, "raw"):
        if table == "jumin__residents":
            continue
        cols = _columns(conn, "raw", table)
        atena_cols = [c for c in cols if c.endswith("atena_no")]
        if atena_cols:
            where = sql.SQL(" or ").join(sql.SQL("{}::text = %s").format(sql.Identifier(c)) for c in atena_cols)
            for row in _rows(
                conn,
                sql.SQL("select * from {} where {} order by run_month, source_row_number").format(
                    sql.Identifier("raw", table), where
                ),
                tuple(person_id for _ in atena_cols),
            ):
                source_records.append({"raw_table": table, **row})
        if "setai_no" in cols and household_ids and atena_cols:
            n = conn.execute(
                sql.SQL("select count(*) from {} where setai_no::text = any(%s) and {} is null").format(
                    sql.Identifier("raw", table), sql.Identifier(atena_cols[0])
                ),
                (household_ids,),
            ).fetchone()[0]
            if n:
                household_counts.append({"raw_table": table, "rows": n})
    return source_records, household_counts


def _linked_records(conn, person_id: str) -> list[dict]:
    """The raw rows 名寄せ linked to the person (of the attempt the models were built from)."""
    linked: list[dict] = []
    if not (_exists(conn, "intermediate.int_identity__links") and _exists(conn, "intermediate.int_items__children")):
        return linked
    month_row = conn.execute("select max(run_month) from intermediate.int_items__children").fetchone()
    built_month = month_row[0] if month_row else None
    # A link's row number is a row of the attempt the models were built from: other attempts of
    # the month stand beside it in raw, and their row N may be someone else (mimamori.attempts).
    attempt = _built_attempt(conn)
    links = _rows(
        conn,
        "select raw_table, source_file, source_row_number, link_method, match_reason, match_score from"
        " intermediate.int_identity__links where person_id = %s and link_status = 'linked'"
        " and (claimed_atena_no is null or claimed_atena_no::text <> %s) order by raw_table, source_row_number",
        (person_id, person_id),
    )
    for link in links:
        table = link["raw_table"]
        if not _exists(conn, f"raw.{table}"):
            continue
        # A row is its file and row number: a town's mapping may append several delivered files
        # into one raw table, whose row numbers repeat (mimamori.sources).
        for row in _rows(
            conn,
            sql.SQL(
                "select * from {} where run_month = %s and source_row_number = %s and run_id is not distinct from %s"
                " and source_file is not distinct from %s"
            ).format(sql.Identifier("raw", table)),
            (built_month, link["source_row_number"], attempt, link["source_file"]),
        ):
            linked.append(
                {
                    "raw_table": table,
                    "link_method": link["link_method"],
                    "match_reason": link["match_reason"],
                    "match_score": link["match_score"],
                    **row,
                }
            )
    return linked


def _mask_addresses(out: dict[str, Any]) -> None:
    """Someone under 支援措置: every address column of every row is masked."""
    for rows in out.values():
        for row in rows:
            for col in list(row):
                if _ADDRESS_COLS.search(col) and row[col] not in (None, ""):
                    row[col] = MASK
    out["_dv_masked"] = True


def collect(conn, person_id: str) -> dict[str, Any]:
    """Everything held about ``person_id`` (superuser connection; read only)."""
    out: dict[str, Any] = {}
    residents: list[dict] = []
    if _exists(conn, "raw.jumin__residents"):
        residents = _rows(
            conn, "select * from raw.jumin__residents where atena_no::text = %s order by run_month", (person_id,)
        )
    out["residents"] = residents
    out["source_records"], out["household_records"] = _source_records(conn, person_id, residents)
    out["linked_records"] = _linked_records(conn, person_id)
    for key, relation, order in (
        ("item_matches", "history.child_item_matches", "run_month, item_sort_order"),
        ("type_scores", "history.child_type_scores", "run_month, type_code"),
        ("scores", "history.child_scores", "run_month"),
        ("conference_outcomes", "casework.conference_outcomes", "judged_run_month, version"),
        ("hand_entries", "casework.hand_entries", "entered_at"),
        ("corrections", "casework.corrections", "corrected_at"),
        ("identity_decisions", "casework.identity_decisions", "decided_at"),
        ("disclosure_log", "casework.disclosure_log", "requested_at"),
    ):
        out[key] = (
            _rows(conn, f"select * from {relation} where person_id = %s order by {order}", (person_id,))  # noqa: S608
            if _exists(conn, relation)
            else []
        )
    out["audit_log"] = (
        _rows(
            conn,
            "select logged_at, username, staff_role, action, object_type, object_id, run_month, detail"
            " from casework.audit_log where object_id = %s or detail->>'person_id' = %s order by logged_at",
            (person_id, person_id),
        )
        if _exists(conn, "casework.audit_log")
        else []
    )
    if any(str(r.get("has_dv_protection") or "").strip().lower() in _DV_TRUE for r in residents):
        _mask_addresses(out)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(TOKYO).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def render_json(person_id: str, data: dict, meta: dict) -> str:
    return json.dumps({"meta": meta, "person_id": person_id, **_plain(data)}, ensure_ascii=False, indent=2)


def render_html(person_id: str, data: dict, meta: dict) -> str:
    e = html.escape
    parts = [
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">',
        f"<title>保有個人情報開示 {e(person_id)}</title>",
        "<style>body{font-family:'Noto Sans CJK JP',sans-serif;font-size:10pt;margin:1.5em}"
        "table{border-collapse:collapse;margin:.3em 0 1.2em;font-size:8.5pt}th,td{border:1px solid #999;"
        "padding:.1em .35em;vertical-align:top}th{background:#eef}h2{font-size:12pt;border-left:5px solid #345;"
        "padding-left:.4em}</style></head><body>",
        "<h1>保有個人情報の開示（個人情報保護法76条）</h1>",
        "<table>",
        f"<tr><th>宛名番号</th><td>{e(person_id)}</td></tr>",
        f"<tr><th>作成日時</th><td>{e(meta['generated_at'])}</td></tr>",
        f"<tr><th>請求を受け付けた職員</th><td>{e(meta['requested_by'])}</td></tr>",
        f"<tr><th>請求番号</th><td>{e(meta.get('request_ref') or '')}</td></tr>",
        "</table>",
        "<p>こども見守りデータ基盤が保有する、この方についての記録のすべてです。判定（支援優先度）は支援の必要性に気づくための"
        "手がかりであり、支援の要否は会議で人が判断しています。記録に誤りがある場合は訂正を請求できます（同法90条）。</p>",
    ]
    if data.get("_dv_masked"):
        parts.append("<p><b>支援措置の対象のため、住所は表示していません。</b></p>")
    for key, title in SECTION_TITLES.items():
        rows = data.get(key) or []
        parts.append(f"<h2>{e(title)}（{len(rows)}件）</h2>")
        if not rows:
            parts.append("<p>記録はありません。</p>")
            continue
        cols: list[str] = []
        for row in rows:
            for c in row:
                if c not in cols:
                    cols.append(c)
        parts.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr>")
        for row in rows:
            cells = []
            for c in cols:
                v = _plain(row.get(c))
                if isinstance(v, (dict, list)):
                    v = json.dumps(v, ensure_ascii=False)
                cells.append(f"<td>{e('' if v is None else str(v))}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def export(
    settings: Settings,
    person_id: str,
    out: Path,
    requested_by: str,
    *,
    request_ref: str | None = None,
    fmt: str | None = None,
) -> dict:
    """Write the disclosure file(s) and audit the export; returns {files, counts, disclosure_id}."""
    from mimamori import db

    if not _ID.match(person_id or ""):
        raise DisclosureError("--person-id must be a 宛名番号 (digits/letters)")
    if not (requested_by or "").strip():
        raise DisclosureError("--requested-by is required (who received the request)")
    fmt = fmt or ("json" if out.suffix.lower() == ".json" else "html")
    now = datetime.now(TOKYO)
    meta = {
        "generated_at": now.isoformat(timespec="seconds"),
        "requested_by": requested_by,
        "request_ref": request_ref,
        "legal_basis": "個人情報保護法76条（開示請求）",
    }
    with db.connect(settings) as conn:
        with conn.transaction():
            data = collect(conn, person_id)
            counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
            if not any(counts.values()):
                raise DisclosureError(f"no record is held for {person_id}")
            targets = []
            if fmt in ("html", "both"):
                targets.append((out.with_suffix(".html"), render_html(person_id, data, meta)))
            if fmt in ("json", "both"):
                targets.append((out.with_suffix(".json"), render_json(person_id, data, meta)))
            digest = hashlib.sha256()
            files = []
            for path, text in targets:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                digest.update(text.encode("utf-8"))
                files.append(str(path))
            conn.execute(
                "create table if not exists casework.disclosure_log (disclosure_id bigint generated always as"
                " identity primary key, requested_at timestamptz not null default clock_timestamp(),"
                " requested_by text not null, person_id text not null, request_ref text, output_sha256 text,"
                " counts jsonb not null default '{}'::jsonb)"
            )
            disclosure_id = conn.execute(
                "insert into casework.disclosure_log (requested_by, person_id, request_ref, output_sha256, counts)"
                " values (%s, %s, %s, %s, %s::jsonb) returning disclosure_id",
                (requested_by, person_id, request_ref, digest.hexdigest(), json.dumps(counts)),
            ).fetchone()[0]
            if _exists(conn, "casework.audit_log"):
                from mimamori.casescreen import audit

                audit.record(
                    conn,
                    "casework",
                    "disclosure_export",
                    username=requested_by,
                    object_type="person",
                    object_id=person_id,
                    detail={"count": sum(counts.values()), "status": fmt},
                    client="mimamori.disclosure",
                )
    return {"files": files, "counts": counts, "disclosure_id": int(disclosure_id)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimamori.disclosure",
        description="開示請求（個人情報保護法76条）に応じて、1人分の保有個人情報を出力する",
    )
    parser.add_argument("--person-id", required=True, help="宛名番号")
    parser.add_argument("--out", required=True, type=Path, help="出力ファイル（.html または .json）")
    parser.add_argument("--requested-by", required=True, help="請求を受け付けた職員（監査ログに記録）")
    parser.add_argument("--request-ref", help="請求の受付番号など")
    parser.add_argument("--format", choices=("html", "json", "both"), help="出力形式（既定: --out の拡張子）")
    args = parser.parse_args(argv)
    try:
        result = export(
            get_settings(), args.person_id, args.out, args.requested_by, request_ref=args.request_ref, fmt=args.format
        )
    except DisclosureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
