"""Validation rules over a whole file, so that every problem of a source is reported at once.

Each problem becomes a :class:`Rejection` with a stable rule id (see ``RULES``). Messages name the
file, the rule, the column header and the row numbers (header = row 1), and never a value: they go
to logs, the rejections table and the data owner's e-mail.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimamori.ingest.parse import DecodeError, ParseError, Table, converter, is_blank, read_csv_bytes, read_xlsx_bytes
from mimamori.ingest.registry import FileSpec, Source

#: rule id → (Japanese, English) short description. The ids are stable: the rejections table,
#: the quality-gate e-mails and the docs refer to them.
RULES: dict[str, tuple[str, str]] = {
    "missing_file": ("ファイルが届いていません", "file not delivered"),
    "encoding": ("文字コード（形式）が契約と異なります", "wrong encoding or format"),
    "truncated_xlsx": ("xlsxファイルが壊れています", "truncated or corrupt xlsx"),
    "empty_file": ("ファイルが空です", "empty file"),
    "missing_column": ("契約の列がありません", "contract column missing"),
    "renamed_column": ("契約の列の見出しが変わっています", "contract column renamed"),
    "unexpected_column": ("契約にない列があります", "column not in the contract"),
    "field_count": ("行の項目数が見出しと一致しません", "row has a different number of fields than the header"),
    "required_blank": ("必須項目が空欄です", "required value is blank"),
    "bad_value": ("値を解釈できません", "value cannot be parsed"),
    "impossible_date": ("ありえない日付です", "impossible date"),
    "duplicate_key": ("キー項目が重複しています", "duplicated key"),
    "other_month": ("抽出日が対象月のものではありません", "extraction date belongs to another month"),
}

EARLIEST_DATE = dt.date(1900, 1, 1)
#: Departments deliver by the 15th of the month after the run month (domain.md §2, §8).
DELIVERY_GRACE_DAYS = 15
ROW_LIST_LIMIT = 20

_REASON_JA = {
    "unrecognised": "日付として解釈できません",
    "invalid_date": "存在しない日付です",
    "era_out_of_range": "元号の範囲外の日付です",
    "not_int": "整数ではありません",
    "not_flag": "有/無 ではありません",
    "not_code": "コード表にない値です",
    "unsupported": "この型に変換できないセルです",
}
_REASON_EN = {
    "unrecognised": "not a recognised date form",
    "invalid_date": "no such calendar date",
    "era_out_of_range": "outside the era's range",
    "not_int": "not an integer",
    "not_flag": "not one of the flag values",
    "not_code": "not one of the contract's codes",
    "unsupported": "a cell of a kind this type cannot take",
}


@dataclass(frozen=True)
class Rejection:
    source: str
    file: str
    rule: str
    rows: list[int]
    column: str | None
    message_ja: str
    message_en: str


@dataclass
class ParsedFile:
    """A file read and checked; ``rows`` are typed tuples in the order of ``spec.columns``."""

    spec: FileSpec
    path: Path
    sha256: str | None = None
    rows_read: int = 0
    rows: list[tuple] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def month_bounds(run_month: str) -> tuple[dt.date, dt.date]:
    """First and last day of 'YYYY-MM' (ValueError if malformed)."""
    try:
        year, month = (int(x) for x in run_month.split("-"))
        if len(run_month) != 7:
            raise ValueError
        first = dt.date(year, month, 1)
    except ValueError:
        raise ValueError(f"run_month must be YYYY-MM, got {run_month!r}") from None
    return first, first.replace(day=calendar.monthrange(year, month)[1])


def compress_rows(rows: list[int], limit: int = ROW_LIST_LIMIT) -> tuple[str, str]:
    """'3, 5, 9' or the first `limit` rows and a count, in Japanese and English."""
    shown = ", ".join(map(str, rows[:limit]))
    if len(rows) <= limit:
        return f"{shown}行目", f"row{'s' if len(rows) > 1 else ''} {shown}"
    return (
        f"{shown} …ほか{len(rows) - limit}行（計{len(rows)}行）",
        f"rows {shown} … and {len(rows) - limit} more ({len(rows)} rows)",
    )


def make_rejection(
    source: str,
    file: str,
    rule: str,
    *,
    rows: list[int] | None = None,
    column: str | None = None,
    detail_ja: str = "",
    detail_en: str = "",
) -> Rejection:
    rows = sorted(set(rows or []))
    rule_ja, rule_en = RULES[rule]
    parts_ja, parts_en = [file], [file]
    if rows:
        rj, re_ = compress_rows(rows)
        parts_ja.append(rj)
        parts_en.append(re_)
    if column:
        parts_ja.append(f"列「{column}」")
        parts_en.append(f"column {column}")
    ja = "・".join(parts_ja) + f": {rule_ja}" + (f"（{detail_ja}）" if detail_ja else "") + f" [{rule}]"
    en = ", ".join(parts_en) + f": {rule_en}" + (f" ({detail_en})" if detail_en else "") + f" [{rule}]"
    return Rejection(source=source, file=file, rule=rule, rows=rows, column=column, message_ja=ja, message_en=en)


def _check_header(source: str, spec: FileSpec, header: list[str]) -> tuple[list[Rejection], dict[str, int]]:
    """Compare the delivered header with the contract (by name; order may differ).

    Returns the rejections and {header: index} of the contract columns found. Delivered headers
    that are not in the contract are referred to by position only: a file without a header row
    would otherwise put a person's data into the message.
    """
    expected = spec.headers
    index: dict[str, int] = {}
    dup_positions: list[int] = []
    for i, h in enumerate(header):
        if h in expected:
            if h in index:
                dup_positions.append(i)
            else:
                index[h] = i
    unknown = {i for i, h in enumerate(header) if h not in expected and h != ""} | set(dup_positions)
    blank_positions = {i for i, h in enumerate(header) if h == ""}
    out: list[Rejection] = []
    for pos, h in enumerate(expected):
        if h in index:
            continue
        if pos in unknown:
            unknown.discard(pos)
            out.append(
                make_rejection(
                    source,
                    spec.file,
                    "renamed_column",
                    column=h,
                    detail_ja=f"{pos + 1}列目の見出しが契約と異なります",
                    detail_en=f"the header in column position {pos + 1} differs from the contract",
                )
            )
        else:
            out.append(
                make_rejection(
                    source,
                    spec.file,
                    "missing_column",
                    column=h,
                    detail_ja=f"契約では{pos + 1}列目",
                    detail_en=f"contract position {pos + 1}",
                )
            )
    for pos in sorted(unknown | blank_positions):
        what_ja = (
            "見出しが重複"
            if pos in dup_positions
            else ("見出しが空欄" if pos in blank_positions else "契約にない見出し")
        )
        what_en = (
            "duplicated header"
            if pos in dup_positions
            else ("blank header" if pos in blank_positions else "header not in the contract")
        )
        out.append(
            make_rejection(
                source,
                spec.file,
                "unexpected_column",
                detail_ja=f"{pos + 1}列目: {what_ja}",
                detail_en=f"column position {pos + 1}: {what_en}",
            )
        )
    return out, index


def check_table(source: str, spec: FileSpec, table: Table, run_month: str) -> ParsedFile:
    """Run every row-level rule on a decoded table; the rows are typed even if some are rejected."""
    parsed = ParsedFile(spec=spec, path=Path(spec.file))
    rej = parsed.rejections
    header_problems, index = _check_header(source, spec, table.header)
    rej.extend(header_problems)
    parsed.rows_read = len(table.records)
    if not table.records:
        rej.append(
            make_rejection(
                source,
                spec.file,
                "empty_file",
                detail_ja="見出し行のみでデータ行がありません",
                detail_en="header only, no data rows",
            )
        )
        return parsed

    width = len(table.header)
    bad_width = [n for rec, n in zip(table.records, table.row_numbers, strict=False) if len(rec) != width]
    skip = set(bad_width)  # reported once as field_count; their cells are not checked one by one
    if bad_width:
        rej.append(
            make_rejection(
                source,
                spec.file,
                "field_count",
                rows=bad_width,
                detail_ja=f"見出しは{width}項目",
                detail_en=f"the header has {width} fields",
            )
        )

    first, last = month_bounds(run_month)
    window_end = last + dt.timedelta(days=DELIVERY_GRACE_DAYS)
    numbers = table.row_numbers
    n_rows = len(table.records)
    columns: list[list[Any]] = []
    for col in spec.columns:
        values: list[Any] = [None] * n_rows
        columns.append(values)
        pos = index.get(col.header)
        if pos is None:
            continue
        convert = converter(col)
        cache: dict[Any, Any] = {}
        blanks: list[int] = []
        bad: dict[str, list[int]] = defaultdict(list)
        for i, rec in enumerate(table.records):
            if skip and numbers[i] in skip:
                continue
            raw = rec[pos] if pos < len(rec) else None
            if is_blank(raw):
                if col.required:
                    blanks.append(numbers[i])
                continue
            key = raw if isinstance(raw, str) else (type(raw), raw)
            hit = cache.get(key)
            if hit is None:
                try:
                    hit = (True, convert(raw))
                except ParseError as exc:
                    hit = (False, exc.reason)
                except (TypeError, ValueError, AttributeError):  # an odd xlsx cell type
                    hit = (False, "unsupported")
                cache[key] = hit
            if hit[0]:
                values[i] = hit[1]
            else:
                bad[hit[1]].append(numbers[i])
        if blanks:
            rej.append(make_rejection(source, spec.file, "required_blank", rows=blanks, column=col.header))
        for reason, rows in bad.items():
            rej.append(
                make_rejection(
                    source,
                    spec.file,
                    "bad_value",
                    rows=rows,
                    column=col.header,
                    detail_ja=f"型 {col.type}: {_REASON_JA[reason]}",
                    detail_en=f"type {col.type}: {_REASON_EN[reason]}",
                )
            )

    names = [c.column for c in spec.columns]
    extracted = columns[names.index("extracted_on")]

    # impossible_date: events after the row's 抽出日; any date before 1900.
    for col, values in zip(spec.columns, columns, strict=False):
        if col.base_type not in ("date", "date_end"):
            continue
        future, ancient = [], []
        for i, v in enumerate(values):
            if v is None:
                continue
            if v < EARLIEST_DATE:
                ancient.append(numbers[i])
            elif col.base_type == "date" and extracted[i] is not None and v > extracted[i]:
                future.append(numbers[i])
        if future:
            rej.append(
                make_rejection(
                    source,
                    spec.file,
                    "impossible_date",
                    rows=future,
                    column=col.header,
                    detail_ja="その行の抽出日より後",
                    detail_en="after the row's extraction date",
                )
            )
        if ancient:
            rej.append(
                make_rejection(
                    source,
                    spec.file,
                    "impossible_date",
                    rows=ancient,
                    column=col.header,
                    detail_ja="1900年1月1日より前",
                    detail_en="before 1900-01-01",
                )
            )

    # other_month: 抽出日 in the run month or within the grace days after it.
    other = [numbers[i] for i, v in enumerate(extracted) if v is not None and not (first <= v <= window_end)]
    if other:
        header_ja = spec.column_by_name("extracted_on").header
        rej.append(
            make_rejection(
                source,
                spec.file,
                "other_month",
                rows=other,
                column=header_ja,
                detail_ja=f"対象月 {run_month} の抽出日は {first.isoformat()}〜{window_end.isoformat()}",
                detail_en=f"run month {run_month} expects {first.isoformat()} to {window_end.isoformat()}",
            )
        )

    # duplicate_key over the contract's key columns (rows with a blank key part are reported above).
    if spec.keys:
        key_cols = [columns[names.index(k)] for k in spec.keys]
        seen: dict[tuple, int] = {}
        dups: set[int] = set()
        for i, key in enumerate(zip(*key_cols, strict=False)):
            if any(k is None for k in key):
                continue
            j = seen.setdefault(key, i)
            if j != i:
                dups.add(numbers[i])
                dups.add(numbers[j])
        if dups:
            headers = "+".join(spec.column_by_name(k).header for k in spec.keys)
            rej.append(make_rejection(source, spec.file, "duplicate_key", rows=sorted(dups), column=headers))

    parsed.rows = list(zip(*columns, strict=False)) if columns else []
    parsed.row_numbers = list(numbers)
    return parsed


def check_file(source: Source, spec: FileSpec, path: Path, run_month: str) -> ParsedFile:
    """Read and check one delivered file (or report it missing)."""
    name = source.source
    path = Path(path)
    if not path.is_file():
        parsed = ParsedFile(spec=spec, path=path)
        parsed.rejections.append(
            make_rejection(
                name,
                spec.file,
                "missing_file",
                detail_ja=f"{run_month}/{name}/ に見当たりません",
                detail_en=f"not found in {run_month}/{name}/",
            )
        )
        return parsed
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    if not raw.strip(b"\r\n\t \xef\xbb\xbf"):
        parsed = ParsedFile(spec=spec, path=path, sha256=sha)
        parsed.rejections.append(
            make_rejection(name, spec.file, "empty_file", detail_ja="0バイト", detail_en="zero bytes")
        )
        return parsed
    try:
        table = read_xlsx_bytes(raw) if spec.encoding == "xlsx" else read_csv_bytes(raw, spec.encoding)
    except DecodeError as exc:
        parsed = ParsedFile(spec=spec, path=path, sha256=sha)
        parsed.rejections.append(
            make_rejection(name, spec.file, exc.rule, detail_ja=exc.message_ja, detail_en=exc.message_en)
        )
        return parsed
    parsed = check_table(name, spec, table, run_month)
    parsed.path = path
    parsed.sha256 = sha
    return parsed
