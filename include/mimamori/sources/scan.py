"""Reading one export to profile it (``bin/mimamori sources profile``): what :mod:`mimamori.sources.profile`
counts, found in a CSV/TSV, an xlsx sheet or a fixed-width file (:mod:`mimamori.sources.fixedguess`).

Only counts leave this module: each value is added to its :class:`~mimamori.sources.profile.ColumnProfile`
and dropped. A file that cannot be read is a finding named by the kind of failure, never its text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
from collections import Counter
from pathlib import Path

from mimamori.ingest.parse import detect_encoding, normalise
from mimamori.sources import fixedguess
from mimamori.sources.profile import _DIGITS, ColumnProfile, FileProfile, _styles_of

#: A line of progress on stderr every so many rows of a long file.
PROGRESS_EVERY = 10000


def _progress(quiet: bool):
    def tick(n: int, name: str) -> None:
        if not quiet and n and n % PROGRESS_EVERY == 0:
            print(f"  … {name}: {n}行 / rows", file=sys.stderr, flush=True)

    return tick


def profile_file(path: Path, *, quiet: bool = False, layout=None) -> FileProfile:
    """Profile one delivered file (CSV/TSV, fixed width, xlsx); one that cannot be read is said so, by the
    kind of failure only (an exception's text may quote the file). ``layout`` (a
    :class:`~mimamori.sources.layoutdoc.LayoutDoc`) gives the fields of a fixed-width file or the column names of
    a headerless CSV instead of the guess; a document that does not fit the file raises its
    :class:`~mimamori.sources.layoutdoc.LayoutDocError`."""
    from mimamori.sources.layoutdoc import LayoutDocError

    try:
        return _profile_file(path, quiet, layout)
    except LayoutDocError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken export is a finding, not a crash of the tool
        out = FileProfile(path, "unknown", "csv")
        out.notes.append(f"このファイルは調べられません（{exc.__class__.__name__}） / cannot be profiled")
        return out


def _profile_file(path: Path, quiet: bool, layout=None) -> FileProfile:
    raw = path.read_bytes()
    encoding = detect_encoding(raw)
    ascii_only = raw.isascii()
    if encoding == "xlsx":
        return _named(_xlsx_profile(path, quiet, layout), layout)
    if encoding not in ("cp932", "utf-8", "utf-8-sig"):  # UTF-16/32 or none: no mapping reads it
        out = FileProfile(path, "unknown", "csv")
        out.notes.append(f"文字コード {encoding}: CP932 / UTF-8 のどちらでもないため読めません / unreadable encoding")
        return out
    text = raw.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    lines = [ln for ln in re.split(r"\r\n|\r|\n", text) if ln.strip()]
    if not lines:
        out = FileProfile(path, encoding, "csv")
        out.notes.append("空のファイルです / empty file")
        return out
    delimiter = _delimiter(lines)
    positions = layout is not None and layout.positions
    fixed = delimiter is None and (positions or fixedguess.looks_fixed(lines, encoding))
    if fixed and layout is not None and not positions:
        from mimamori.sources.layoutdoc import position_headers

        raise layout.error(
            None,
            f"{path.name} は区切りのない固定長のファイルですが、この表には項目の位置がありません"
            f"（開始位置・桁数のどちらも書かれていません。探した見出し: {position_headers()}）。"
            "項番と項目名だけの表は CSV・TSV の列の順番にしか使えません",
        )
    if fixed:
        return fixedguess.profile_fixed(
            FileProfile(path, encoding, "fixed", ascii_only=ascii_only), lines, _progress(quiet), layout
        )
    fmt = "tsv" if delimiter == "\t" else "csv"
    out = FileProfile(path, encoding, fmt, delimiter=delimiter or ",", ascii_only=ascii_only)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=out.delimiter))
    kept = [(n, r) for n, r in enumerate(rows, 1) if any(c.strip() for c in r)]
    return _named(_profile_rows(out, [r for _, r in kept], quiet, layout, [n for n, _ in kept]), layout)


def _named(out: FileProfile, layout) -> FileProfile:
    """A headerless CSV's columns named in the order of the layout document (its field count must be the file's;
    positions, if the document has them, do not matter in a delimited file). A file with its own header keeps its
    header's names (the mapping reads the columns by them); the report says where the document agrees."""
    if layout is None:
        return out
    if out.header:
        out.notes.append(_header_against(out, layout))
        return out
    if len(layout.fields) != len(out.columns):
        raise layout.error(None, f"項目が{len(layout.fields)}個ありますが、{out.name} は{len(out.columns)}列です")
    for col, f in zip(out.columns, layout.fields, strict=True):
        col.header, col.doc_row = f.name, f.row
    out.layout_doc = layout.name
    return out


def _same_name(a: str | None, b: str) -> bool:
    return re.sub(r"\s+", "", normalise(a or "")).lower() == re.sub(r"\s+", "", normalise(b)).lower()


def _header_against(out: FileProfile, layout) -> str:
    """The report's line for a file with a header and a layout document: which columns the document confirms."""
    fields = layout.fields
    agree = [c.position for c, f in zip(out.columns, fields, strict=False) if _same_name(c.header, f.name)]
    for c, f in zip(out.columns, fields, strict=False):
        if _same_name(c.header, f.name):
            c.doc_row = f.row
    text = (
        f"見出し行あり: 列はファイルの見出しの名前で指定します。レイアウト表 {layout.name} の項目名と"
        f" {len(agree)}/{len(out.columns)}列が同じ名前・同じ順番です"
    )
    differ = [c.position for c in out.columns if c.position not in agree]
    if differ:
        text += f"。{'・'.join(map(str, differ))}列目は表と違うため、見出しの名前を使います"
    if len(fields) != len(out.columns):
        text += f"（表の項目は{len(fields)}個、ファイルは{len(out.columns)}列）"
    return text + " / header kept; the layout document agrees on the columns counted"


def _delimiter(lines: list[str]) -> str | None:
    """Comma or tab: the one giving the same field count (above one) on most lines."""
    sample = lines[:200]
    best, best_share = None, 0.0
    for delim in (",", "\t"):
        counts = Counter(len(next(csv.reader([ln], delimiter=delim))) for ln in sample)
        width, n = counts.most_common(1)[0]
        share = n / len(sample)
        if width > 1 and share > best_share:
            best, best_share = delim, share
    return best if best_share >= 0.5 else None


#: A sheet with fewer filled cells than this holds no table (a cover sheet: a title, a date, a department).
MIN_TABLE_CELLS = 12


def _xlsx_sheets(path: Path) -> list[tuple[list[int], list[list]]]:
    """Each sheet's non-blank rows and their row numbers as the sheet (and the mapping's reader) counts them."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        out = []
        for sheet in book.worksheets:
            kept = [(n, list(r)) for n, r in enumerate(sheet.iter_rows(values_only=True), 1)]
            kept = [(n, r) for n, r in kept if any(v not in (None, "") for v in r)]
            out.append(([n for n, _ in kept], [r for _, r in kept]))
    finally:
        book.close()
    return out


def _xlsx_profile(path: Path, quiet: bool, layout) -> FileProfile:
    """The sheet that holds the table: every sheet with enough filled cells is profiled, and the one with a header
    and the most filled cells is kept (a cover sheet 表紙 is passed over); the others are named in a note by number."""
    sheets = _xlsx_sheets(path)
    tables = []
    for i, (numbers, rows) in enumerate(sheets, 1):
        cells = sum(_filled(r) for r in rows)
        if cells < MIN_TABLE_CELLS and len(sheets) > 1:
            continue
        prof = _profile_rows(FileProfile(path, "xlsx", "xlsx"), rows, quiet, layout, numbers)
        prof.sheet, prof.sheets = i, len(sheets)
        tables.append(((prof.header, cells), prof))
    if not tables:  # no sheet holds a table: the first, as it is, for the person to see
        numbers, rows = sheets[0]
        out = _profile_rows(FileProfile(path, "xlsx", "xlsx"), rows, quiet, layout, numbers)
        out.sheets = len(sheets)
        return out
    tables.sort(key=lambda t: t[0], reverse=True)
    best = tables[0][1]
    others = [p.sheet for _, p in tables[1:]]
    if others:
        best.notes.append(
            f"ほかに表のあるシート: {'・'.join(f'{n}枚目' for n in others)}。別の入力にするなら、同じ files で sheet を変えて書く"
        )
    return best


def _profile_rows(out: FileProfile, rows: list[list], quiet: bool, layout=None, numbers=None) -> FileProfile:
    """``layout``: the order of the fields from a layout document — the first row is a header only when it spells
    the document's field names, else the file has none. ``rows`` are the non-blank rows, ``numbers`` their row
    numbers in the file: the reader counts blank rows, so the header row and the rows to skip are given in them."""
    if not rows:
        out.notes.append("データ行がありません / no rows")
        return out
    widths = Counter(len(r) for r in rows)
    width = widths.most_common(1)[0][0]
    while out.title_lines < min(3, len(rows) - 1) and _is_title(rows, out.title_lines, width):
        out.title_lines += 1
    body = rows[out.title_lines :]
    while out.trailer_lines < min(3, len(body) - 1) and len(body[-1 - out.trailer_lines]) != width:
        out.trailer_lines += 1
    data = body[: len(body) - out.trailer_lines]
    if shaped := _shape_trailers(data):
        out.trailer_lines, data = out.trailer_lines + shaped, data[:-shaped]
    _physical_rows(out, numbers or list(range(1, len(rows) + 1)), len(rows))
    first = [str(v) if v is not None else "" for v in data[0]]
    out.header, out.header_confidence = _is_header(first, data[1:])
    labels, parents, once = first, [None] * width, [True] * width
    if not out.header and (block := _header_block(data)):  # also with a layout document: its names are the last row
        labels, parents, once = block
        out.parent_lines = _block_rows(data) - 1
        out.title_lines += out.parent_lines
        data = data[out.parent_lines :]
        _physical_rows(out, numbers or list(range(1, len(rows) + 1)), len(rows))
        sure = len(set(labels)) == len(labels) and _is_header(labels, data[1:]) == (True, "高")
        out.header, out.header_confidence = True, "高" if sure else "中"
    elif not out.header and layout is None and _no_data_row(data[0], data[1:]):
        out.header_confidence = "低"  # labels over numbers and dates: a header the profile cannot read as one
    if layout is not None:
        # a header when most cells spell the document's names in its order (else the document's names would
        # be taken for a first data row), or when the file's own header is plain (高: the data below differ)
        agree = sum(_same_name(c, f.name) for c, f in zip(labels, layout.fields, strict=False))
        if agree * 2 > len(labels):
            out.header, out.header_confidence = True, "高（レイアウト表の項目名と同じ）"
        elif out.header_confidence != "高" and not out.parent_lines:
            out.header = False
    under = _rows_under_header(data) if out.header else 0
    if under:
        at = out.title_lines  # the header's index among the non-blank rows; the units rows are the next ones
        numbers = numbers or list(range(1, len(rows) + 1))
        out.rows_under_header = numbers[at + under] - numbers[at]
        data = [data[0], *data[under + 1 :]]
    names = labels if out.header else [None] * width
    out.columns = [ColumnProfile(i + 1, (names[i] or "").strip() or None if out.header else None) for i in range(width)]
    for col, parent, named in zip(out.columns, parents, once, strict=False):
        col.parent, col.named_once = parent, named
    tick = _progress(quiet)
    n = 0
    for n, row in enumerate(data[1:] if out.header else data, 1):
        tick(n, out.name)
        if len(row) != width:
            out.odd_rows += 1
        for col, value in zip(out.columns, row, strict=False):
            col.add(value)
    out.records = n
    for col in out.columns:
        col.classify()
    out.count_pairs(data[1:] if out.header else data, lambda row, i: row[i] if i < len(row) else None)
    return out


#: A header block: at most this many 親見出し rows over the header row.
MAX_PARENT_ROWS = 2


def _text(value) -> str:
    return normalise(str(value)).strip() if value is not None else ""


def _label_row(row: list) -> bool:
    """A row of labels: some cell filled, no cell a number or a date."""
    cells = [v for v in row if _text(v)]
    return bool(cells) and not any(_data_like(v) for v in cells)


def _block_rows(data: list[list]) -> int:
    """How many rows of labels stand at the top of ``data`` (the data below begin with a row that is not labels)."""
    n = 0
    while n < min(MAX_PARENT_ROWS + 1, len(data) - 1) and _label_row(data[n]):
        n += 1
    return n


def _header_block(data: list[list]) -> tuple[list[str], list[str | None], list[bool]] | None:
    """A header of two or three rows: 親見出し rows (a group's name over the columns it spans, blank cells to its
    right) over a row of 子見出し, then data. Per column: its name (the lowest label in it: a child, or a parent
    over a blank child cell), its parent (the labels above, spanning), and whether the last row names it once.
    None when the rows at the top are not such a block (one header row, no header, a units row under it)."""
    k = _block_rows(data)
    if k < 2 or len(data) < k + 3:
        return None
    width = max(len(r) for r in data[:k])
    grid = [[_text(r[i]) if i < len(r) else "" for i in range(width)] for r in data[:k]]
    if sum(bool(c) for c in grid[-1]) < 2:
        return None
    spans: list[list[str]] = []
    for row in grid[:-1]:
        held, out = "", []
        for i, cell in enumerate(row):
            held = cell or (held if i else "")
            out.append(held)
        spans.append(out)
    names, parents, once = [], [], []
    for i in range(width):
        lowest = next((grid[r][i] for r in range(k - 1, -1, -1) if grid[r][i]), "")
        if not lowest:
            return None
        above = [spans[r][i] for r in range(k - 1) if spans[r][i] and spans[r][i] != lowest and grid[r][i] != lowest]
        if not grid[-1][i]:
            above = []  # the parent row names the column itself (宛名番号 over a blank child cell)
        names.append(lowest)
        parents.append("・".join(dict.fromkeys(above)) or None)
    pairs = list(zip(parents, names, strict=True))
    if len(set(pairs)) != len(pairs):
        return None
    last = grid[-1]
    for i in range(width):
        once.append(bool(last[i]) and sum(c == last[i] for c in last) == 1)
    return names, parents, once


def _data_like(value) -> bool:
    """A value a data row holds in a numeric or date column: a number, a date cell, digits, a date in some style."""
    if isinstance(value, (int, float, dt.date)):
        return True
    text = normalise(str(value)).strip()
    return bool(_DIGITS.match(text) or _styles_of(text))


#: At most this many rows under a header are taken for no data (a units row, a second header line).
MAX_ROWS_UNDER_HEADER = 2


def _rows_under_header(data: list[list]) -> int:
    """How many rows right under the header (``data[0]``) are no data: the most, up to ``MAX_ROWS_UNDER_HEADER``, that
    are each no data row against the rows below them all (a units row 日/回 under a second header line 累計)."""
    for n in range(MAX_ROWS_UNDER_HEADER, 0, -1):
        if len(data) > n + 1 and all(_no_data_row(data[k], data[n + 1 :]) for k in range(1, n + 1)):
            return n
    return 0


def _no_data_row(row: list, rest: list[list]) -> bool:
    """The row under the header is no data (a units row 日/回, a second header line): in some column whose values below
    are all numbers or dates it holds text that is neither, and in no such column does it hold a number or date."""
    if len(rest) < 3:
        return False
    text = nums = 0
    for i, value in enumerate(row):
        below = [r[i] for r in rest[:200] if i < len(r) and r[i] not in (None, "") and str(r[i]).strip()]
        if not below or not all(_data_like(v) for v in below):
            continue
        if value in (None, "") or not str(value).strip():
            continue
        if _data_like(value):
            nums += 1
        else:
            text += 1
    return text > 0 and nums == 0


def _physical_rows(out: FileProfile, numbers: list[int], kept: int) -> None:
    """The rows above the header (or first data row) and below the last data row, blank rows included."""
    out.rows_above = numbers[out.title_lines] - 1
    last_data = kept - out.trailer_lines - 1
    out.rows_below = numbers[kept - 1] - numbers[last_data] if out.trailer_lines and last_data >= 0 else 0


def _filled(row: list) -> int:
    return sum(v is not None and str(v).strip() != "" for v in row)


def _is_title(rows: list[list], i: int, width: int) -> bool:
    """Row ``i`` is a title: shorter than the file's rows, or (an xlsx sheet, a CSV padded with commas) one filled
    cell above a row of distinct text cells that is a header, with at most two more such title rows between."""
    if len(rows[i]) < width:
        return True
    if width < 2 or _filled(rows[i]) != 1:
        return False
    for k in range(i + 1, min(i + 4, len(rows) - 1)):  # more title lines may come before the header
        if _filled(rows[k]) >= 2:
            below = [str(v) if v is not None else "" for v in rows[k]]
            return _is_header(below, rows[k + 1 :])[0] or _header_block(rows[k:]) is not None
        if _filled(rows[k]) != 1:
            return False
    return False


def _is_header(first: list[str], rest: list[list]) -> tuple[bool, str]:
    """A header: every cell filled, distinct, none a number or a date; 高 when the data below differ in shape."""
    cells = [normalise(c).strip() for c in first]
    if not all(cells) or len(set(cells)) != len(cells):
        return False, "高"
    if any(_DIGITS.match(c) or _styles_of(c) for c in cells):
        return False, "高"
    differs = 0
    for i, c in enumerate(cells):
        below = [normalise(str(r[i])).strip() for r in rest[:200] if i < len(r) and r[i] not in (None, "")]
        differs += bool(below) and c not in below
    return True, "高" if differs == len(cells) else "中"


#: A row whose first filled cell is one of these words (alone, or before a number or a colon) is a total line —
#: not a surname that begins with 計.
TOTAL_WORDS = re.compile(
    r"^(合計|総計|小計|計|総数|件数|人数|以上|total|count)(\s|[:：=＝]|\d|件|人|名|$)", re.IGNORECASE
)
_ID_LIKE = re.compile(r"^[0-9A-Za-z\-]{3,}$")
#: At most this many total/trailer lines at the end of a file.
MAX_TRAILERS = 3


def _cell(row: list, i: int) -> str:
    return normalise(str(row[i])).strip() if i < len(row) and row[i] is not None else ""


def _id_column(rows: list[list]) -> int | None:
    """The first column that holds an id-like value (ASCII letters and digits) on almost every row."""
    width = max((len(r) for r in rows), default=0)
    for i in range(width):
        if sum(bool(_ID_LIKE.match(_cell(r, i))) for r in rows) >= 0.95 * len(rows):
            return i
    return None


def _shape_trailers(data: list[list]) -> int:
    """Last rows that are totals though as wide as the data: the first filled cell is 合計/計/件数…, or the id
    column — an id on every other row — is blank or no id there. (``data[0]`` may be the header.)"""
    if len(data) < 5:
        return 0
    above = (data[1:-MAX_TRAILERS] if len(data) > MAX_TRAILERS + 4 else data[1:-1])[-500:]
    id_col = _id_column(above) if len(above) >= 3 else None
    n = 0
    while n < MAX_TRAILERS:
        row = data[-1 - n]
        first = next((c for c in (_cell(row, i) for i in range(len(row))) if c), "")
        if not (TOTAL_WORDS.match(first) or (id_col is not None and not _ID_LIKE.match(_cell(row, id_col)))):
            break
        n += 1
    return n


def profile_with_layouts(paths: list[Path], docs: list, *, quiet: bool = False) -> list[FileProfile]:
    """Profile ``paths``, each file a layout document fits read by it: a fixed-width file whose records are as long
    as the document's fields reach (or, when none is, the one file the document can be read into), a headerless
    CSV with as many columns as it has fields. A document that fits no file, or a file two documents fit, is a
    :class:`~mimamori.sources.layoutdoc.LayoutDocError`."""
    from mimamori.sources.layoutdoc import LayoutDocError

    chosen: dict[Path, object] = {}
    whole: dict[Path, list] = {}  # a document's parts, one per file it describes
    for doc in docs:
        whole.setdefault(doc.path, []).append(doc)
    unnamed = []
    for parts in whole.values():
        hits = [(part, path) for part in parts for path in paths if part.names_file(path.name)]
        if not hits and len(parts) > 1:
            names = "・".join(p.file or "（ファイル名なし）" for p in parts)
            raise parts[0].error(None, f"表のファイル名（{names}）に合うファイルがありません")
        if not hits:
            unnamed.extend(parts)  # a document of one file whose name is not written (or not the file's)
        for part, path in hits:
            if path in chosen:
                raise part.error(None, f"{path.name} に表の2つの部分（{chosen[path].file}・{part.file}）が合います")
            chosen[path] = part
    for doc in unnamed:
        fits, exact, why = [], [], []
        for path in paths:
            try:
                prof = profile_file(path, quiet=True, layout=doc)
            except LayoutDocError as exc:
                why.append(str(exc))
                continue
            fits.append(path)
            if prof.format != "fixed" or prof.line_length == doc.end:
                exact.append(path)
        targets = exact or (fits if len(fits) == 1 else [])
        if not targets:
            if len(why) == 1:
                raise LayoutDocError(why[0])
            raise doc.error(None, "どのファイルにも合いません（" + " / ".join(why or ["ファイルがありません"]) + "）")
        for path in targets:
            if path in chosen:
                raise doc.error(
                    None, f"{path.name} には {chosen[path].name} も合います。ファイルを1つずつ調べてください"
                )
            chosen[path] = doc
    out = []
    for path in paths:
        if not quiet:
            print(f"調べています / profiling: {path.name}", file=sys.stderr, flush=True)
        out.append(profile_file(path, quiet=quiet, layout=chosen.get(path)))
    return out


def _by_file_name(paths: list[Path], sections: list, chosen: dict, plain: dict) -> None:
    """A department's layout document (one section per file name): each delivered file its section names gets it when
    it needs one — fixed width, or a CSV/xlsx without a header row; a file with its own header keeps it. A document
    naming none of the files is a :class:`~mimamori.sources.layoutdoc.LayoutDocError`; a section that does not fit its
    file is one too (its message names the row)."""
    hits = [(path, doc) for doc in sections for path in paths if doc.names_file(path.name)]
    if not hits:
        names = "、".join(d.file for d in sections[:6]) + ("…" if len(sections) > 6 else "")
        raise sections[0].error(None, f"どのファイルにも合いません（書かれているファイル: {names}）")
    for path, doc in hits:
        if path in chosen:
            raise doc.error(None, f"{path.name} には {chosen[path].name} も合います。ファイルを1つずつ調べてください")
        if path not in plain:
            plain[path] = profile_file(path, quiet=True)
        if plain[path].format == "fixed" or not plain[path].header:
            profile_file(path, quiet=True, layout=doc)  # raises when the section does not fit the file
            chosen[path] = doc
