"""Validation rules over a whole file, so that every problem of a source is reported at once.

Each problem becomes a :class:`Rejection` with a stable rule id (see ``RULES``). Messages name the
file, the rule, the column header and the row numbers (header = row 1), and never a value: they go
to logs, the rejections table and the data owner's e-mail.
"""

from __future__ import annotations

import calendar
import datetime as dt
import errno
import hashlib
import logging
import os
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimamori.ingest.limits import Limits
from mimamori.ingest.parse import (
    DecodeError,
    FileProblem,
    ParseError,
    Table,
    converter,
    cut_mid_character,
    decode_text,
    is_blank,
    long_lines,
    parse_csv_text,
    read_xlsx_bytes,
)
from mimamori.ingest.registry import FileSpec, Source

log = logging.getLogger("mimamori.ingest")

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
    # Every way a file can fail to be read or loaded ends in one of these (docs/ingestion.md).
    "unreadable": ("ファイルを読み取れません", "file cannot be read"),
    "file_too_large": ("ファイルが大きすぎます", "file larger than the limit"),
    "truncated_file": ("ファイルが途中で切れています", "file is cut off"),
    "malformed_csv": ("CSVの形式が崩れています", "malformed CSV"),
    "line_too_long": ("1行が長すぎます", "line longer than the limit"),
    "field_too_large": ("項目の値が長すぎます", "field longer than the limit"),
    "too_many_rows": ("行数が上限を超えています", "more rows than the limit"),
    "formula_cell": ("計算式の結果が保存されていません", "formula without its saved result"),
    "load_error": ("データベースへの書き込みで拒否されました", "the database refused the rows"),
    "internal_error": ("システムで処理できない形式です", "the file could not be processed"),
    # A town's mapping (towns/<town>/sources/<source>.yaml, mimamori.sources) does not fit what
    # was delivered: the town's configuration, so these go to IT, not to the data owner.
    "mapping_invalid": ("対応表（マッピング）に誤りがあります", "the mapping file has mistakes"),
    "mapping_column": ("対応表の列がファイルにありません", "a column of the mapping is not in the file"),
    "unmapped_code": ("対応表のコード表にない値です", "a value the mapping's code map does not list"),
    "date_style": ("対応表で指定した日付の書き方と違います", "a date not in the mapping's declared style"),
    "extract_mismatch": (
        "対応表の extract（値の一部の取り出し）に合わない値です",
        "a value the mapping's extract does not match",
    ),
    "layout_mismatch": ("固定長のレイアウトが行と合いません", "the fixed-width layout does not fit the line"),
    "unrouted_row": ("どの契約ファイルにも振り分けられない行です", "a row no output of the mapping takes"),
    "ambiguous_file": ("対応表のファイル名に合うファイルが複数あります", "several files match one input"),
    # Nearly every value of a mapped column fails the contract's type: the mapping forgot a code map or
    # a conversion (学年 "3年" into an int column), not a department's typo (mimamori.sources.apply).
    "mapping_type": (
        "対応表で作った列の値が契約の型に合いません",
        "a mapped column's values do not fit the contract type",
    ),
    # Found by ``sources check`` across the outputs of one mapping: a column identity compares exactly
    # between files (学校) written differently in one of them (mimamori.sources.check).
    "mapping_inconsistent": (
        "対応表で作ったファイルどうしで、同じものの書き方が違います",
        "the mapping's outputs write the same thing differently",
    ),
    # Notices (NOTICE_RULES): reported to the data owner, never a reason to hold the month back.
    "unexpected_file_name": ("ファイル名が想定と違うため読み込んでいません", "file name not in the contract, not read"),
    "duplicate_row": ("全項目が同じ行が重複しています", "identical rows"),
}
#: Rules that are notices, not rejections: the file still loads (ingest.notices, docs/ingestion.md).
#: An unexpected file name is never read; if the file the contract names is then absent, that is
#: ``missing_file`` (a rejection) on its own. Identical rows in a file without contract keys
#: (出欠, 学校健診) load as delivered; in a file with keys they are a ``duplicate_key`` rejection.
NOTICE_RULES = frozenset({"unexpected_file_name", "duplicate_row"})

#: Rules about the town's mapping rather than the data: mailed to IT instead of the data owner,
#: and the delivered files stay in the inbox (nothing is wrong with them; re-run after the fix).
IT_RULES = frozenset(
    {
        "mapping_invalid",
        "mapping_column",
        "unmapped_code",
        "date_style",
        "extract_mismatch",
        "layout_mismatch",
        "unrouted_row",
        "ambiguous_file",
        "mapping_type",
        "mapping_inconsistent",
    }
)

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
    "out_of_range": "整数の範囲を超えています",
    "control_character": "制御文字（NUL）を含みます",
}
_REASON_EN = {
    "unrecognised": "not a recognised date form",
    "invalid_date": "no such calendar date",
    "era_out_of_range": "outside the era's range",
    "not_int": "not an integer",
    "not_flag": "not one of the flag values",
    "not_code": "not one of the contract's codes",
    "unsupported": "a cell of a kind this type cannot take",
    "out_of_range": "outside the integer range",
    "control_character": "contains a NUL character",
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
    detail_ja: str = ""
    detail_en: str = ""

    @property
    def for_it(self) -> bool:
        """A mapping problem: IT's to fix (docs/onboarding.md), not the data owner's."""
        return self.rule in IT_RULES

    def key(self) -> tuple:
        return (self.file, self.rule, tuple(self.rows), self.column, self.message_ja)


@dataclass(frozen=True)
class DeliveredFile:
    """A file as the department delivered it, when a town's mapping turned it into contract rows."""

    name: str
    path: Path
    sha256: str
    rows: int  # data rows it gave this contract file
    columns: dict[str, str]  # contract column → the column as delivered (a header, "3列目", …)


@dataclass
class ParsedFile:
    """A file read and checked; ``rows`` are typed tuples in the order of ``spec.columns``.

    For a contract file made by a town's mapping (mimamori.sources), ``row_files`` names the
    delivered file of each row (``row_numbers`` are that file's rows), and ``delivered`` lists
    the files it was made from; both are empty for a file delivered in the contract layout.
    """

    spec: FileSpec
    path: Path
    sha256: str | None = None
    rows_read: int = 0
    rows: list[tuple] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    row_files: list[str] = field(default_factory=list)
    delivered: list[DeliveredFile] = field(default_factory=list)
    mapping: str | None = None  # the mapping file that made it (its path), if any
    mapping_sha256: str | None = None

    def source_file(self, i: int) -> str:
        return self.row_files[i] if self.row_files else self.spec.file

    def file_sha(self, name: str) -> str | None:
        for d in self.delivered:
            if d.name == name:
                return d.sha256
        return self.sha256

    #: NOTICE_RULES findings: mailed to the owner, the file loads all the same
    notices: list[Rejection] = field(default_factory=list)


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
    return Rejection(
        source=source,
        file=file,
        rule=rule,
        rows=rows,
        column=column,
        message_ja=ja,
        message_en=en,
        detail_ja=detail_ja,
        detail_en=detail_en,
    )


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


def _field_count(source: str, spec: FileSpec, table: Table, rej: list) -> set[int]:
    """Rows whose field count is not the header's: reported once as field_count; their cells are
    not checked one by one."""
    width = len(table.header)
    bad_width = [n for rec, n in zip(table.records, table.row_numbers, strict=False) if len(rec) != width]
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
    return set(bad_width)


def _typed_column(source: str, spec: FileSpec, col, pos: int, table: Table, skip: set[int], already, rej: list):
    """One contract column's values, typed (None where blank, unparseable or skipped); blank required
    cells and unparseable values are reported."""
    numbers = table.row_numbers
    values: list[Any] = [None] * len(table.records)
    convert = converter(col)
    cache: dict[Any, Any] = {}
    blanks: list[int] = []
    bad: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(table.records):
        if skip and numbers[i] in skip:
            continue
        if already and numbers[i] in already:
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
    return values


def _impossible_dates(source: str, spec: FileSpec, columns, numbers, extracted, rej: list) -> None:
    """impossible_date: events after the row's 抽出日; any date before 1900."""
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
        for rows, ja, en in (
            (future, "その行の抽出日より後", "after the row's extraction date"),
            (ancient, "1900年1月1日より前", "before 1900-01-01"),
        ):
            if rows:
                rej.append(
                    make_rejection(
                        source, spec.file, "impossible_date", rows=rows, column=col.header, detail_ja=ja, detail_en=en
                    )
                )


def _other_month(source: str, spec: FileSpec, run_month: str, numbers, extracted, rej: list) -> None:
    """other_month: 抽出日 in the run month or within the grace days after it."""
    first, last = month_bounds(run_month)
    window_end = last + dt.timedelta(days=DELIVERY_GRACE_DAYS)
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


def _duplicate_key_details(dups: set[int], identical: set[int]) -> tuple[str, str]:
    same = sorted(dups & identical)
    if same and len(same) == len(dups):
        return (
            "どの行も、重複の相手と全項目が同じです（同じ行が二重に出力された可能性があります）",
            "every one is identical to its duplicate in all columns (exported twice?)",
        )
    if same:
        rj, re_ = compress_rows(same)
        return (
            f"うち{rj}は全項目が同じ行、ほかはキーが同じで内容の違う行です",
            f"{re_} identical in all columns, the others differ beyond the key",
        )
    return "キーが同じで内容の違う行です", "same key, different content"


def _duplicates(source: str, spec: FileSpec, columns, numbers, skip: set[int], parsed: ParsedFile) -> None:
    """duplicate_key over the contract's key columns (rows with a blank key part are reported
    elsewhere); rows identical in every column are named as such (a file exported twice over), in
    the rejection of a keyed file and as a duplicate_row notice of a file without keys."""
    names = [c.column for c in spec.columns]
    identical = _identical_rows(columns, numbers, skip)
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
            detail_ja, detail_en = _duplicate_key_details(dups, identical)
            parsed.rejections.append(
                make_rejection(
                    source,
                    spec.file,
                    "duplicate_key",
                    rows=sorted(dups),
                    column=headers,
                    detail_ja=detail_ja,
                    detail_en=detail_en,
                )
            )
    elif identical:
        parsed.notices.append(
            make_rejection(
                source,
                spec.file,
                "duplicate_row",
                rows=sorted(identical),
                detail_ja="契約上キー項目のないファイルのため、そのまま取り込みました。二重に出力されていないかご確認ください",
                detail_en="the contract has no key for this file: loaded as delivered; please check for a double export",
            )
        )


def check_table(
    source: str, spec: FileSpec, table: Table, run_month: str, skip_cells: dict[str, set[int]] | None = None
) -> ParsedFile:
    """Run every row-level rule on a decoded table; the rows are typed even if some are rejected.

    ``skip_cells``: {column: row numbers} of cells already reported (a town's mapping could not
    translate them): left null, not reported again as blank or unparseable.
    """
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
    skip = _field_count(source, spec, table, rej)
    numbers = table.row_numbers
    columns: list[list[Any]] = []
    for col in spec.columns:
        pos = index.get(col.header)
        if pos is None:
            columns.append([None] * len(table.records))
            continue
        already = (skip_cells or {}).get(col.column) or ()
        columns.append(_typed_column(source, spec, col, pos, table, skip, already, rej))
    extracted = columns[[c.column for c in spec.columns].index("extracted_on")]
    _impossible_dates(source, spec, columns, numbers, extracted, rej)
    _other_month(source, spec, run_month, numbers, extracted, rej)
    _duplicates(source, spec, columns, numbers, skip, parsed)
    parsed.rows = list(zip(*columns, strict=False)) if columns else []
    parsed.row_numbers = list(numbers)
    return parsed


def _identical_rows(columns: list[list[Any]], numbers: list[int], skip: set[int]) -> set[int]:
    """Row numbers of rows equal to another row in every contract column (抽出日 included)."""
    seen: dict[tuple, int] = {}
    out: set[int] = set()
    for i, row in enumerate(zip(*columns, strict=False)):
        if numbers[i] in skip or all(v is None for v in row):
            continue
        j = seen.setdefault(row, i)
        if j != i:
            out.update((numbers[i], numbers[j]))
    return out


class _Rejected(Exception):
    """Internal: stop checking a file at a structural problem (the file gets this one rejection)."""

    def __init__(self, rule: str, detail_ja: str = "", detail_en: str = "", rows: list[int] | None = None):
        super().__init__(rule)
        self.rule, self.detail_ja, self.detail_en, self.rows = rule, detail_ja, detail_en, rows or []


def _os_error(exc: OSError, while_ja: str, while_en: str) -> _Rejected:
    code = errno.errorcode.get(exc.errno or 0, exc.__class__.__name__)  # never the path or a value
    return _Rejected("unreadable", f"{while_ja}（{code}）", f"{while_en} ({code})")


def read_delivered(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, read once: everything after works on this snapshot.

    Opened non-blocking and checked on the open descriptor, so a path swapped for a pipe, a
    device or a directory is refused instead of blocking; a file that vanished, cannot be read
    or grew past the limit while being read is a rejection like any other.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise _Rejected("missing_file") from None
    except OSError as exc:
        raise _os_error(exc, "開けません", "cannot be opened") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Rejected("unreadable", "通常のファイルではありません", "not a regular file")
        if st.st_size > max_bytes:
            raise _too_large(max_bytes)
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read(max_bytes + 1)
    except OSError as exc:
        raise _os_error(exc, "読み取り中にエラー", "error while reading") from None
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    return raw


def _too_large(max_bytes: int) -> _Rejected:
    return _Rejected("file_too_large", f"上限は{max_bytes}バイト", f"the limit is {max_bytes} bytes")


def _decode_table(spec: FileSpec, raw: bytes, limits: Limits) -> Table:
    """The file as a table, or the one structural rejection that prevents it."""
    try:
        if spec.encoding == "xlsx":
            return read_xlsx_bytes(raw, max_rows=limits.max_rows, max_bytes=limits.max_file_bytes)
        return _csv_table(spec, raw, limits)
    except DecodeError as exc:
        raise _Rejected(exc.rule, exc.message_ja, exc.message_en) from None
    except FileProblem as exc:
        raise _Rejected(exc.rule, exc.message_ja, exc.message_en, exc.rows) from None


def _csv_table(spec: FileSpec, raw: bytes, limits: Limits) -> Table:
    # Every row of a delivered CSV ends with a line break: a file without one at its end was cut
    # (mid-row, mid-quote or mid-character), whatever else then fails to read.
    cut = _Rejected("truncated_file", "最後の行が改行で終わっていません", "the last row has no line break")
    ends_with_break = raw.rstrip(b" \t").endswith((b"\n", b"\r"))
    try:
        text = decode_text(raw, spec.encoding)
    except DecodeError:
        if not ends_with_break and cut_mid_character(raw, spec.encoding):
            raise cut from None
        raise
    lines = long_lines(raw, limits.max_line_bytes)
    if lines:
        detail = (f"上限は{limits.max_line_bytes}バイト", f"the limit is {limits.max_line_bytes} bytes")
        raise _Rejected("line_too_long", *detail, rows=lines)
    if not ends_with_break:
        raise cut
    return parse_csv_text(text, max_rows=limits.max_rows)


def field_size_problems(source: str, spec: FileSpec, table: Table, max_chars: int) -> list[Rejection]:
    """One rejection per column with a field longer than ``max_chars`` (header included)."""
    by_position: dict[int, list[int]] = defaultdict(list)
    for number, row in zip([1, *table.row_numbers], [table.header, *table.records], strict=True):
        if _longest(row) <= max_chars:
            continue
        for position, value in enumerate(row):
            if value is not None and len(str(value)) > max_chars:
                by_position[position].append(number)
    out = []
    for position, rows in sorted(by_position.items()):
        column = spec.headers[position] if position < len(spec.headers) else None
        out.append(
            make_rejection(
                source,
                spec.file,
                "field_too_large",
                rows=rows,
                column=column if column in table.header else None,
                detail_ja=f"{position + 1}列目、上限は{max_chars}文字",
                detail_en=f"column position {position + 1}, the limit is {max_chars} characters",
            )
        )
    return out


def _longest(row: list) -> int:
    try:
        return max(map(len, row), default=0)  # CSV: every value is a str (C speed)
    except TypeError:  # xlsx: numbers, dates, None
        return max((len(str(v)) for v in row if v is not None), default=0)


def _fields_may_exceed(spec: FileSpec, raw: bytes, max_chars: int) -> bool:
    """False when no field can be longer than ``max_chars``: a CSV without quotes (so no field spans
    lines) and no line of more bytes than that (a character is at least a byte)."""
    return spec.encoding == "xlsx" or b'"' in raw or bool(long_lines(raw, max_chars))


def _rejected_file(name: str, spec: FileSpec, path: Path, sha: str | None, exc: _Rejected, run_month: str):
    parsed = ParsedFile(spec=spec, path=path, sha256=sha)
    detail_ja, detail_en = exc.detail_ja, exc.detail_en
    if exc.rule == "missing_file":
        detail_ja, detail_en = f"{run_month}/{name}/ に見当たりません", f"not found in {run_month}/{name}/"
    parsed.rejections.append(
        make_rejection(name, spec.file, exc.rule, rows=exc.rows, detail_ja=detail_ja, detail_en=detail_en)
    )
    return parsed


def _check_file(source: Source, spec: FileSpec, path: Path, run_month: str, limits: Limits) -> ParsedFile:
    name = source.source
    sha = None
    try:
        raw = read_delivered(path, limits.max_file_bytes)
        sha = hashlib.sha256(raw).hexdigest()
        if not raw.strip(b"\r\n\t \xef\xbb\xbf"):
            raise _Rejected("empty_file", "0バイト", "zero bytes")
        table = _decode_table(spec, raw, limits)
    except _Rejected as exc:
        return _rejected_file(name, spec, path, sha, exc, run_month)
    too_large = []
    if _fields_may_exceed(spec, raw, limits.max_field_chars):
        too_large = field_size_problems(name, spec, table, limits.max_field_chars)
    if too_large:
        parsed = ParsedFile(spec=spec, path=path, sha256=sha, rows_read=len(table.records))
        parsed.rejections.extend(too_large)
        return parsed
    parsed = check_table(name, spec, table, run_month)
    parsed.path = path
    parsed.sha256 = sha
    return parsed


def check_file(source: Source, spec: FileSpec, path: Path, run_month: str, limits: Limits | None = None) -> ParsedFile:
    """Read and check one delivered file: it ends loaded-ready or rejected, never in an exception.

    Every way of failing — missing, unreadable, beyond a limit, malformed, or an error nobody
    foresaw (``internal_error``; its class goes to the log, never its message) — is a rejection
    of this file with a rule id and, where there is one, the rows.
    """
    path = Path(path)
    try:
        return _check_file(source, spec, path, run_month, limits or Limits.from_settings())
    except Exception as exc:  # noqa: BLE001 - the file is rejected; the run goes on and says so
        log.error("%s/%s: unexpected %s while checking the file", source.source, spec.file, exc.__class__.__name__)
        detail = exc.__class__.__name__
        return _rejected_file(source.source, spec, path, None, _Rejected("internal_error", detail, detail), run_month)
