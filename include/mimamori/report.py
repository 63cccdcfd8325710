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
import json
import logging
import sys
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from mimamori import sdc, vocabulary
from mimamori.report_protection import (
    OUTCOMES,
    ReportCells,
    protect_report,
    store_audit,
)
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
STAGES = {
    "raw": "受け取ったデータ（取込直後）",
    "identity": "名寄せ",
    "marts": "判定結果",
}
GATE_STATUS = {
    "passed": "合格",
    "failed": "不合格",
    "skipped": "スキップ（その課のデータなしで公開）",
}
#: source → department, from the source registry (include/sources/<source>.yaml)
SOURCES = vocabulary.department_labels(short=False)

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
        "select max(run_month) from history.rules_snapshot where run_month < %s",
        (run_month,),
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
            changes.append(
                {
                    "seed": what,
                    "key": row_key,
                    "change": "追加",
                    "detail": _row_summary(new),
                }
            )
        elif new is None:
            changes.append(
                {
                    "seed": what,
                    "key": row_key,
                    "change": "削除",
                    "detail": _row_summary(old),
                }
            )
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
                changes.append(
                    {
                        "seed": what,
                        "key": row_key,
                        "change": change,
                        "detail": "、".join(diffs),
                    }
                )
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


def _rows_if(conn, relation: str, query: str, params: tuple = ()) -> list[dict[str, Any]]:
    """The rows of ``query`` when ``relation`` exists; [] when it does not (yet)."""
    return _rows(conn, query, params) if _exists(conn, relation) else []


def _count_if(conn, relation: str, query: str, params: tuple, counts: dict[str, Any], key: str) -> None:
    """``counts[key]`` = the one number of ``query`` when ``relation`` exists (else no key)."""
    if _exists(conn, relation):
        counts[key] = conn.execute(query, params).fetchone()[0]


def _gather_publication(conn, run_month: str, data: dict[str, Any]) -> None:
    """The publication of the month, its gates, and the rejections of the published attempt."""
    got = _rows_if(
        conn,
        "published.publication",
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
    data["rejections"] = _rows_if(
        conn,
        "ingest.rejections",
        "select source, rule, count(*) as files, coalesce(sum(cardinality(rows)), 0) as rows from ingest.rejections"
        " where run_month = %s and run_id is not distinct from %s group by source, rule order by source, rule",
        (run_month, (pub or {}).get("run_id")),
    )


def _gather_proposal(conn, run_month: str, data: dict[str, Any]) -> None:
    """A rule proposal's what-if of this very month (mimamori.learning): its age band × area joint
    enters the disclosure control with section 1's, so the proposal's fairness figures are printed
    from shown counts only (docs/evaluation.md)."""
    data["proposal_cells"] = None
    data["proposal"] = None
    if not data["cells"]:
        return
    got = _rows_if(
        conn,
        "history.rule_proposals",
        "select proposal_id, source, is_refused, aggregates from history.rule_proposals where run_month = %s"
        " order by created_at desc limit 1",
        (run_month,),
    )
    if not got:
        return
    agg = got[0]["aggregates"] if isinstance(got[0]["aggregates"], dict) else json.loads(got[0]["aggregates"])
    joint = {(c["age_band"], c["area"]): c for c in agg.get("cells") or []}
    children = {}
    for c in data["cells"]:
        if c["type_code"] == "_any":
            children[(c["age_band"], c["area"])] = int(c["children_in_age_range"])
    # only a what-if of exactly this month's children (else it describes other data)
    if joint and all(int(joint.get(k, {}).get("children", -1)) == v for k, v in children.items() if v):
        data["proposal_cells"] = {k: int(c["flagged_proposed"]) for k, c in joint.items()}
        data["proposal"] = {
            "source": got[0]["source"],
            "is_refused": got[0]["is_refused"],
        }


def _gather_judgement(conn, run_month: str, data: dict[str, Any]) -> None:
    """The judgement in aggregate: the age band × area joint of the month (history.flag_cells), from
    which every count of section 1 is summed and its disclosure control decided; the narrowing."""
    data["cells"] = _rows_if(
        conn,
        "history.flag_cells",
        "select age_band, area, type_code, children_in_age_range, flagged_count"
        " from history.flag_cells where run_month = %s",
        (run_month,),
    )
    data["age_bands"] = _rows_if(
        conn,
        "rules.age_bands",
        "select age_band, label_ja, min_age, max_age from rules.age_bands order by sort_order",
    )
    _gather_proposal(conn, run_month, data)
    households = _rows_if(
        conn,
        "history.household_candidates",
        "select count(*) as candidates, count(*) filter (where is_proposed) as proposed"
        " from history.household_candidates where run_month = %s",
        (run_month,),
    )
    data["households"] = households[0] if households else {"candidates": None, "proposed": None}


def _gather_conference(conn, run_month: str, data: dict[str, Any]) -> None:
    """Outcomes per judged month (current decisions): this month's and the running total are one
    series for the disclosure control, which knows the other months' reports; and the measured
    yield per type (history.outcome_yield of this month), counts only, linked to that series."""
    outcomes_by_month: dict[str, dict[str, int]] = {}
    for r in _rows_if(
        conn,
        "casework.conference_outcomes",
        "select outcome, judged_run_month, count(*) as n from casework.conference_outcomes"
        " where superseded_by is null and judged_run_month <= %s group by outcome, judged_run_month",
        (run_month,),
    ):
        outcomes_by_month.setdefault(r["outcome"], {})[r["judged_run_month"]] = int(r["n"])
    data["outcomes_by_month"] = outcomes_by_month
    data["yield"] = _rows_if(
        conn,
        "history.outcome_yield",
        "select type_code, type_label_ja, type_sort_order, judged_run_month, discussed_count,"
        " needs_support_count, needs_support_new_count from history.outcome_yield where run_month = %s",
        (run_month,),
    )


def _gather_casework(conn, run_month: str, data: dict[str, Any]) -> None:
    """Corrections, hand entries, purges, disclosures (counts). Valid corrections (not a withdrawal,
    not withdrawn) per month recorded: this month's and the running total are one series."""
    counts: dict[str, Any] = {}
    data["corrections_by_month"] = {
        r["run_month"]: int(r["n"])
        for r in _rows_if(
            conn,
            "casework.corrections",
            "select run_month, count(*) as n from casework.corrections c where withdraws is null and run_month <= %s"
            " and not exists (select 1 from casework.corrections w where w.withdraws = c.correction_id)"
            " group by run_month",
            (run_month,),
        )
    }
    _count_if(
        conn,
        "casework.hand_entries",
        "select count(*) from casework.hand_entries where to_char(entered_at at time zone 'Asia/Tokyo',"
        " 'YYYY-MM') = %s",
        (run_month,),
        counts,
        "hand_entries",
    )
    data["purges"] = _rows_if(
        conn,
        "casework.purge_log",
        "select target, cutoff, sum(rows_deleted) as rows from casework.purge_log where run_month = %s"
        " group by target, cutoff order by target",
        (run_month,),
    )
    _count_if(
        conn,
        "casework.disclosure_log",
        "select count(*) from casework.disclosure_log where to_char(requested_at at time zone 'Asia/Tokyo',"
        " 'YYYY-MM') = %s",
        (run_month,),
        counts,
        "disclosures",
    )
    data["counts"] = counts


def _gather_rules(conn, data: dict[str, Any]) -> None:
    """The rules in force."""
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
    data["exclusions"] = _rows_if(
        conn,
        "rules.exclusion_rules",
        "select * from rules.exclusion_rules order by sort_order",
    )


def gather(conn, run_month: str) -> dict[str, Any]:
    """Everything the month's report says, read from the database (aggregates and counts only)."""
    data: dict[str, Any] = {"run_month": run_month}
    _gather_publication(conn, run_month, data)
    _gather_judgement(conn, run_month, data)
    _gather_conference(conn, run_month, data)
    _gather_casework(conn, run_month, data)
    _gather_rules(conn, data)
    return data


# --- rendering -----------------------------------------------------------------------------------
#: the report's HTML and CSS (report_templates/): this module prepares rows, the template lays out
TEMPLATES = Path(__file__).with_name("report_templates")


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: "" if value is None else value,  # an empty cell, as before
    )


def render_html(
    data: dict[str, Any],
    prev_month: str | None,
    changes: list[dict[str, str]],
    generated: datetime,
    cells: ReportCells,
) -> str:
    """The report as HTML; every count of people comes from ``cells`` (its disclosure control)."""
    m = data["run_month"]
    context = {
        "month_ja": _month_ja(m),
        "small": cells.threshold - 1,
        "suppressed": SUPPRESSED,
        "not_applicable": NOT_APPLICABLE,
        "header_rows": _header_rows(data, generated),
        "results": _results(data, cells) if data["cells"] else None,
        "fairness": _fairness(data, cells) if data["cells"] else None,
        "candidates": cells.get(("households", "candidates")),
        "yield_table": _yield(data, cells, m),
        "households_per_month": data.get("households_per_month") or "",
        "outcome_rows": [
            [
                o,
                cells.get((f"outcome:{o}", "month", m)),
                cells.get((f"outcome:{o}", "total", m)),
            ]
            for o in OUTCOMES
        ],
        "gate_rows": [[g["stage"], g["source"], g["status"], g["failed"]] for g in data["gates"]],
        "rejection_rows": [
            [SOURCES.get(r["source"], r["source"]), r["rule"], r["files"], r["rows"]] for r in data["rejections"]
        ],
        "prev_month_ja": _month_ja(prev_month) if prev_month else None,
        "change_rows": [[c["seed"], c["key"], c["change"], c["detail"]] for c in changes],
        "type_rule_rows": _type_rule_rows(data),
        "exclusion_rows": [[x["label_ja"], "する" if x.get("is_enabled") else "しない"] for x in data["exclusions"]],
        "activity_rows": [
            [
                "この月に記録されたデータ訂正（誤った人・誤った値）",
                cells.get(("corrections", "month", m)),
            ],
            ["有効なデータ訂正の累計", cells.get(("corrections", "total", m))],
            ["この月に手入力された項目", cells.get(("hand_entries", "single", m))],
            ["この月の開示請求による出力", cells.get(("disclosures", "single", m))],
        ],
        "purge_rows": [[r["target"], r["cutoff"], f"{int(r['rows']):,}"] for r in data["purges"]],
    }
    context["item_rows"], context["item_classes"] = _item_rows(data)
    return _templates().get_template("report.html.j2").render(**context)


def _header_rows(data: dict[str, Any], generated: datetime) -> list[list[str]]:
    m, pub = data["run_month"], data["publication"]
    published = (
        pub["published_at"].astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") if pub else "未公開（品質ゲートで停止）"
    )
    skipped = "、".join(SOURCES.get(s, s) for s in (pub or {}).get("skipped_sources") or []) or "なし"
    return [
        ["対象月（処理した月）", _month_ja(m)],
        ["基準日", f"{_month_ja(m)}末日"],
        ["公開日時", published],
        ["データなしで公開した課", skipped],
        ["この報告の作成日時", generated.strftime("%Y-%m-%d %H:%M")],
    ]


def _results(data: dict[str, Any], cells: ReportCells) -> dict[str, Any]:
    """Section 1: the judged types, and flagged children by age band and by area."""
    type_label = {t["type_code"]: t["label_ja"] for t in data["types"]}
    type_label["_any"] = "いずれかの類型"
    enabled = {x["type_code"] for x in data.get("types_enabled", [])}
    judged = [t["type_code"] for t in data["types"] if t["type_code"] in enabled]
    band_label = {a["age_band"]: a["label_ja"] for a in data["age_bands"]}
    cols = [*judged, "_any"]
    breakdowns = []
    for dim, title, values in (
        ("age_band", "年齢区分別", [a["age_band"] for a in data["age_bands"]]),
        ("area", "地区（町名）別", sorted({c["area"] for c in data["cells"]})),
    ):
        rows = [
            [
                band_label.get(v, v),
                cells.get((dim, v, "children")),
                *[cells.get((dim, v, t)) for t in cols],
            ]
            for v in values
        ]
        breakdowns.append(
            {
                "title": title,
                "headers": [
                    title.replace("別", ""),
                    "こどもの数",
                    *[type_label.get(t, t) for t in cols],
                ],
                "rows": rows,
                "numeric": tuple(range(1, len(cols) + 2)),
            }
        )
    return {
        "scope": cells.get(("scope",)),
        "type_rows": [
            [
                type_label[t],
                cells.get(("type", t, "in_range")),
                cells.get(("type", t, "flagged")),
            ]
            for t in judged
        ],
        "any": cells.get(("any", "flagged")),
        "breakdowns": breakdowns,
    }


def _item_rows(data: dict[str, Any]) -> tuple[list[list[str]], list[str]]:
    """Section 5: the item catalogue in force (purpose, legal basis, holder, look-back, retention)."""
    rows, classes = [], []
    for it in data["items"]:
        on = bool(it.get("is_enabled"))
        since = it.get("enabled_since") if on else it.get("disabled_since")
        rows.append(
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
        classes.append("" if on else "off")
    return rows, classes


def _type_rule_rows(data: dict[str, Any]) -> list[list[str]]:
    """Section 6: each type's ages, threshold and items (required ones and stopped ones marked)."""
    enabled_items = {it["item_code"] for it in data["items"] if it.get("is_enabled")}
    rows = []
    for t in data["types"]:
        names = []
        for ti in data["type_items"]:
            if ti["type_code"] != t["type_code"]:
                continue
            label = ti["item_code"] + ("（必須）" if ti.get("is_required") else "")
            names.append(label + ("" if ti["item_code"] in enabled_items else "［停止中］"))
        rows.append(
            [
                t["label_ja"],
                f"{t['min_age']}～{t['max_age']}歳",
                f"{t['threshold']}点以上",
                "、".join(names),
                "する" if t.get("is_enabled", True) else "しない",
            ]
        )
    return rows


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    import math

    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, c - h), min(1.0, c + h)


def _share(k: int | None, n: int | None) -> str:
    """A share with its Wilson 95 % interval, only from shown counts (else the hidden mark)."""
    if k is None or n is None:
        return SUPPRESSED
    if n == 0:
        return NOT_APPLICABLE
    lo, hi = _wilson(k, n)
    return f"{k / n:.0%}（{lo:.0%}～{hi:.0%}）"


#: groups smaller than this do not enter a disparity ratio (seed proposal_guard: min_group_children)
MIN_GROUP_CHILDREN = 20


def _ratio(groups: list[tuple[int | None, int | None]]) -> str:
    """Highest flag rate ÷ lowest over groups of ≥ MIN_GROUP_CHILDREN, from shown counts only."""
    rates = []
    for children, flagged in groups:
        if children is None or flagged is None:
            return SUPPRESSED
        if children >= MIN_GROUP_CHILDREN:
            rates.append(flagged / children)
    if len(rates) < 2 or min(rates) == 0:
        return NOT_APPLICABLE
    return f"{max(rates) / min(rates):.2f}"


def _fairness(data: dict[str, Any], cells: ReportCells) -> dict[str, Any] | None:
    """A proposed rule's figures beside the current rule's: flagged children by age band and area
    and the disparity ratio (highest group rate ÷ lowest), when a proposal's what-if of this month
    exists. Every count through the disclosure control; ratios from shown counts only."""
    if not data.get("proposal_cells"):
        return None
    band_label = {a["age_band"]: a["label_ja"] for a in data["age_bands"]}
    tables, ratio_rows = [], []
    for dim, title, values in (
        ("age_band", "年齢区分", [a["age_band"] for a in data["age_bands"]]),
        ("area", "地区（町名）", sorted({c["area"] for c in data["cells"]})),
    ):
        rows, now, new = [], [], []
        for v in values:
            children = cells.shown_value((dim, v, "children"))
            rows.append(
                [
                    band_label.get(v, v),
                    cells.get((dim, v, "children")),
                    cells.get((dim, v, "_any")),
                    cells.get(("proposed", dim, v)),
                ]
            )
            now.append((children, cells.shown_value((dim, v, "_any"))))
            new.append((children, cells.shown_value(("proposed", dim, v))))
        tables.append(
            {
                "headers": [
                    f"{title}（提案との比較）",
                    "こどもの数",
                    "今のルール",
                    "提案",
                ],
                "rows": rows,
            }
        )
        ratio_rows.append([title, _ratio(now), _ratio(new)])
    return {
        "status": "ガードで却下" if data["proposal"]["is_refused"] else "審査待ち（まだ採用されていません）",
        "tables": tables,
        "ratio_rows": ratio_rows,
        "min_group": MIN_GROUP_CHILDREN,
    }


def _yield(data: dict[str, Any], cells: ReportCells, m: str) -> dict[str, Any] | None:
    """Section 2's yield table: per type, cumulated over every judged month (docs/evaluation.md)."""
    rows = [r for r in data.get("yield") or [] if r["judged_run_month"] <= m]
    if not rows:
        return None
    if cells.yield_withheld:
        return {"withheld": True, "rows": []}
    order = sorted({(r["type_sort_order"], r["type_code"], r["type_label_ja"]) for r in rows})
    table = []
    for _, t, label in order:
        d = cells.shown_value(("yield", t, "discussed", m))
        s = cells.shown_value(("yield", t, "needs_support", m))
        u = cells.shown_value(("yield", t, "new", m))
        table.append(
            [
                label,
                cells.get(("yield", t, "discussed", m)),
                cells.get(("yield", t, "needs_support", m)),
                _share(s, d),
                cells.get(("yield", t, "new", m)),
                _share(u, s),
            ]
        )
    return {"withheld": False, "rows": table}


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
    from mimamori import db
    from mimamori.months import validate_month  # noqa: F401  (raises on a bad month)

    validate_month(run_month)
    out_dir = settings.state_dir / "reports" / run_month
    out_dir.mkdir(parents=True, exist_ok=True)
    with db.connect(settings, role="transformer") as conn:
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
        prog="python -m mimamori.report",
        description="月次公開報告（HTML・PDF）を作成する",
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
