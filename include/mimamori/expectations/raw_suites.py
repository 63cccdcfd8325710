"""Raw gate: one suite per raw table (file) of a source, built from the source registry.

Per file of the contract (include/sources/<source>.yaml):

- every contract column is present (``ExpectColumnToExist``);
- the contract's key columns are unique (compound where the key has several columns);
- required columns have no blank;
- ``code:`` columns hold only the contract's codes, ``flag:`` columns only true/false;
- event dates (type ``date``) are not after the file's 抽出日 and no date lies before
  ``raw.earliest_date`` (end dates, type ``date_end``, may lie ahead: only the lower bound);
- the month's row count lies within a band around last month's (thresholds.yml), skipped when
  the table has no rows for the previous month;
- in the children's files of ``raw.children_ages`` (thresholds.yml), every birth date gives an
  age within min–max on the as-of date (the run month's last day, counted as dbt's ``age_on``)
  and none lies after it — with the severity configured there (``notice``: the owner is told,
  the month is not held back).

The batch is the run month only: ``select * from raw.<raw_table> where run_month = 'YYYY-MM'``.
"""

from __future__ import annotations

import datetime as dt

from mimamori.expectations.checks import Check, SuiteSpec, band, qi, qrel
from mimamori.months import as_of_date, validate_month

RAW_SCHEMA = "raw"


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def batch_query(raw_table: str, run_month: str, run_id: str | None = None) -> str:
    """The run month's rows of one attempt (raw keeps every attempt side by side)."""
    query = f"select * from {qrel(RAW_SCHEMA + '.' + raw_table)} where run_month = {_lit(validate_month(run_month))}"
    return query + (f" and run_id = {_lit(run_id)}" if run_id is not None else "")


def birth_date_bounds(run_month: str, min_age: int, max_age: int) -> tuple[dt.date, dt.date]:
    """(earliest, latest) birth date of someone aged min_age–max_age on the run month's last day.

    Ages as dbt's ``age_on`` counts them (年齢計算ニ関スル法律: full years to the as-of date + 1
    day, the first of the next month — never a 29 February); nobody is born after the as-of date.
    """
    as_of = as_of_date(run_month)
    day_after = as_of + dt.timedelta(days=1)
    earliest = day_after.replace(year=day_after.year - max_age - 1) + dt.timedelta(days=1)
    latest = min(as_of, day_after.replace(year=day_after.year - min_age))
    return earliest, latest


def children_age_checks(spec, thresholds: dict, run_month: str) -> list[Check]:
    """The age check of a children's file (thresholds.yml raw.children_ages), or none."""
    cfg = thresholds.get("raw", {}).get("children_ages") or {}
    column = (cfg.get("files") or {}).get(spec.raw_table)
    if not column:
        return []
    col = next((c for c in spec.columns if c.column == column), None)
    if col is None:
        raise ValueError(f"thresholds.yml raw.children_ages: {spec.raw_table} has no column {column!r}")
    min_age, max_age = int(cfg.get("min", 0)), int(cfg.get("max", 18))
    earliest, latest = birth_date_bounds(run_month, min_age, max_age)
    c = qi(column)
    return [
        Check(
            f"child_age:{column}",
            "ExpectColumnValuesToBeBetween",
            {"column": column, "min_value": earliest.isoformat(), "max_value": latest.isoformat()},
            f"「{col.header}」から求めた対象月末の年齢が{min_age}～{max_age}歳の範囲外です"
            f"（{max_age + 1}歳以上"
            + (f"・{min_age}歳未満" if min_age > 0 else "")
            + "、または対象月末より後の生年月日）",
            column=column,
            file=spec.file,
            rows_where=f"{c} < {_lit(earliest.isoformat())}::date or {c} > {_lit(latest.isoformat())}::date",
            severity=str(cfg.get("severity", "notice")),
        )
    ]


def _key_checks(spec, headers: dict[str, str], f: str) -> list[Check]:
    """The contract's key: unique (one column) or unique in combination."""
    keys = list(spec.keys)
    if len(keys) == 1:
        k = qi(keys[0])
        return [
            Check(
                f"unique:{keys[0]}",
                "ExpectColumnValuesToBeUnique",
                {"column": keys[0]},
                f"キー項目「{headers[keys[0]]}」が重複しています",
                column=keys[0],
                file=f,
                rows_where=f"{k} in (select {k} from batch where {k} is not null group by {k} having count(*) > 1)",
            )
        ]
    if len(keys) > 1:
        cols = ", ".join(qi(k) for k in keys)
        all_null = " and ".join(f"{qi(k)} is null" for k in keys)
        return [
            Check(
                "unique:" + "+".join(keys),
                "ExpectCompoundColumnsToBeUnique",
                {"column_list": keys},
                "キー項目（" + "・".join(headers[k] for k in keys) + "）の組み合わせが重複しています",
                column="+".join(keys),
                file=f,
                rows_where=(
                    f"({cols}) in (select {cols} from batch where not ({all_null}) group by {cols} having count(*) > 1)"
                ),
            )
        ]
    return []


def _value_set_check(col, f: str) -> Check | None:
    """A code column's values are in its code table; a flag column's are true or false."""
    c, h = qi(col.column), col.header
    if col.base_type == "code":
        value_set: list = list(col.codes)
        what = f"「{h}」にコード表（{'・'.join(value_set)}）にない値があります"
        allowed = ", ".join(_lit(x) for x in value_set)
    elif col.base_type == "flag":
        true, false = col.flag_labels
        value_set, what, allowed = [True, False], f"「{h}」が {true}/{false} 以外の値です", "true, false"
    else:
        return None
    return Check(
        f"in_set:{col.column}",
        "ExpectColumnValuesToBeInSet",
        {"column": col.column, "value_set": value_set},
        what,
        column=col.column,
        file=f,
        rows_where=f"{c} is not null and {c} not in ({allowed})",
    )


def _date_checks(col, f: str, earliest: str) -> list[Check]:
    """A date is not before the earliest date; an event is not after the row's 抽出日."""
    c, h, base = qi(col.column), col.header, col.base_type
    checks = []
    if base in ("date", "date_end", "month"):
        checks.append(
            Check(
                f"not_before:{col.column}",
                "ExpectColumnValuesToBeBetween",
                {"column": col.column, "min_value": earliest},
                f"「{h}」に{earliest}より前の日付があります",
                column=col.column,
                file=f,
                rows_where=f"{c} < {_lit(earliest)}::date",
            )
        )
    if base == "date" and col.column != "extracted_on":
        checks.append(
            Check(
                f"not_after_extracted:{col.column}",
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "extracted_on",
                    "column_B": col.column,
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
                f"「{h}」が抽出日より後の日付（未来の日付）になっています",
                column=col.column,
                file=f,
                rows_where=f"{c} > {qi('extracted_on')}",
            )
        )
    return checks


def _column_checks(col, f: str, earliest: str) -> list[Check]:
    """One contract column's value checks: required, code table or flag, dates."""
    checks = []
    if col.required:
        checks.append(
            Check(
                f"not_null:{col.column}",
                "ExpectColumnValuesToNotBeNull",
                {"column": col.column},
                f"必須項目「{col.header}」が空欄です",
                column=col.column,
                file=f,
                rows_where=f"{qi(col.column)} is null",
            )
        )
    value_set = _value_set_check(col, f)
    if value_set is not None:
        checks.append(value_set)
    return checks + _date_checks(col, f, earliest)


def _row_count_check(spec, raw_cfg: dict, previous_rows: int, f: str) -> Check:
    """The row count within the band around last month's."""
    cfg = raw_cfg.get("row_count_band", {})
    relative = float((cfg.get("per_table") or {}).get(spec.raw_table, cfg.get("relative", 0.2)))
    low, high = band(previous_rows, relative, float(cfg.get("absolute_slack", 0)))
    low, high = int(low), int(high + 0.999999)
    return Check(
        "row_count",
        "ExpectTableRowCountToBeBetween",
        {"min_value": low, "max_value": high},
        f"行数が前月（{previous_rows}行）から大きく変わっています（許容範囲 {low}～{high}行）",
        file=f,
    )


def file_checks(spec, thresholds: dict, previous_rows: int | None, run_month: str | None = None) -> list[Check]:
    """The checks of one registry FileSpec (duck-typed: file, raw_table, keys, columns)."""
    raw_cfg = thresholds.get("raw", {})
    earliest = str(raw_cfg.get("earliest_date", "1900-01-01"))
    headers = {c.column: c.header for c in spec.columns}
    f = spec.file
    checks: list[Check] = [
        Check(
            f"column_exists:{col.column}",
            "ExpectColumnToExist",
            {"column": col.column},
            f"契約の列「{col.header}」が取り込まれたデータにありません",
            column=col.column,
            file=f,
        )
        for col in spec.columns
    ]
    checks += _key_checks(spec, headers, f)
    for col in spec.columns:
        checks += _column_checks(col, f, earliest)
    if previous_rows:
        checks.append(_row_count_check(spec, raw_cfg, previous_rows, f))
    if run_month:
        checks += children_age_checks(spec, thresholds, run_month)
    return checks


def source_suites(
    source, run_month: str, thresholds: dict, previous_rows: dict[str, int | None], run_id: str | None = None
) -> list[SuiteSpec]:
    """One SuiteSpec per file of a registry Source; ``previous_rows`` by raw_table (None: no month).

    ``run_id``: the attempt whose rows are validated.
    """
    return [
        SuiteSpec(
            name=f"raw.{source.source}.{spec.raw_table}",
            source=source.source,
            asset=f"raw__{spec.raw_table}",
            query=batch_query(spec.raw_table, run_month, run_id),
            checks=file_checks(spec, thresholds, previous_rows.get(spec.raw_table), run_month),
            file=spec.file,
        )
        for spec in source.files
    ]
