"""A vendor's layout document (レイアウト定義書) read for ``bin/mimamori sources profile --layout FILE``.

A department often hands IT the export with its layout document: one row per field, with the field's
name and where it is. Given one, the profiler takes the fields from it instead of guessing them — the
positions of a fixed-width (固定長) file, the order of a CSV without a header — and the draft names the
vendor's fields as the document does, so they are matched to the contract by name
(``header_synonyms.yaml``).

The document is a CSV (CP932 or UTF-8) or an xlsx sheet. Its header row is found among the first rows
by its spellings (:data:`HEADERS`: 項目名/フィールド名, 開始位置/位置/開始, 桁数/長さ/バイト数/サイズ,
終了位置, 型/属性, 備考 and a few more); rows above it (a title) are read only for the unit
(「単位: バイト」). A length may also be a COBOL picture in the type column (X(10), 9(8), N(20) — N is 全角,
two bytes a character). Positions may count from 1 or from 0 (a first field at 0, or a header saying
0から/オフセット); an end position may be inclusive or exclusive (told by how the next field starts);
counts are bytes or characters where the header or title says so (桁数（バイト）, 文字数), else the
file's own way (CP932 bytes, UTF-8 characters). A document without positions gives the order of the
fields only (a headerless CSV). Rows without a number (a section heading) and total rows
(合計, レコード長) are not fields.

Every problem is a :class:`LayoutDocError` naming the document, its row and what is wrong; no cell's
content is quoted except field names (a layout document holds no person's values, but the rule of the
profiler — counts, never values — is kept).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from mimamori.ingest.parse import detect_encoding

#: A file named in a column (ファイル名) or on a title row of its own (「ファイル名: …」).
_FILE_WORDS = ("ファイル名", "ファイル", "ファイルid", "出力ファイル", "出力ファイル名", "file", "filename")
#: Column role → its header spellings, compared after NFKC, lower case, without spaces and the unit in brackets.
HEADERS = {
    "name": (
        "項目名",
        "フィールド名",
        "項目",
        "項目名称",
        "名称",
        "データ項目名",
        "データ項目",
        "フィールド",
        "name",
        "field",
    ),
    "start": (
        "開始位置",
        "位置",
        "開始",
        "開始桁",
        "開始バイト",
        "桁位置",
        "バイト位置",
        "start",
        "from",
        "offset",
        "オフセット",
    ),
    "length": ("桁数", "長さ", "バイト数", "サイズ", "文字数", "桁", "レングス", "length", "len", "size", "bytes"),
    "end": ("終了位置", "終了", "終了桁", "終了バイト", "end", "to"),
    "order": ("項番", "no", "番号", "順番", "順序", "連番", "列番号", "項目番号", "列順", "#", "seq"),
    "file": _FILE_WORDS,
    "type": ("型", "属性", "データ型", "タイプ", "type", "形式"),
    "note": ("備考", "説明", "摘要", "内容", "note", "remarks", "コメント"),
}
#: The first rows searched for the header row.
HEADER_SEARCH = 30
_BRACKETS = re.compile(r"[\(（\[［【<＜].*?[\)）\]］】>＞]")
_SPACES = re.compile(r"[\s\u3000・_\-]+")
_BYTES = re.compile(r"バイト|byte", re.IGNORECASE)
_CHARS = re.compile(r"文字|char", re.IGNORECASE)
_ZERO = re.compile(r"0から|0始|0起点|0オリジン|0-?origin|0-?based|オフセット|offset", re.IGNORECASE)
_ONE = re.compile(r"1から|1始|1起点|1オリジン|1-?origin|1-?based", re.IGNORECASE)
_TOTAL = re.compile(r"^(合計|総計|計|レコード長|総バイト数|総桁数|レコード計|total)$", re.IGNORECASE)
#: A COBOL picture in the type column gives the length when no length is written: X(10), 9(8), N(20) (N: 全角
#: characters, two bytes each), PIC X(10).
_PICTURE = re.compile(r"^(?:pic(?:ture)?\s*)?([x9nk])\((\d+)\)$", re.IGNORECASE)
_FILLER = re.compile(r"^(予備|空き|空白|filler|reserve|reserved|未使用)\d*$", re.IGNORECASE)


class LayoutDocError(ValueError):
    """A layout document that cannot be used; the message names the document, the row and the problem."""


@dataclass
class DocField:
    name: str
    row: int  # the document's row (1-based, as a spreadsheet shows it)
    start: int | None = None  # 1-based first position
    length: int | None = None
    type: str = ""
    note: str = ""


@dataclass
class LayoutDoc:
    path: Path
    fields: list[DocField]
    units: str | None = None  # bytes | chars | None (the file's own way)
    positions: bool = True  # False: the order of the fields only
    header_row: int = 1
    zero_based: bool = False
    skipped: list[int] = field(default_factory=list)  # rows that are no field (headings, totals)
    file: str | None = None  # the file this part of the document describes, as the document names it

    def names_file(self, name: str) -> bool:
        """Whether a delivered file's name is the one this part names: placeholders (<年月>, YYYYMM, *, ?) stand
        for any text, compared after NFKC and without case."""
        return bool(self.file) and bool(_file_pattern(self.file).fullmatch(unicodedata.normalize("NFKC", name)))

    @property
    def name(self) -> str:
        return unicodedata.normalize("NFC", self.path.name)

    @property
    def end(self) -> int:
        """The last position the fields reach (1-based)."""
        return max((f.start + f.length - 1 for f in self.fields if f.start and f.length), default=0)

    def error(self, row: int | None, problem: str) -> LayoutDocError:
        return LayoutDocError(_where(self.path, row) + problem)


_PLACEHOLDER = re.compile(
    r"<[^>]*>|＜[^＞]*＞|\{[^}]*\}|【[^】]*】|\[[^\]]*\]|y{2,4}m{2}(?:d{2})?|\*|\?", re.IGNORECASE
)


def _file_pattern(written: str) -> re.Pattern:
    text = unicodedata.normalize("NFKC", written).strip()
    out, at = "", 0
    for m in _PLACEHOLDER.finditer(text):
        out += re.escape(text[at : m.start()]) + (".?" if m[0] == "?" else ".*?")
        at = m.end()
    return re.compile(out + re.escape(text[at:]), re.IGNORECASE)


def _where(path: Path, row: int | None) -> str:
    name = unicodedata.normalize("NFC", path.name)
    return f"レイアウト表 {name}" + (f" の {row}行目" if row else "") + ": "


def _key(text: str) -> str:
    return _SPACES.sub("", _BRACKETS.sub("", unicodedata.normalize("NFKC", text))).lower()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _rows(path: Path) -> list[list[str]]:
    """The document's rows as text (the first sheet of an xlsx that has a header row)."""
    raw = path.read_bytes()
    encoding = detect_encoding(raw)
    if encoding == "xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheets = [[[_cell(v) for v in r] for r in ws.iter_rows(values_only=True)] for ws in book.worksheets]
        finally:
            book.close()
        return next((rows for rows in sheets if _header_row(rows) is not None), sheets[0] if sheets else [])
    if encoding not in ("cp932", "utf-8", "utf-8-sig"):
        raise LayoutDocError(_where(path, None) + "CSV（CP932 / UTF-8）か xlsx のどちらでもないため読めません")
    text = raw.decode(encoding)
    delimiter = "\t" if text.count("\t") > text.count(",") else ","
    return [[_cell(c) for c in r] for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _roles(row: list[str]) -> dict[str, int]:
    """Column role → index for a candidate header row (the first cell of each role)."""
    out: dict[str, int] = {}
    for i, cell in enumerate(row):
        key = _key(cell)
        for role, spellings in HEADERS.items():
            if role not in out and key in {_key(s) for s in spellings}:
                out[role] = i
                break
    return out


def _header_row(rows: list[list[str]]) -> int | None:
    """The index of the header row: a name column and a position, a length or (for the order only) a type/note."""
    for i, row in enumerate(rows[:HEADER_SEARCH]):
        roles = _roles(row)
        if "name" in roles and len(roles) >= 2:
            return i
    return None


def _units(header: list[str], roles: dict[str, int], title: list[list[str]]) -> str | None:
    said = [header[roles[r]] for r in ("length", "start", "end") if r in roles]
    said += [c for row in title for c in row if "単位" in c or "unit" in c.lower()]
    text = " ".join(said)
    if _BYTES.search(text):
        return "bytes"
    if _CHARS.search(text):
        return "chars"
    return None


def _number(path: Path, row: int, value: str, what: str) -> int | None:
    if value == "":
        return None
    if not re.fullmatch(r"\d+", value):
        raise LayoutDocError(_where(path, row) + f"「{what}」の欄が数字ではありません")
    return int(value)


def read_layout(path: Path | str) -> LayoutDoc:
    """Read a layout document of one file; :class:`LayoutDocError` names its row and problem when it cannot be
    used. A document that describes several files is read by :func:`read_layouts`."""
    parts = read_layouts(path)
    if len(parts) > 1:
        names = "・".join(p.file or "?" for p in parts)
        raise parts[0].error(None, f"{len(parts)}個のファイル（{names}）の表です。ファイルごとに分けて読みます")
    return parts[0]


def read_layouts(path: Path | str) -> list[LayoutDoc]:
    """Read a layout document, one :class:`LayoutDoc` per file it describes — a column naming the file
    (ファイル名), or a title row per file (「ファイル名: …」) before its fields — else one for the whole document.
    :class:`LayoutDocError` names the row and the problem when it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise LayoutDocError(_where(path, None) + "ファイルが見つかりません")
    try:
        rows = _rows(path)
    except LayoutDocError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken document is the user's to fix, named by the kind of failure
        raise LayoutDocError(_where(path, None) + f"読めません（{exc.__class__.__name__}）") from None
    at = _header_row(rows)
    if at is None:
        want = " / ".join(HEADERS["name"][:2]) + " と " + " / ".join(HEADERS["order"][:3] + HEADERS["start"][:3])
        raise LayoutDocError(
            _where(path, None)
            + f"見出しの行が見つかりません（最初の{HEADER_SEARCH}行に {want} などの見出しが要ります）"
        )
    # the fields of each file, in the document's order: (file, header row index, [(row number, row)])
    groups: dict[str | None, tuple[int, list[tuple[int, list[str]]]]] = {}
    current = _file_title(rows[:at])
    head = at
    for i, row in enumerate(rows[at + 1 :], at + 2):
        if _is_header(row):
            head = i - 1  # a header repeated per file
            continue
        if (title := _file_title([row])) is not None:
            current = title
            continue
        roles = _roles(rows[head])
        named = row[roles["file"]] if "file" in roles and roles["file"] < len(row) else ""
        key = named or current
        groups.setdefault(key, (head, []))[1].append((i, row))
    if not groups:
        groups[current] = (at, [])
    return [_part(path, rows, head, body, name) for name, (head, body) in groups.items()]


def _is_header(row: list[str]) -> bool:
    roles = _roles(row)
    return "name" in roles and len(roles) >= 2


_FILE_TITLE = re.compile(r"^(?:" + "|".join(_FILE_WORDS) + r")\s*[:：]\s*(\S.*)$", re.IGNORECASE)


def position_headers() -> str:
    """The headers a position is looked for under, for a message."""
    return "・".join(HEADERS["start"][:4] + HEADERS["length"][:4] + HEADERS["end"][:1])


def _file_title(rows: list[list[str]]) -> str | None:
    """The file a title row names: 「ファイル名: X」 in one cell, or ファイル名 | X in two (the last such row)."""
    found = None
    for row in rows:
        cells = [c for c in row if c]
        if not cells or _is_header(row):
            continue
        if m := _FILE_TITLE.match(cells[0]):
            found = m[1].strip()
        elif len(cells) == 2 and _key(cells[0]) in {_key(w) for w in _FILE_WORDS}:
            found = cells[1]
    return found


def _part(path: Path, rows: list[list[str]], at: int, body: list[tuple[int, list[str]]], file: str | None) -> LayoutDoc:
    """The fields of one file from the rows under its header row."""
    header, roles = rows[at], _roles(rows[at])
    texts = " ".join(header[roles[r]] for r in ("start", "end") if r in roles)
    doc = LayoutDoc(path, [], units=_units(header, roles, rows[:at]), header_row=at + 1, file=file)
    cells = []
    for i, row in body:
        cell = {r: (row[j] if j < len(row) else "") for r, j in roles.items() if r != "file"}
        if not any(cell.values()):
            continue
        nums = {
            r: _number(path, i, cell[r], header[roles[r]]) for r in ("start", "length", "end", "order") if r in cell
        }
        cells.append((i, cell, nums))
    # positions: some field row gives a start, an end or a COBOL picture, or lengths alone for every numbered field
    # — a header with empty position columns (a document for CSV exports on the vendor's fixed form) gives the order
    # only, and so do lengths on some numbered fields only (a CSV item's largest size, not its place in a record)
    placed = any(
        any(n.get(r) is not None for r in ("start", "end")) or _PICTURE.match(c.get("type", "").replace(" ", ""))
        for _, c, n in cells
    )
    sized = [n.get("length") is not None for _, c, n in cells if c.get("name") and n.get("order") is not None]
    doc.positions = placed or (any(n.get("length") is not None for _, _, n in cells) and (not sized or all(sized)))
    numbered = any(n.get("order") is not None for _, _, n in cells)
    raw: list[tuple[DocField, int | None, int | None, int | None]] = []
    order: list[int | None] = []
    for i, cell, nums in cells:
        name = cell.get("name", "")
        if _TOTAL.match(_key(name)) or (
            doc.positions
            and not _PICTURE.match(cell.get("type", "").replace(" ", ""))
            and not any(nums.get(r) is not None for r in ("start", "length", "end"))
        ):
            doc.skipped.append(i)  # a total row, or a heading between fields
            continue
        if not doc.positions and (not name if not numbered else nums.get("order") is None):
            doc.skipped.append(i)  # a heading, a note or a record kind without a field number
            continue
        fld = DocField(name, i, type=cell.get("type", ""), note=cell.get("note", ""))
        length = nums.get("length")
        if length is None and nums.get("end") is None and (pic := _PICTURE.match(fld.type.replace(" ", ""))):
            wide = pic[1].lower() in "nk"
            length = int(pic[2]) * (2 if wide else 1)
            doc.units = doc.units or ("bytes" if wide else None)
        raw.append((fld, nums.get("start"), length, nums.get("end")))
        order.append(nums.get("order"))
    if not raw:
        where = f"（{file}）" if file else ""
        raise doc.error(
            None,
            f"{doc.header_row}行目の見出しの下に項目の行がありません{where}。項目の行には項目名と、"
            f"{'・'.join(header[roles[r]] for r in ('order', 'start', 'length', 'end') if r in roles) or '項番'}"
            "のどれかが要ります",
        )
    if not doc.positions and numbered:  # the order the document numbers the fields in (項番), not the row order
        keyed = sorted(zip(order, range(len(raw)), raw, strict=True), key=lambda t: (t[0], t[1]))
        for (a, _, fa), (b, _, fb) in zip(keyed, keyed[1:], strict=False):
            if a == b:
                raise doc.error(fb[0].row, f"項番 {b} が {fa[0].row}行目と同じです")
        raw = [r for _, _, r in keyed]
    _name_fields(doc, [f for f, *_ in raw])
    if doc.positions:
        _positions(doc, raw, zero=bool(_ZERO.search(texts)) and not _ONE.search(texts))
    doc.fields = [f for f, *_ in raw]
    return doc


def _name_fields(doc: LayoutDoc, fields: list[DocField]) -> None:
    """A blank name or a filler (予備, FILLER) becomes 予備N; a name used twice is an error naming both rows."""
    seen: dict[str, int] = {}
    for n, f in enumerate(fields, 1):
        if not f.name or _FILLER.match(_key(f.name)):
            f.name = f"予備{n}"
        if f.name in seen:
            raise doc.error(
                f.row, f"項目名「{f.name}」が {seen[f.name]}行目と同じです（対応表では項目名で列を指します）"
            )
        seen[f.name] = f.row


def _positions(doc: LayoutDoc, raw: list, zero: bool) -> None:
    """Each field's 1-based start and length, from whatever the document gives: start+length, start+end,
    length alone (fields one after another), start alone (up to the next field's start)."""
    starts = [s for _, s, _, _ in raw if s is not None]
    doc.zero_based = zero or (bool(starts) and min(starts) == 0)
    shift = 1 if doc.zero_based else 0
    exclusive = doc.zero_based and _exclusive_ends(raw)
    at = 1
    for k, (f, start, length, end) in enumerate(raw):
        f.start = start + shift if start is not None else at
        if end is not None:
            last = end + shift - (1 if exclusive else 0)
            if length is not None and last - f.start + 1 != length:
                raise doc.error(f.row, "開始位置・桁数・終了位置が合いません（開始＋桁数−1 が終了位置になるように）")
            length = last - f.start + 1
        if length is None and start is not None and k + 1 < len(raw) and raw[k + 1][1] is not None:
            length = raw[k + 1][1] + shift - f.start
        if length is None:
            raise doc.error(f.row, "桁数（長さ）も終了位置も書かれていません")
        if length < 1:
            raise doc.error(f.row, "桁数（長さ）が1より小さいか、終了位置が開始位置より前です")
        f.length = length
        at = f.start + length
    ordered = sorted(doc.fields or [f for f, *_ in raw], key=lambda f: f.start)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start < a.start + a.length:
            raise doc.error(b.row, f"項目「{b.name}」が {a.row}行目の項目「{a.name}」と重なっています")


def _exclusive_ends(raw: list) -> bool:
    """0-based positions with end positions: exclusive (the next field starts at the end) rather than inclusive."""
    pairs = [
        (raw[k][3], raw[k + 1][1]) for k in range(len(raw) - 1) if raw[k][3] is not None and raw[k + 1][1] is not None
    ]
    return bool(pairs) and sum(e == s for e, s in pairs) > sum(e + 1 == s for e, s in pairs)
