"""Marts gate: flagged share per type near last month's, evidence behind every flag, ages 0–18.

Table and column names come from thresholds.yml (``marts``) because the marts are built by the
judgement models; a relation that does not exist (yet) leaves its part out, and the gate is
``skipped`` when no part can run. Each part is its own suite over a batch of the run month.
"""

from __future__ import annotations

from mimamori.expectations.checks import Check, SuiteSpec, band, qi, qrel
from mimamori.months import validate_month


def _month_filter(has_run_month: bool, run_month: str, alias: str = "") -> str:
    if not has_run_month:
        return "true"
    return f"{alias}{qi('run_month')} = '{validate_month(run_month)}'"


def flagged_share_suite(
    run_month: str, thresholds: dict, scores: str, *, has_run_month: bool, types: list[str], previous: dict[str, float]
) -> SuiteSpec | None:
    """Mean of the 0/1 flag per type within last month's share ± band (types without a previous month skip)."""
    cfg = thresholds["marts"]["scores"]
    band_cfg = thresholds["marts"].get("flagged_share_band", {})
    type_col, flag_col = qi(cfg.get("type_column", "type_code")), qi(cfg.get("flagged_column", "is_flagged"))
    select, checks = [], []
    for t in types:
        if t not in previous:
            continue
        column = f"{t}__flagged"
        qi(column)
        select.append(f"case when {type_col} = '{t}' then {flag_col}::int end as {qi(column)}")
        low, high = band(previous[t], float(band_cfg.get("relative", 0.2)), float(band_cfg.get("absolute_slack", 0)))
        low, high = round(low, 4), round(min(1.0, high), 4)
        checks.append(
            Check(
                f"flagged_share:{t}",
                "ExpectColumnMeanToBeBetween",
                {"column": column, "min_value": low, "max_value": high},
                f"類型「{t}」の該当割合が前月（{previous[t]:.1%}）から大きく変わっています（許容 {low:.1%}～{high:.1%}）",
                column=column,
                row_column=None,
            )
        )
    if not checks:
        return None
    query = f"select {', '.join(select)} from {qrel(scores)} where {_month_filter(has_run_month, run_month)}"
    return SuiteSpec(
        name="marts.flagged_share", source="marts", asset="marts__flagged_share", query=query, checks=checks
    )


def evidence_suite(
    run_month: str, thresholds: dict, scores: str, evidence: str, *, scores_month: bool, evidence_month: bool
) -> SuiteSpec:
    """Every flagged child × type has at least one evidence row (matched item with its source record)."""
    s_cfg, e_cfg = thresholds["marts"]["scores"], thresholds["marts"]["evidence"]
    sp, st, sf = (
        qi(s_cfg.get(k, d))
        for k, d in (("person_column", "person_id"), ("type_column", "type_code"), ("flagged_column", "is_flagged"))
    )
    ep, et = (qi(e_cfg.get(k, d)) for k, d in (("person_column", "person_id"), ("type_column", "type_code")))
    points = f" and e.{qi(e_cfg['points_column'])} > 0" if e_cfg.get("points_column") else ""
    query = (
        f"select s.{st} as type_code, exists (select 1 from {qrel(evidence)} e where e.{ep} = s.{sp} and e.{et} = s.{st}"
        f"{points} and {_month_filter(evidence_month, run_month, 'e.')}) as has_evidence"
        f" from {qrel(scores)} s where s.{sf} and {_month_filter(scores_month, run_month, 's.')}"
    )
    check = Check(
        "flag_has_evidence",
        "ExpectColumnValuesToBeInSet",
        {"column": "has_evidence", "value_set": [True]},
        "根拠（該当した項目と元の記録）のない判定があります",
        column="has_evidence",
        rows_where="not has_evidence",
        row_column=None,
    )
    return SuiteSpec(name="marts.evidence", source="marts", asset="marts__evidence", query=query, checks=[check])


def age_suite(run_month: str, thresholds: dict, relation: str, column: str, *, has_run_month: bool) -> SuiteSpec:
    m = thresholds["marts"]
    low, high = int(m.get("age_min", 0)), int(m.get("age_max", 18))
    name = relation.replace(".", "__")
    check = Check(
        f"age_in_scope:{relation}.{column}",
        "ExpectColumnValuesToBeBetween",
        {"column": column, "min_value": low, "max_value": high},
        f"{relation} に対象年齢（{low}～{high}歳）外の児童がいます",
        column=column,
        rows_where=f"{qi(column)} is not null and {qi(column)} not between {low} and {high}",
        row_column=None,
    )
    query = f"select {qi(column)} from {qrel(relation)} where {_month_filter(has_run_month, run_month)}"
    return SuiteSpec(name=f"marts.age.{name}", source="marts", asset=f"marts__age__{name}", query=query, checks=[check])
