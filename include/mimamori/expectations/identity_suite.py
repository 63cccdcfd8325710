"""Identity gate (after 名寄せ): the share of each file's records left unmatched or sent to review.

Reads the identity models' link table (thresholds.yml ``identity.relation``: one row per non-spine
record, with its ``raw_table`` and ``link_status`` in linked/review/unmatched). One suite per
source; per file two ``ExpectColumnMeanToBeBetween`` over 0/1 indicator columns whose mean is the
share (rows of the source's other files are NULL there and do not count). Files without any link
row this month (e.g. the spine itself) are not checked; a source without any is skipped.
"""

from __future__ import annotations

from mimamori.expectations.checks import Check, SuiteSpec, qi, qrel
from mimamori.months import validate_month


def _share(cfg: dict, source: str) -> float:
    return float((cfg.get("per_source") or {}).get(source, cfg.get("default", 0.05)))


def source_suite(
    source,
    run_month: str,
    thresholds: dict,
    relation: str,
    *,
    link_counts: dict[str, int],
    has_run_month: bool,
    has_row_number: bool,
) -> SuiteSpec | None:
    """The identity suite of one registry Source, or None if no file of it has link rows."""
    cfg = thresholds.get("identity", {})
    table_col = qi(cfg.get("raw_table_column", "raw_table"))
    status_col = qi(cfg.get("status_column", "link_status"))
    files = [spec for spec in source.files if link_counts.get(spec.raw_table)]
    if not files:
        return None
    tables = ", ".join("'" + qi(spec.raw_table).strip('"') + "'" for spec in files)
    select = [f"{table_col} as raw_table", f"{status_col} as link_status"]
    if has_row_number:
        select.append(qi("source_row_number"))
    checks: list[Check] = []
    max_unmatched, max_review = (
        _share(cfg.get("max_unmatched_share", {}), source.source),
        _share(cfg.get("max_review_share", {}), source.source),
    )
    for spec in files:
        t = spec.raw_table
        qi(t)
        for status, limit, label in (
            ("unmatched", max_unmatched, "照合できなかった"),
            ("review", max_review, "確認待ち（レビュー）になった"),
        ):
            column = f"{t}__{status}"
            select.append(f"case when {table_col} = '{t}' then ({status_col} = '{status}')::int end as {qi(column)}")
            checks.append(
                Check(
                    f"{status}_share:{t}",
                    "ExpectColumnMeanToBeBetween",
                    {"column": column, "min_value": 0, "max_value": limit},
                    f"住民記録と{label}記録の割合が上限（{limit:.0%}）を超えています",
                    column=column,
                    file=spec.file,
                    rows_where=f"raw_table = '{t}' and link_status = '{status}'",
                    row_column="source_row_number" if has_row_number else None,
                )
            )
    where = f"{table_col} in ({tables})"
    if has_run_month:
        where += f" and {qi('run_month')} = '{validate_month(run_month)}'"
    query = f"select {', '.join(select)} from {qrel(relation)} where {where}"
    return SuiteSpec(
        name=f"identity.{source.source}",
        source=source.source,
        asset=f"identity__{source.source}",
        query=query,
        checks=checks,
    )
