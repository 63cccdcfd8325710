"""Reading one delivered file as its mapping input says: CSV/TSV, an xlsx sheet, or fixed width.

Every read goes through the same guards as a contract file (mimamori.ingest.validate): read
once from a non-blocking descriptor, the size limits, strict decoding, a last line that ends
with a line break. What cannot be read is a rejection of *that delivered file* with the contract's
rule ids (``encoding``, ``malformed_csv``, ``line_too_long`` …), mailed to its data owner; what
the layout gets wrong (a fixed-width field cutting a character, a line shorter than the layout)
is ``layout_mismatch``, mailed to IT.

Row numbers are the delivered file's own: the CSV record (header or title lines included, first
= 1), the sheet row of an xlsx, the line of a fixed-width file — what the department sees when it
opens the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimamori.ingest.limits import Limits
from mimamori.ingest.parse import (
    DecodeError,
    FileProblem,
    _encoding_error,
    _refuse_formulas_without_values,
    _xlsx_uncompressed_bytes,
    cut_mid_character,
    decode_text,
    detect_encoding,
    is_blank,
    long_lines,
)
from mimamori.ingest.validate import _Rejected, read_delivered
from mimamori.sources.mapping import InputSpec, SkipRule, normalise_code


@dataclass
class Delivered:
    """A delivered file read through its input: header names, data rows and their row numbers."""

    name: str
    path: Path
    input: InputSpec
    sha256: str
    header: list[str] | None = None
    records: list[list[Any]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # per record: its fields joined (line_matches)
    #: (row, field index) of fixed-width cells the layout could not cut cleanly
    layout_bad: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    short_rows: list[int] = field(default_factory=list)  # fixed width: lines shorter than the layout
    long_rows: list[int] = field(default_factory=list)  # fixed width: longer than line_length
    width_rows: list[int] = field(default_factory=list)  # delimited: field count differs
    width: int = 0


def _codec(spec: InputSpec) -> str:
    # decode_text knows the contract's names: cp932, and utf-8-sig (a BOM optional)
    return "cp932" if spec.encoding == "cp932" else "utf-8-sig"


def _decode(raw: bytes, spec: InputSpec) -> str:
    codec = _codec(spec)
    try:
        return decode_text(raw, codec)
    except DecodeError as exc:
        ends = raw.rstrip(b" \t").endswith((b"\n", b"\r"))
        if not ends and cut_mid_character(raw, codec):
            raise _Rejected(
                "truncated_file", "最後の行が改行で終わっていません", "the last row has no line break"
            ) from None
        raise _Rejected(exc.rule, exc.message_ja, exc.message_en) from None


def _check_lines(raw: bytes, limits: Limits) -> None:
    lines = long_lines(raw, limits.max_line_bytes)
    if lines:
        raise _Rejected(
            "line_too_long",
            f"上限は{limits.max_line_bytes}バイト",
            f"the limit is {limits.max_line_bytes} bytes",
            rows=lines,
        )
    if not raw.rstrip(b" \t").endswith((b"\n", b"\r")):
        raise _Rejected("truncated_file", "最後の行が改行で終わっていません", "the last row has no line break")


def _too_many(limits: Limits) -> _Rejected:
    return _Rejected(
        "too_many_rows", f"データ行が上限（{limits.max_rows}行）を超えています", f"more rows than {limits.max_rows}"
    )


def _delimited_rows(text: str, spec: InputSpec, limits: Limits) -> list[list[str]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    kwargs: dict[str, Any] = {"delimiter": spec.delimiter, "strict": True}
    if spec.quote is None:
        kwargs["quoting"] = csv.QUOTE_NONE
    else:
        kwargs["quotechar"] = spec.quote
    reader = csv.reader(io.StringIO(text, newline=""), **kwargs)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > limits.max_rows + 10:
                raise _too_many(limits)
    except csv.Error:
        raise _Rejected(
            "malformed_csv",
            '引用符（"）の対応などCSVの形式が崩れていて、この行以降を読めません',
            "the CSV is malformed: it cannot be read from this line on",
            rows=[reader.line_num],
        ) from None
    return rows


def _xlsx_rows(raw: bytes, spec: InputSpec, limits: Limits) -> list[list[Any]]:
    if not raw.startswith(b"PK\x03\x04"):
        raise _Rejected("encoding", *_labels(_encoding_error("xlsx", detect_encoding(raw))))
    try:
        if _xlsx_uncompressed_bytes(raw) > limits.max_file_bytes:
            raise _Rejected(
                "file_too_large",
                f"展開後の大きさが上限（{limits.max_file_bytes}バイト）を超えています",
                f"unpacks to more than {limits.max_file_bytes} bytes",
            )
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except _Rejected:
        raise
    except Exception as exc:  # zipfile.BadZipFile, KeyError, XML errors …
        raise _Rejected(
            "truncated_xlsx", "途中で切れているか壊れていて開けません", f"cannot be opened ({exc.__class__.__name__})"
        ) from None
    try:
        if isinstance(spec.sheet, int):
            if spec.sheet > len(wb.worksheets):
                raise _Rejected(
                    "mapping_column",
                    f"シート{spec.sheet}がありません（{len(wb.worksheets)}シート）",
                    f"no sheet {spec.sheet} ({len(wb.worksheets)} sheets)",
                )
            ws = wb.worksheets[spec.sheet - 1]
        else:
            names = {unicodedata.normalize("NFKC", n).strip(): n for n in wb.sheetnames}
            key = unicodedata.normalize("NFKC", spec.sheet).strip()
            if key not in names:
                raise _Rejected("mapping_column", f"シート「{spec.sheet}」がありません", f"no sheet {spec.sheet!r}")
            ws = wb[names[key]]
        rows = []
        try:
            for r in ws.iter_rows(values_only=True):
                rows.append(list(r))
                if len(rows) > limits.max_rows + 10:
                    raise _too_many(limits)
        except _Rejected:
            raise
        except (zipfile.BadZipFile, EOFError, KeyError, OSError, ValueError) as exc:
            raise _Rejected(
                "truncated_xlsx", "途中で切れているか壊れていて開けません", exc.__class__.__name__
            ) from None
        sheet_index = wb.worksheets.index(ws)
    finally:
        wb.close()
    if any(v is None for row in rows for v in row):  # blank, or a formula whose result was never saved?
        try:
            _refuse_formulas_without_values(raw, rows, sheet_index)
        except FileProblem as exc:
            raise _Rejected(exc.rule, exc.message_ja, exc.message_en, rows=exc.rows) from None
    return rows


def _labels(exc: DecodeError) -> tuple[str, str]:
    return exc.message_ja, exc.message_en


def _display_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


@dataclass
class _Row:
    number: int
    cells: list[Any]
    text: str  # what line_matches sees: the line (fixed width) or the fields joined
    short: bool = False
    long: bool = False
    bad: set[int] = field(default_factory=set)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _char_starts(line: bytes, codec: str) -> set[int]:
    """Byte offsets where a character begins (and the line's end): CP932 lead bytes take two."""
    starts, i = set(), 0
    while i < len(line):
        starts.add(i)
        b = line[i]
        if codec == "cp932":
            i += 2 if (0x81 <= b <= 0x9F or 0xE0 <= b <= 0xFC) else 1
        else:  # UTF-8
            i += 4 if b >= 0xF0 else 3 if b >= 0xE0 else 2 if b >= 0xC0 else 1
    starts.add(len(line))
    return starts


def _fixed_rows(raw: bytes, spec: InputSpec, limits: Limits) -> list[_Row]:
    """Cut every line at the layout's positions, counting as ``units`` says."""
    codec = _codec(spec)
    text = _decode(raw, spec)  # the whole file decodes, or it is an ``encoding`` rejection
    if text.startswith("\ufeff"):
        text = text[1:]
        raw = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    layout = spec.layout
    end = max(f.end for f in layout)
    rows: list[_Row] = []
    if spec.units == "bytes":
        for number, line in enumerate(_LINE_BREAK.split(raw.decode("latin-1"))[:-1], 1):
            line_b = line.encode("latin-1")
            if len(rows) > limits.max_rows + 10:
                raise _too_many(limits)
            row = _Row(number, [], line_b.decode(codec))
            row.short = len(line_b) < end
            row.long = spec.line_length is not None and len(line_b) > spec.line_length
            starts = _char_starts(line_b, codec)
            for i, f in enumerate(layout):
                # A field must begin and end on a character's edge: a CP932 trail byte can be an
                # ASCII letter, so a slice that starts inside 甲 (8D 62) would still decode ("b").
                cut = f.start - 1 not in starts or (f.end < len(line_b) and f.end not in starts)
                try:
                    if f.start - 1 < len(line_b) and cut:
                        raise UnicodeDecodeError(codec, line_b, f.start - 1, f.end, "cut")
                    row.cells.append(line_b[f.start - 1 : f.end].decode(codec))
                except UnicodeDecodeError:  # the position cuts a multi-byte character
                    row.bad.add(i)
                    row.cells.append(None)
            rows.append(row)
        return rows
    for number, line in enumerate(_LINE_BREAK.split(text)[:-1], 1):
        if len(rows) > limits.max_rows + 10:
            raise _too_many(limits)
        row = _Row(number, [], line)
        if spec.units == "chars":
            length = len(line)
            row.cells = [line[f.start - 1 : f.end] for f in layout]
        else:
            starts: list[int] = []  # display column (1-based) where each character starts
            col = 1
            for ch in line:
                starts.append(col)
                col += _display_width(ch)
            length = col - 1
            for i, f in enumerate(layout):
                idx = [j for j, s_ in enumerate(starts) if f.start <= s_ <= f.end]
                piece: str | None = "".join(line[j] for j in idx)
                first_in = (
                    bool(idx) and idx[0] > 0 and starts[idx[0] - 1] + _display_width(line[idx[0] - 1]) - 1 >= f.start
                )
                last_out = bool(idx) and starts[idx[-1]] + _display_width(line[idx[-1]]) - 1 > f.end
                if first_in or last_out:  # a full-width character across the boundary
                    row.bad.add(i)
                    piece = None
                row.cells.append(piece)
        row.short = length < end
        row.long = spec.line_length is not None and length > spec.line_length
        rows.append(row)
    return rows


def read_input(path: Path, spec: InputSpec, limits: Limits) -> Delivered:
    """Read ``path`` as ``spec`` says; raises ``_Rejected`` (a rule id and rows) when it cannot."""
    name = unicodedata.normalize("NFC", path.name)
    raw = read_delivered(path, limits.max_file_bytes)
    sha = hashlib.sha256(raw).hexdigest()
    out = Delivered(name=name, path=path, input=spec, sha256=sha)
    if not raw.strip(b"\r\n\t \xef\xbb\xbf"):
        raise _Rejected("empty_file", "0バイト", "zero bytes")
    if spec.format == "xlsx":
        rows = [_Row(n, r, "\t".join(cell_text(v) for v in r)) for n, r in enumerate(_xlsx_rows(raw, spec, limits), 1)]
    elif spec.format == "fixed":
        if not raw.rstrip(b" \t").endswith((b"\n", b"\r")):
            _decode(raw, spec)
            raise _Rejected("truncated_file", "最後の行が改行で終わっていません", "the last row has no line break")
        _check_lines(raw, limits)
        rows = _fixed_rows(raw, spec, limits)
    else:
        text = _decode(raw, spec)
        _check_lines(raw, limits)
        rows = [_Row(n, r, spec.delimiter.join(r)) for n, r in enumerate(_delimited_rows(text, spec, limits), 1)]
    _shape(out, rows, limits)
    return out


def _shape(out: Delivered, rows: list[_Row], limits: Limits) -> None:
    """Header, skip rules, blank rows, field counts: what is left are the data rows."""
    spec = out.input
    start = 0
    if spec.header is not None:
        if spec.header > len(rows):
            raise _Rejected("empty_file", "見出し行がありません", "no header row")
        header_row = rows[spec.header - 1].cells
        width = len(header_row)
        while width and is_blank(header_row[width - 1]):
            width -= 1  # trailing empty cells (xlsx styling, a trailing comma) are not columns
        out.header = ["" if h is None else unicodedata.normalize("NFC", str(h)).strip() for h in header_row[:width]]
        out.width = width
        start = spec.header
    data = rows[start:]
    while data and _blank_row(data[-1]):
        data.pop()  # trailing blank lines / empty spreadsheet rows do not count as the last rows
    for rule in spec.skip:
        if rule.kind == "first":
            data = data[rule.count :]
        elif rule.kind == "last":
            data = data[: max(0, len(data) - rule.count)]
    kept = [row for row in data if not _blank_row(row) and not _skipped(row, spec.skip, out)]
    if len(kept) > limits.max_rows:
        raise _too_many(limits)
    if spec.format == "fixed":
        out.width = len(spec.layout)
        out.short_rows = [r.number for r in kept if r.short]
        out.long_rows = [r.number for r in kept if r.long]
        for r in kept:
            if r.bad:
                out.layout_bad[r.number] = set(r.bad)
        for r in kept:
            r.cells = [None if c is None else c.strip(" \u3000") for c in r.cells]  # padding
    elif out.header is not None:
        if spec.format == "xlsx":
            for r in kept:
                if len(r.cells) > out.width and all(is_blank(v) for v in r.cells[out.width :]):
                    r.cells = r.cells[: out.width]
                elif len(r.cells) < out.width:
                    r.cells = r.cells + [None] * (out.width - len(r.cells))
        out.width_rows = [r.number for r in kept if len(r.cells) != out.width]
    else:
        if spec.format == "xlsx":
            out.width = max((_used_width(r.cells) for r in kept), default=0)
            for r in kept:
                r.cells = (r.cells + [None] * out.width)[: max(out.width, _used_width(r.cells))]
        else:
            out.width = len(kept[0].cells) if kept else 0
        out.width_rows = [r.number for r in kept if len(r.cells) != out.width]
    out.records = [r.cells for r in kept]
    out.numbers = [r.number for r in kept]
    out.lines = [r.text for r in kept]


def _blank_row(row: _Row) -> bool:
    return all(is_blank(v) for v in row.cells) and not row.text.strip()


def _used_width(row: list[Any]) -> int:
    width = len(row)
    while width and is_blank(row[width - 1]):
        width -= 1
    return width


def resolve(ref, out: Delivered) -> int | None:
    """The index of a referenced column in the delivered rows, None when it is not there."""
    spec = out.input
    if spec.format == "fixed":
        if ref.position is not None:
            return ref.position - 1 if ref.position <= len(spec.layout) else None
        return next((i for i, f in enumerate(spec.layout) if f.name == ref.name), None)
    if ref.position is not None:
        return ref.position - 1 if ref.position <= out.width else None
    if out.header is None:
        return None
    want = _header_key(ref.name)
    hits = [i for i, h in enumerate(out.header) if _header_key(h) == want]
    return hits[0] if len(hits) == 1 else None


def header_count(ref, out: Delivered) -> int:
    if out.header is None or ref.name is None:
        return 0
    want = _header_key(ref.name)
    return sum(1 for h in out.header if _header_key(h) == want)


def _header_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def cell_text(value: Any) -> str:
    from mimamori.ingest.parse import _cell_text

    return "" if value is None else _cell_text(value)


def where_holds(where, row: list[Any], out: Delivered) -> bool | None:
    """Whether a row meets a where condition; None when its column is not in the file."""
    index = resolve(where.column, out)
    if index is None:
        return None
    value = row[index] if index < len(row) else None
    if where.op == "blank":
        return is_blank(value) == where.blank
    text = normalise_code(cell_text(value))
    if where.op == "in":
        return text in where.values
    if where.op == "not_in":
        return text not in where.values
    return bool(where.pattern.search(unicodedata.normalize("NFC", cell_text(value))))


def _skipped(row: _Row, rules: tuple[SkipRule, ...], out: Delivered) -> bool:
    for rule in rules:
        if rule.kind == "line_matches":
            if rule.pattern.search(unicodedata.normalize("NFC", row.text)):
                return True
        elif rule.kind == "where" and where_holds(rule.where, row.cells, out):
            return True
    return False
