"""The monthly transparency report (月次公開報告): HTML and PDF, no personal data.

``build_report(settings, run_month) -> (html_path, pdf_path)`` writes
``<state_dir>/reports/<run_month>/transparency-<run_month>.html`` and ``.pdf`` for the privacy
council (個人情報保護審議会) and anyone else who should be able to inspect the linkage without the
dashboards: the items and rules in force (purpose, legal basis, holder, look-back, retention, on/off
and since when), what changed since the previous month, aggregate counts per type, age band and
area, the quality gates and rejections, how many households were candidates and the conference
outcomes in aggregate, corrections and purges (counts).

Every count of people is decided by the disclosure control (mimamori.report_protection, on
mimamori.sdc; docs/disclosure.md): 1–4 and whatever would let someone compute a 1–4 from totals,
the other table or another month's report is shown as 「X」; 「—」 is only for cells that are not
counts (out of a type's age range). Everything is read from aggregate relations
(``history.flag_cells``, ``history.household_candidates`` counts, ``published.publication``,
``ingest.rejections``, ``casework.*`` counts) — never a name, address, birth date or 宛名番号.

The rules as they were each month: the function keeps ``history.rules_snapshot`` (one row per
run month × seed × row key, the seed row as jsonb) and replaces the month's snapshot with the seeds
as they are now, so it must run right after the month's ``dbt build`` / publish (the DAG's
``transparency_report`` task). The change list compares it with the latest earlier snapshot.

CLI: ``python -m mimamori.report --month 2026-10``.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mimamori import sdc
from mimamori.report_protection import OUTCOMES, ReportCells, protect_report, store_audit
from mimamori.settings import Settings, get_settings

log = logging.getLogger("mimamori.report")

TOKYO = ZoneInfo("Asia/Tokyo")
#: what a hidden count and a cell that is not a count look like (docs/disclosure.md)
SUPPRESSED = sdc.SUPPRESSED
NOT_APPLICABLE = sdc.NOT_APPLICABLE

#: the rule seeds (schema rules) snapshotted per month, with the column that keys a row
RULE_SEEDS: dict[str, tuple[str, ...]] = {
    "item_catalogue": ("item_code",),
    "types": ("type_code",),
    "type_items": ("type_code", "item_code"),
    "exclusion_rules": ("rule_code",),
    "candidate_settings": ("setting",),
    "retention": ("target",),
    "disclosure_rules": ("audience",),
}
SEED_LABELS = {
    "item_catalogue": "項目台帳",
    "types": "類型",
    "type_items": "類型と項目（抽出条件）",
    "exclusion_rules": "除外ルール",
    "candidate_settings": "絞り込みの設定",
    "retention": "保存期間",
    "disclosure_rules": "集計の秘匿（少人数の欄）",
}
COLUMN_LABELS = {
    "is_enabled": "利用",
    "lookback": "遡る期間",
    "weight": "重み",
    "threshold": "基準点数",
    "min_age": "下限年齢",
    "max_age": "上限年齢",
    "param_value": "パラメータ",
    "retention_months": "保存期間（月）",
    "legal_basis": "法的根拠",
    "purpose": "目的",
    "holder_department": "保有課",
    "enabled_since": "利用開始日",
    "disabled_since": "利用停止日",
    "is_required": "必須",
    "group_key": "重複計上しないグループ",
    "value": "値",
    "label_ja": "名称",
}
#: a column whose meaning differs in one seed
SEED_COLUMN_LABELS = {("disclosure_rules", "threshold"): "秘匿の基準人数"}
LEVELS = {"C": "本人", "H": "世帯（本人を含む）", "O": "同一世帯の他の人", "M": "母"}
STAGES = {"raw": "受け取ったデータ（取込直後）", "identity": "名寄せ", "marts": "判定結果"}
GATE_STATUS = {"passed": "合格", "failed": "不合格", "skipped": "スキップ（その課のデータなしで公開）"}
SOURCES = {
    "jumin": "住民記録",
    "kodomo_shien": "こども課こども支援班",
    "kodomo_katei": "こども課こども家庭班",
    "fukushi": "福祉介護課福祉班",
    "gakko": "教育委員会事務局学校教育課",
}

SNAPSHOT_DDL = """
create table if not exists history.rules_snapshot (
    run_month text not null,
    seed text not null,
    row_key text not null,
    row_data jsonb not null,
    snapshot_at timestamptz not null default clock_timestamp(),
    primary key (run_month, seed, row_key)
)
"""


# --- small helpers -------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _month_ja(month: str) -> str:
    y, m = month.split("-")
    return f"{int(y)}年{int(m)}月"


def _exists(conn, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def _rows(conn, query: str, params: tuple = ()) -> list[dict[str, Any]]:
    cur = conn.execute(query, params)
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "（なし）"
    if isinstance(value, bool):
        return "する" if value else "しない"
    return str(value)


# --- the rules snapshot and its diff -------------------------------------------------------------


def snapshot_rules(conn, run_month: str) -> int:
    """Replace ``history.rules_snapshot`` rows of ``run_month`` with the rules.* seeds as they are now."""
    conn.execute(SNAPSHOT_DDL)
    conn.execute("delete from history.rules_snapshot where run_month = %s", (run_month,))
    n = 0
    for seed, keys in RULE_SEEDS.items():
        if not _exists(conn, f"rules.{seed}"):
            continue
        key_sql = " || '|' || ".join(f"coalesce({k}::text, '')" for k in keys)
        cur = conn.execute(
            f"insert into history.rules_snapshot (run_month, seed, row_key, row_data)"  # noqa: S608 (fixed names)
            f" select %s, %s, {key_sql}, to_jsonb(t) from rules.{seed} as t",
            (run_month, seed),
        )
        n += cur.rowcount
    return n


def rule_changes(conn, run_month: str) -> tuple[str | None, list[dict[str, str]]]:
    """(previous snapshot month or None, changes) between the latest earlier snapshot and run_month's."""
    prev = conn.execute(
        "select max(run_month) from history.rules_snapshot where run_month < %s", (run_month,)
    ).fetchone()[0]
    if prev is None:
        return None, []
    rows = _rows(
        conn,
        "select run_month, seed, row_key, row_data from history.rules_snapshot where run_month in (%s, %s)",
        (prev, run_month),
    )
    before = {(r["seed"], r["row_key"]): r["row_data"] for r in rows if r["run_month"] == prev}
    after = {(r["seed"], r["row_key"]): r["row_data"] for r in rows if r["run_month"] == run_month}
    return prev, diff_rules(before, after)


def diff_rules(before: dict, after: dict) -> list[dict[str, str]]:
    """Added, removed and changed seed rows between two ``{(seed, row_key): row}`` snapshots."""
    changes: list[dict[str, str]] = []
    for key in sorted(set(before) | set(after)):
        seed, row_key = key
        old, new = before.get(key), after.get(key)
        what = SEED_LABELS.get(seed, seed)
        if old is None:
            changes.append({"seed": what, "key": row_key, "change": "追加", "detail": _row_summary(new)})
        elif new is None:
            changes.append({"seed": what, "key": row_key, "change": "削除", "detail": _row_summary(old)})
        else:
            diffs = []
            for col in sorted(set(old) | set(new)):
                if old.get(col) != new.get(col):
                    label = SEED_COLUMN_LABELS.get((seed, col)) or COLUMN_LABELS.get(col, col)
                    diffs.append(f"{label}: {_fmt(old.get(col))} → {_fmt(new.get(col))}")
            if diffs:
                change = "変更"
                if seed == "item_catalogue" and old.get("is_enabled") != new.get("is_enabled"):
                    change = "利用停止" if not new.get("is_enabled") else "利用再開"
                changes.append({"seed": what, "key": row_key, "change": change, "detail": "、".join(diffs)})
    return changes


def seed_rows(conn, seed: str, schema: str = "rules") -> dict[tuple[str, str], dict]:
    """The seed's rows as they are now, keyed like ``history.rules_snapshot`` (``{(seed, row_key): row}``)."""
    keys = RULE_SEEDS[seed]
    key_sql = " || '|' || ".join(f"coalesce({k}::text, '')" for k in keys)
    query = f"select {key_sql}, to_jsonb(t) from {schema}.{seed} as t"  # noqa: S608 (fixed names)
    return {(seed, key): row for key, row in conn.execute(query).fetchall()}


def _row_summary(row: dict | None) -> str:
    if not row:
        return ""
    label = row.get("label_ja")
    parts = [str(label)] if label else []
    for col in ("lookback", "threshold", "weight", "retention_months", "value"):
        if row.get(col) not in (None, ""):
            parts.append(f"{COLUMN_LABELS.get(col, col)} {row[col]}")
    return "、".join(parts)


# --- gathering (aggregates only) -----------------------------------------------------------------


def gather(conn, run_month: str) -> dict[str, Any]:
    data: dict[str, Any] = {"run_month": run_month}
    # publication and gates
    pub = None
    if _exists(conn, "published.publication"):
        got = _rows(
            conn,
            "select published_at, skipped_sources, gate_summary, to_jsonb(p) ->> 'run_id' as run_id"
            " from published.publication as p where run_month = %s order by published_at desc limit 1",
            (run_month,),
        )
        pub = got[0] if got else None
    data["publication"] = pub
    gates = []
    if pub and pub["gate_summary"]:
        summary = pub["gate_summary"] if isinstance(pub["gate_summary"], dict) else json.loads(pub["gate_summary"])
        for stage, sources in summary.items():
            for source, result in sorted(sources.items()):
                gates.append(
                    {
                        "stage": STAGES.get(stage, stage),
                        "source": SOURCES.get(source, source),
                        "status": GATE_STATUS.get(result.get("status"), result.get("status")),
                        "failed": int(result.get("failed") or 0),
                    }
                )
    data["gates"] = gates
    # The rejections of the published attempt (earlier tries of the month stay in ingest.rejections).
    data["rejections"] = (
        _rows(
            conn,
            "select source, rule, count(*) as files, coalesce(sum(cardinality(rows)), 0) as rows from ingest.rejections"
            " where run_month = %s and run_id is not distinct from %s group by source, rule order by source, rule",
            (run_month, (pub or {}).get("run_id")),
        )
        if _exists(conn, "ingest.rejections")
        else []
    )
    # the judgement in aggregate: the age band × area joint of the month (history.flag_cells),
    # from which every count of section 1 is summed and its disclosure control decided
    data["cells"] = (
        _rows(
            conn,
            "select age_band, area, type_code, children_in_age_range, flagged_count"
            " from history.flag_cells where run_month = %s",
            (run_month,),
        )
        if _exists(conn, "history.flag_cells")
        else []
    )
    data["age_bands"] = (
        _rows(conn, "select age_band, label_ja, min_age, max_age from rules.age_bands order by sort_order")
        if _exists(conn, "rules.age_bands")
        else []
    )
    # narrowing and the conference
    data["households"] = (
        _rows(
            conn,
            "select count(*) as candidates, count(*) filter (where is_proposed) as proposed"
            " from history.household_candidates where run_month = %s",
            (run_month,),
        )[0]
        if _exists(conn, "history.household_candidates")
        else {"candidates": None, "proposed": None}
    )
    # outcomes per judged month (current decisions): this month's and the running total are one
    # series for the disclosure control, which knows the other months' reports
    outcomes_by_month: dict[str, dict[str, int]] = {}
    if _exists(conn, "casework.conference_outcomes"):
        for r in _rows(
            conn,
            "select outcome, judged_run_month, count(*) as n from casework.conference_outcomes"
            " where superseded_by is null and judged_run_month <= %s group by outcome, judged_run_month",
            (run_month,),
        ):
            outcomes_by_month.setdefault(r["outcome"], {})[r["judged_run_month"]] = int(r["n"])
    data["outcomes_by_month"] = outcomes_by_month
    # corrections, hand entries, purges, disclosures (counts)
    counts: dict[str, Any] = {}
    # valid corrections (not a withdrawal, not withdrawn) per month recorded: this month's and
    # the running total are one series
    corrections_by_month: dict[str, int] = {}
    if _exists(conn, "casework.corrections"):
        for r in _rows(
            conn,
            "select run_month, count(*) as n from casework.corrections c where withdraws is null and run_month <= %s"
            " and not exists (select 1 from casework.corrections w where w.withdraws = c.correction_id)"
            " group by run_month",
            (run_month,),
        ):
            corrections_by_month[r["run_month"]] = int(r["n"])
    data["corrections_by_month"] = corrections_by_month
    if _exists(conn, "casework.hand_entries"):
        counts["hand_entries"] = conn.execute(
            "select count(*) from casework.hand_entries where to_char(entered_at at time zone 'Asia/Tokyo',"
            " 'YYYY-MM') = %s",
            (run_month,),
        ).fetchone()[0]
    data["purges"] = (
        _rows(
            conn,
            "select target, cutoff, sum(rows_deleted) as rows from casework.purge_log where run_month = %s"
            " group by target, cutoff order by target",
            (run_month,),
        )
        if _exists(conn, "casework.purge_log")
        else []
    )
    if _exists(conn, "casework.disclosure_log"):
        counts["disclosures"] = conn.execute(
            "select count(*) from casework.disclosure_log where to_char(requested_at at time zone 'Asia/Tokyo',"
            " 'YYYY-MM') = %s",
            (run_month,),
        ).fetchone()[0]
    data["counts"] = counts
    # the rules in force
    data["items"] = _rows(conn, "select * from rules.item_catalogue order by sort_order")
    data["types"] = _rows(conn, "select * from rules.types order by sort_order")
    judged = {c["type_code"] for c in data["cells"]}
    data["households_per_month"] = None
    if _exists(conn, "rules.candidate_settings"):
        got = conn.execute(
            "select value from rules.candidate_settings where setting = 'households_per_month'"
        ).fetchone()
        data["households_per_month"] = got[0] if got else None
    data["types_enabled"] = [t for t in data["types"] if t["type_code"] in judged]
    data["type_items"] = _rows(conn, "select * from rules.type_items order by type_code, item_code")
    data["exclusions"] = (
        _rows(conn, "select * from rules.exclusion_rules order by sort_order")
        if _exists(conn, "rules.exclusion_rules")
        else []
    )
    return data


# --- rendering -----------------------------------------------------------------------------------

CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { font-family: "Noto Sans CJK JP", "Noto Sans JP", sans-serif; font-size: 10.5pt; line-height: 1.6;
       color: #222; max-width: 60em; margin: 0 auto; }
h1 { font-size: 17pt; border-bottom: 2px solid #345; padding-bottom: .2em; }
h2 { font-size: 13pt; border-left: 6px solid #345; padding-left: .4em; margin-top: 1.6em; page-break-after: avoid; }
h3 { font-size: 11pt; margin-top: 1.2em; }
table { border-collapse: collapse; width: 100%; margin: .4em 0 1em; font-size: 9pt; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #999; padding: .15em .4em; vertical-align: top; }
th { background: #eef2f6; text-align: left; }
td.n { text-align: right; white-space: nowrap; }
.note { background: #f6f6f0; border: 1px solid #ccb; padding: .5em .8em; font-size: 9.5pt; }
.off { color: #888; }
.chg { background: #fff7e0; }
footer { margin-top: 2em; font-size: 8.5pt; color: #555; }
"""


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None, classes=None) -> str:
    numeric = numeric or set()
    out = ["<table><thead><tr>", *[f"<th>{_e(h)}</th>" for h in headers], "</tr></thead><tbody>"]
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        out.append(f"<tr{cls}>")
        for j, value in enumerate(row):
            out.append(f'<td class="n">{_e(value)}</td>' if j in numeric else f"<td>{_e(value)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render_html(
    data: dict[str, Any],
    prev_month: str | None,
    changes: list[dict[str, str]],
    generated: datetime,
    cells: ReportCells,
) -> str:
    """The report as HTML; every count of people comes from ``cells`` (its disclosure control)."""
    m = data["run_month"]
    small = cells.threshold - 1
    types = {t["type_code"]: t for t in data["types"]}
    type_order = [t["type_code"] for t in data["types"]]
    type_label = {t["type_code"]: t["label_ja"] for t in data["types"]}
    type_label["_any"] = "いずれかの類型"
    p: list[str] = []
    p.append(f"<h1>こども見守りデータ基盤　月次公開報告　{_month_ja(m)}分</h1>")
    pub = data["publication"]
    p.append('<div class="note">')
    p.append(
        "この報告は、町がこどもに関するデータを連携して支援が必要かもしれないこどもに早く気づくための仕組み"
        "（こども見守りデータ基盤）について、<b>どのデータを、何のために、どの法的根拠で使い、どのような結果になったか</b>を、"
        "個人情報保護審議会と町民の皆さまに毎月お示しするものです。"
        "<b>個人を特定できる情報（氏名・住所・生年月日・宛名番号）は一切含みません。</b>"
        f"人数が1～{small}人の欄と、その欄が合計・ほかの表・ほかの月の報告から計算で分かってしまう欄は"
        f"「{SUPPRESSED}」と表示しています（少人数の欄から個人が推測されないため。docs/disclosure.md）。"
        "住所を公開しない支援措置の対象のこどもも、住所ではない地区に割り振って数えており、別の区分にはしていません。"
        "データによる判定は支援の必要性に気づくための<b>手がかり（支援優先度）</b>であり、レッテルではありません。"
        "支援するかどうかは、必ず会議で人が判断します。"
    )
    p.append("</div>")
    p.append(
        _table(
            ["項目", "内容"],
            [
                ["対象月（処理した月）", _month_ja(m)],
                ["基準日", f"{_month_ja(m)}末日"],
                [
                    "公開日時",
                    pub["published_at"].astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
                    if pub
                    else "未公開（品質ゲートで停止）",
                ],
                [
                    "データなしで公開した課",
                    "、".join(SOURCES.get(s, s) for s in (pub or {}).get("skipped_sources") or []) or "なし",
                ],
                ["この報告の作成日時", generated.strftime("%Y-%m-%d %H:%M")],
            ],
        )
    )

    # 1. results
    p.append("<h2>1. 今月の判定の結果（集計）</h2>")
    judged = [t for t in type_order if t in {x["type_code"] for x in data.get("types_enabled", [])}]
    if data["cells"]:
        p.append(f"<p>対象のこども（0～18歳）：<b>{cells.get(('scope',))}人</b></p>")
        p.append(
            _table(
                ["困難の類型", "年齢の範囲にいるこども", "基準点数に達したこども（気づき）"],
                [
                    [type_label[t], cells.get(("type", t, "in_range")), cells.get(("type", t, "flagged"))]
                    for t in judged
                ],
                {1, 2},
            )
        )
        p.append(f"<p>いずれかの類型で基準点数に達したこども：<b>{cells.get(('any', 'flagged'))}人</b></p>")
        band_label = {a["age_band"]: a["label_ja"] for a in data["age_bands"]}
        for dim, title, values in (
            ("age_band", "年齢区分別", [a["age_band"] for a in data["age_bands"]]),
            ("area", "地区（町名）別", sorted({c["area"] for c in data["cells"]})),
        ):
            cols = [*judged, "_any"]
            table_rows = []
            for v in values:
                row = [band_label.get(v, v), cells.get((dim, v, "children"))]
                row += [cells.get((dim, v, t)) for t in cols]
                table_rows.append(row)
            p.append(f"<h3>{title}：基準点数に達したこどもの数</h3>")
            p.append(
                _table(
                    [title.replace("別", ""), "こどもの数", *[type_label.get(t, t) for t in cols]],
                    table_rows,
                    set(range(1, len(cols) + 2)),
                )
            )
        p.append(
            f'<p class="note">「{SUPPRESSED}」：1～{small}人の欄と、その欄が合計・ほかの表・ほかの月の報告から計算で'
            f"分からないように併せて表示しない欄（0人は0と表示します）。「{NOT_APPLICABLE}」：年齢の範囲外で"
            "判定の対象にならない欄（人数ではありません）。地区は住所の町名です。支援措置の対象で住所を公開しない"
            "こどもは、決まった規則（どの地区にも、その地区のこどもの数に比例して）で地区に割り振って数えています。</p>"
        )
    else:
        p.append("<p>この月の判定は公開されていません。</p>")

    # 2. narrowing and conference
    p.append("<h2>2. 人による絞り込みとケース会議</h2>")
    p.append(
        _table(
            ["項目", "件数"],
            [["絞り込み後の候補世帯（支援中・最近判断したこどもを除いた後）", cells.get(("households", "candidates"))]],
            {1},
        )
    )
    p.append(
        f"<p>会議には、候補世帯のうち順位の高い{_e(data.get('households_per_month') or '')}世帯を提案します"
        "（候補がそれより少ない月は候補のすべて）。</p>"
    )
    p.append(
        _table(
            ["会議の判定", f"{_month_ja(m)}分の判定", "これまでの累計"],
            [[o, cells.get((f"outcome:{o}", "month", m)), cells.get((f"outcome:{o}", "total", m))] for o in OUTCOMES],
            {1, 2},
        )
    )

    # 3. gates
    p.append("<h2>3. データの品質確認（品質ゲート）</h2>")
    p.append(
        "<p>各課のデータは受け取った直後、名寄せの後、判定の後の3回、決められたルールで確認します。"
        "1つでも不合格があると、その月は公開せず、前の月の結果を表示し続けます（その課のデータ担当者に通知します）。</p>"
    )
    if data["gates"]:
        p.append(
            _table(
                ["確認の段階", "対象", "結果", "不合格のルール数"],
                [[g["stage"], g["source"], g["status"], g["failed"]] for g in data["gates"]],
                {3},
            )
        )
    else:
        p.append("<p>この月の品質確認の記録はありません。</p>")
    if data["rejections"]:
        p.append("<h3>受け取りを拒否したファイル</h3>")
        p.append(
            _table(
                ["課", "ルール", "ファイル数", "該当行数"],
                [[SOURCES.get(r["source"], r["source"]), r["rule"], r["files"], r["rows"]] for r in data["rejections"]],
                {2, 3},
            )
        )
    else:
        p.append("<p>受け取りを拒否したファイル：なし</p>")

    # 4. rule changes
    p.append("<h2>4. 先月からのルールと項目の変更</h2>")
    if prev_month is None:
        p.append("<p>比較できる前の月の記録がありません（この月が記録の最初の月です）。</p>")
    elif not changes:
        p.append(f"<p>{_month_ja(prev_month)}分から変更はありません。</p>")
    else:
        p.append(f"<p>{_month_ja(prev_month)}分と比べて、次の変更がありました。</p>")
        p.append(
            _table(
                ["対象", "コード", "変更", "内容"],
                [[c["seed"], c["key"], c["change"], c["detail"]] for c in changes],
            )
        )

    # 5. items in force
    p.append("<h2>5. 使っているデータ項目（項目台帳）</h2>")
    p.append(
        "<p>判定に使う項目の一覧です。各項目について、目的、法的根拠（個人情報保護法69条）、データを持つ課、"
        "どこまで遡って数えるか、元データの保存期間、利用の有無を示します。利用しない項目は、どの点数にも数えません。</p>"
    )
    rows_i, cls = [], []
    for it in data["items"]:
        on = bool(it.get("is_enabled"))
        since = it.get("enabled_since") if on else it.get("disabled_since")
        rows_i.append(
            [
                it["item_code"],
                it["label_ja"],
                LEVELS.get(it.get("level"), it.get("level")),
                it.get("holder_department") or "",
                _lookback_ja(it.get("lookback")),
                it.get("purpose") or "",
                it.get("legal_basis") or "",
                f"{it.get('retention_months')}か月" if it.get("retention_months") else "",
                ("利用" if on else "停止") + (f"（{since}から）" if since else ""),
            ]
        )
        cls.append("" if on else "off")
    p.append(
        _table(
            ["コード", "項目", "対象", "保有課", "遡る期間", "目的", "法的根拠", "保存期間", "利用"],
            rows_i,
            classes=cls,
        )
    )

    # 6. type rules
    p.append("<h2>6. 困難の類型ごとの判定ルール</h2>")
    enabled_items = {it["item_code"] for it in data["items"] if it.get("is_enabled")}
    rows_t = []
    for code in type_order:
        t = types[code]
        its = [ti for ti in data["type_items"] if ti["type_code"] == code]
        names = []
        for ti in its:
            label = ti["item_code"] + ("（必須）" if ti.get("is_required") else "")
            if ti["item_code"] not in enabled_items:
                label += "［停止中］"
            names.append(label)
        rows_t.append(
            [
                t["label_ja"],
                f"{t['min_age']}～{t['max_age']}歳",
                f"{t['threshold']}点以上",
                "、".join(names),
                "する" if t.get("is_enabled", True) else "しない",
            ]
        )
    p.append(_table(["類型", "年齢", "基準点数", "項目（1項目1点。必須＝そのうち1つ以上が必要）", "判定"], rows_t))
    if data["exclusions"]:
        p.append("<h3>絞り込みで候補から外す条件</h3>")
        p.append(
            _table(
                ["条件", "適用"],
                [[x["label_ja"], "する" if x.get("is_enabled") else "しない"] for x in data["exclusions"]],
            )
        )

    # 7. corrections, retention, disclosure
    p.append("<h2>7. 訂正・保存期間による削除・開示請求</h2>")
    p.append(
        _table(
            ["項目", "件数"],
            [
                ["この月に記録されたデータ訂正（誤った人・誤った値）", cells.get(("corrections", "month", m))],
                ["有効なデータ訂正の累計", cells.get(("corrections", "total", m))],
                ["この月に手入力された項目", cells.get(("hand_entries", "single", m))],
                ["この月の開示請求による出力", cells.get(("disclosures", "single", m))],
            ],
            {1},
        )
    )
    if data["purges"]:
        p.append("<h3>保存期間を過ぎて削除したデータ（行数）</h3>")
        p.append(
            _table(
                ["対象", "この日より前のもの", "削除した行数"],
                [[r["target"], r["cutoff"], f"{int(r['rows']):,}"] for r in data["purges"]],
                {2},
            )
        )
    else:
        p.append("<p>この月に保存期間による削除はありませんでした（または未実行）。</p>")
    p.append(
        "<footer>こども見守りデータ基盤（mimamori）が自動で作成しました。集計はすべて公開済みの月次データから行い、"
        "個人の記録は含みません。問い合わせ先：こども課こども支援班。</footer>"
    )
    body = "\n".join(p)
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>月次公開報告 {_e(_month_ja(m))}分</title><style>{CSS}</style></head><body>{body}</body></html>"
    )


def _lookback_ja(lookback: str | None) -> str:
    if not lookback:
        return ""
    fixed = {
        "ever": "期間の定めなし（記録があれば）",
        "valid": "基準日に有効なもの",
        "this_school_year": "今年度",
        "this_or_last_school_year": "今年度または前年度",
        "this_month": "今月",
        "latest_checkup": "直近の健診",
        "this_birth": "この出産",
    }
    if lookback in fixed:
        return fixed[lookback]
    kind, _, n = lookback.partition(":")
    return {"days": f"{n}日以内", "years": f"{n}年以内"}.get(kind, lookback)


def write_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print the HTML to A4 PDF with Debian's chromium (mimamori.browser; nothing is downloaded)."""
    from mimamori.browser import chromium

    with chromium() as browser:
        page = browser.new_page()
        page.goto(html_path.resolve().as_uri())
        page.pdf(
            path=str(pdf_path),
            format="A4",
            print_background=True,
            margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"},
        )
        page.close()


def build_report(settings: Settings, run_month: str, *, pdf: bool = True) -> tuple[Path, Path | None]:
    """Snapshot the rules for ``run_month``, gather the aggregates, write HTML (and PDF)."""
    from mimamori.months import validate_month  # noqa: F401  (raises on a bad month)
    from mimamori.stack import pg

    validate_month(run_month)
    out_dir = settings.state_dir / "reports" / run_month
    out_dir.mkdir(parents=True, exist_ok=True)
    with pg.connect(settings, role="transformer") as conn:
        with conn.transaction():
            snapshot_rules(conn, run_month)
        prev, changes = rule_changes(conn, run_month)
        data = gather(conn, run_month)
        # which counts the public may read, given every other month's report (docs/disclosure.md)
        with conn.transaction():
            cells = protect_report(conn, data, run_month)
            store_audit(conn, run_month, cells)
    generated = datetime.now(TOKYO)
    html_text = render_html(data, prev, changes, generated, cells)
    html_path = out_dir / f"transparency-{run_month}.html"
    html_path.write_text(html_text, encoding="utf-8")
    pdf_path = out_dir / f"transparency-{run_month}.pdf" if pdf else None
    if pdf_path:
        write_pdf(html_path, pdf_path)
    hidden = sum(1 for d in cells.decisions if not d.shown)
    log.info(
        "transparency report %s: %s%s (%d rule change(s); %d of %d counts hidden)",
        run_month,
        html_path,
        f", {pdf_path}" if pdf_path else "",
        len(changes),
        hidden,
        len(cells.decisions),
    )
    return html_path, pdf_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimamori.report", description="月次公開報告（HTML・PDF）を作成する"
    )
    parser.add_argument("--month", required=True, help="対象月 YYYY-MM")
    parser.add_argument("--no-pdf", action="store_true", help="HTML のみ作成する")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    html_path, pdf_path = build_report(get_settings(), args.month, pdf=not args.no_pdf)
    print(html_path)
    if pdf_path:
        print(pdf_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
