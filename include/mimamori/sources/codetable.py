"""A department's code tables (コード表) read for ``bin/mimamori sources profile --codes FILE_OR_DIR``.

Every vendor specification lists what its codes mean: 性別 1=男 2=女, 手帳種別 1=身体 …. Given those
tables, the profiler fills the draft's ``codes:`` maps itself instead of leaving them to be copied by hand
(:func:`propose`): a delivered column's table is found by its name (the column's header or layout name, or the
contract column it is matched to with its synonyms in ``header_synonyms.yaml``; 性別 → 性別コード, 性別区分) and
by its codes (the column's values are the table's); each code becomes the contract value its label is (after
NFKC and width), a flag's code 有/無 from labels like あり/なし/該当/非該当; a label that only *contains* a
contract value (「A（重度）」 → A) is proposed with a TODO 確認, a label matching none and a delivered value the
table lacks are TODOs — nothing is guessed silently.

Shapes read (CSV/TSV in CP932 or UTF-8, or xlsx, every sheet):

- a header row with a code column (コード, コード値, 値, code …) and a label column (名称, 内容, 意味, 説明,
  備考 …) among the first rows, found again wherever it repeats;
- the table's name in a column (コード表名, 項目名, コード種別 …; a blank cell carries the name above), or in a
  title row above the table (「コード表: 性別」, 【性別】, ■性別コード), else the sheet's name (a workbook with
  one sheet per table) or the file's name (コード表_性別.csv);
- a code written 「（空欄）」/ 空白 / ブランク stands for a blank value; a range 01～03 is each of its codes.

A code table holds no person's values; still, only codes, labels and table names are ever shown.
A file that holds no table is a :class:`CodeTableError` naming it (in a folder such files are passed over).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from mimamori.ingest.parse import detect_encoding

#: Column role → its header spellings (compared after NFKC, lower case, without spaces and brackets' contents).
HEADERS = {
    "table": (
        "コード表名",
        "コード表",
        "コード表名称",
        "コード種別",
        "コード区分",
        "コード名",
        "表名",
        "テーブル名",
        "項目名",
        "項目",
        "データ項目名",
        "フィールド名",
        "区分名",
        "分類",
        "table",
        "codetable",
        "field",
        "item",
    ),
    "code": ("コード", "コード値", "値", "区分値", "設定値", "code", "value", "cd"),
    "label": (
        "名称",
        "内容",
        "意味",
        "コード名称",
        "コード内容",
        "表示名",
        "名前",
        "区分名称",
        "値の意味",
        "説明",
        "label",
        "name",
        "meaning",
        "description",
    ),
    "note": ("備考", "補足", "注記", "摘要", "説明", "note", "notes", "remarks", "comment"),
}
HEADER_SEARCH = 30
_BRACKETS = re.compile(r"[\(（\[［【<＜].*?[\)）\]］】>＞]")
_SPACES = re.compile(r"[\s\u3000・_\-]+")
#: A code cell that stands for a blank delivered value.
_BLANK = re.compile(
    r"^[\(（\[［<＜【]?(空欄|空白|ブランク|未入力|未設定|blank|null|なし\(空欄\))[\)）\]］>＞】]?$", re.I
)
#: Decorations of a title row and a table name: コード表: 性別 / 【性別】 / ■性別コード表.
_TITLE_MARKS = re.compile(r"^[\s■□●○◆◇▼▽・\-*#\d.．]*|[\s:：]+$")
_TITLE_WORDS = re.compile(r"(コード表|コード一覧|コードテーブル|code\s*table|一覧表|一覧)", re.I)


class CodeTableError(ValueError):
    """A code table document that cannot be used; the message names the document and the problem."""


@dataclass
class Entry:
    code: str  # NFKC; "" for a blank value
    labels: tuple[str, ...]  # the label, then the note (備考) when there is one
    row: int


@dataclass
class CodeTable:
    name: str
    doc: str  # the document's file name (and sheet)
    entries: list[Entry] = field(default_factory=list)

    @property
    def first_row(self) -> int:
        return min((e.row for e in self.entries), default=0)

    @property
    def last_row(self) -> int:
        return max((e.row for e in self.entries), default=0)

    def where(self) -> str:
        return f"{self.doc} {self.first_row}〜{self.last_row}行目"


def key(text: str) -> str:
    return _SPACES.sub("", _BRACKETS.sub("", unicodedata.normalize("NFKC", str(text)))).lower()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _sheets(path: Path) -> list[tuple[str, list[list[str]]]]:
    raw = path.read_bytes()
    encoding = detect_encoding(raw)
    if encoding == "xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return [
                (ws.title, [[_cell(v) for v in r] for r in ws.iter_rows(values_only=True)]) for ws in book.worksheets
            ]
        finally:
            book.close()
    if encoding not in ("cp932", "utf-8", "utf-8-sig"):
        raise CodeTableError(_where(path) + "CSV（CP932 / UTF-8）か xlsx のどちらでもないため読めません")
    text = raw.decode(encoding)
    delimiter = "\t" if text.count("\t") > text.count(",") else ","
    return [("", [[_cell(c) for c in r] for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)])]


def _where(path: Path) -> str:
    return f"コード表 {unicodedata.normalize('NFC', path.name)}: "


def _roles(row: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    keys = [key(c) for c in row]
    for role in ("code", "table", "label", "note"):
        spellings = [key(s) for s in HEADERS[role]]
        for spelling in spellings:  # the earliest spelling of a role wins (内容 before 備考 as the label)
            i = next((i for i, k in enumerate(keys) if k == spelling and i not in out.values()), None)
            if i is not None:
                out[role] = i
                break
    return out


#: Spellings told by their ending when no exact one is in the row: 性別コード / 区分CD, 区分名称 / 内容説明.
_CODE_END = re.compile(r"(コード|cd|code|値)$")
_LABEL_END = re.compile(r"(名称|名|内容|意味|説明)$")
_NOT_CODE = re.compile(r"(コード表|コード名|コード名称|コード内容|コード種別|コード区分)$")


def _is_header(row: list[str]) -> dict[str, int] | None:
    roles = _roles(row)
    keys = [key(c) for c in row]
    taken = set(roles.values())
    if "code" not in roles:
        i = next(
            (i for i, k in enumerate(keys) if i not in taken and _CODE_END.search(k) and not _NOT_CODE.search(k)), None
        )
        if i is not None:
            roles["code"] = i
            taken.add(i)
    if "label" not in roles:
        i = next((i for i, k in enumerate(keys) if i not in taken and k and _LABEL_END.search(k)), None)
        if i is not None:
            roles["label"] = i
    return roles if "code" in roles and "label" in roles else None


def table_name(text: str) -> str:
    """A title's or a file's table name: 「コード表: 性別」 → 性別, 【性別】 → 性別, ■性別コード表 → 性別."""
    text = unicodedata.normalize("NFKC", text).strip()
    text = re.sub(r"^[【\[「『<]\s*(.*?)\s*[】\]」』>]$", r"\1", text)
    text = _TITLE_WORDS.sub(" ", text)
    text = _TITLE_MARKS.sub("", text.strip())
    text = re.sub(r"^[\s:：【「『\[]+|[\s:：】」』\]]+$", "", text)
    text = re.sub(r"\s*[:：]\s*", " ", text).strip()
    return text.split()[-1] if text.split() else ""


def _file_name(path: Path, sheet: str, sheets: int) -> str:
    stem = whole = unicodedata.normalize("NFKC", path.stem)
    stem = re.sub(r"^(コード表|コード一覧)[_\-\s]*|^(codes?|cd)([_\-\s]+|$)", "", stem, flags=re.I)
    stem = re.sub(r"[_\-\s]*(コード表|コード一覧)$|([_\-\s]+|^)(codes?|cd)$", "", stem, flags=re.I)
    if sheets > 1 and sheet:
        return table_name(sheet) or sheet
    return table_name(stem) or stem or whole


def read_code_tables(path: Path | str) -> list[CodeTable]:
    """The tables of one document; :class:`CodeTableError` when it holds none or cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise CodeTableError(_where(path) + "ファイルが見つかりません")
    try:
        sheets = _sheets(path)
    except CodeTableError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken document is the user's to fix, named by the kind of failure
        raise CodeTableError(_where(path) + f"読めません（{exc.__class__.__name__}）") from None
    name = unicodedata.normalize("NFC", path.name)
    filled = [s for s in sheets if any(any(c for c in r) for r in s[1])]
    out: list[CodeTable] = []
    for sheet, rows in filled:
        doc = f"{name}［{sheet}］" if len(filled) > 1 and sheet else name
        out.extend(_read_sheet(rows, doc, _file_name(path, sheet, len(filled))))
    out = [t for t in out if t.entries]
    if not out:
        want = " / ".join(HEADERS["code"][:3]) + " と " + " / ".join(HEADERS["label"][:4])
        raise CodeTableError(
            _where(path) + f"コード表が見つかりません（{want} などの見出しの行と、その下のコードの行が要ります）"
        )
    return out


def _read_sheet(rows: list[list[str]], doc: str, default: str) -> list[CodeTable]:
    tables: dict[str, CodeTable] = {}
    roles: dict[str, int] | None = None
    title: str | None = None
    carried = ""  # the table-name column's last non-blank cell (merged cells)
    for n, row in enumerate(rows, 1):
        cells = [c for c in row if c]
        if not cells:
            continue
        header = _is_header(row)
        if header is not None:
            roles, carried = header, ""
            continue
        if len(cells) == 1 and (roles is None or _title_like(row, roles)):
            title, carried = table_name(cells[0]) or title, ""
            continue
        if roles is None:
            continue

        def get(role: str, _row=row, _roles=roles) -> str:
            i = _roles.get(role)
            return _row[i].strip() if i is not None and i < len(_row) else ""

        code, label, note = get("code"), get("label"), get("note")
        if "table" in roles:  # a row of the name alone heads its table too
            carried = table_name(get("table")) or get("table") or carried
        if not code and not label:
            continue
        name = carried if "table" in roles and carried else (title or default)
        code_n = "" if _BLANK.match(unicodedata.normalize("NFKC", code).replace(" ", "")) else code
        code_n = unicodedata.normalize("NFKC", code_n).strip()
        labels = tuple(v for v in (label, note) if v)
        table = tables.setdefault(name, CodeTable(name, doc))
        table.entries.extend(Entry(c, labels, n) for c in _range(code_n))
    return list(tables.values())


#: A range of codes in one row: 01～03, 1-9 (digits of one width, or plain numbers), at most this many codes.
_RANGE = re.compile(r"^(\d+)\s*[~～〜\-－ー]\s*(\d+)$")
MAX_RANGE = 100


def _range(code: str) -> list[str]:
    m = _RANGE.match(code)
    if not m:
        return [code]
    lo, hi = m[1], m[2]
    if int(hi) <= int(lo) or int(hi) - int(lo) >= MAX_RANGE:
        return [code]
    width = len(lo) if len(lo) == len(hi) else 0
    return [str(i).zfill(width) for i in range(int(lo), int(hi) + 1)]


def _title_like(row: list[str], roles: dict[str, int]) -> bool:
    """One filled cell under a header: a title (「コード表: 性別」, 【性別】) rather than a code without a label."""
    i = next(i for i, c in enumerate(row) if c)
    text = row[i]
    if re.search(r"コード表|コード一覧|[【】■□:：「」]", text):
        return True
    return i != roles.get("code") and i != roles.get("label") and i != roles.get("table")


def read_code_documents(paths: list[Path]) -> tuple[list[CodeTable], list[str]]:
    """The tables of every document (a folder: its files that hold one; the others are listed as passed over)."""
    tables: list[CodeTable] = []
    passed: list[str] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(x for x in p.iterdir() if x.is_file() and not x.name.startswith(".")):
                if f.suffix.lower() not in (".csv", ".tsv", ".txt", ".xlsx"):
                    continue
                try:
                    tables.extend(read_code_tables(f))
                except CodeTableError:
                    passed.append(unicodedata.normalize("NFC", f.name))
        else:
            tables.extend(read_code_tables(p))
    return tables, passed
