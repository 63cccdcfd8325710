"""What a delivered file looks like, counted and never shown (``bin/mimamori sources profile``).

:func:`mimamori.sources.scan.profile_file` reads one export the town has never mapped and finds its encoding, its
delimiter or fixed width, a title line, a header row (or none), trailer lines, and per column a
type — id, code (few distinct short values), integer, text, kana, date — and a date style. Values
are only *counted*: a :class:`ColumnProfile` keeps the distinct values of a column only while
they are few, and :meth:`ColumnProfile.shown_codes` is the one place that decides whether they
may be shown (the rule is in docs/onboarding.md, 「画面に出すもの」):

- the column looks like a code: at most :data:`SHOW_MAX_DISTINCT` distinct values, each at most
  :data:`SHOW_MAX_CHARS` characters long and each found in at least :data:`SHOW_MIN_ROWS` rows;
- no value is a date, a run of more than four digits, or katakana/hiragana of two or more
  characters (a name's reading);
- the column is not matched to a contract column that holds a person's identity (an id, free
  text such as a name or an address, a date);
- unless the column is matched to a contract code or flag column, every value is ASCII letters and
  digits or a single character (○, 有): a short word in an unknown column may be a surname.

Everything else — names, addresses, birth dates, ids, free text — is described by counts,
lengths and shapes only. Fixed-width boundaries are proposed by :mod:`mimamori.sources.fixedguess`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mimamori.ingest.parse import ERAS, ParseError, make_date, normalise
from mimamori.sources.dates import (
    DATE_STYLES,
    STYLE_JA,
    DateStyle,
    StyleError,
    parse_styled_date,
    parse_styled_month,
    year_style_of,
)
from mimamori.sources.pairs import Pairs

#: Distinct values a column keeps (beyond that it is certainly not a code).
KEEP_DISTINCT = 40
#: A code column: at most this many distinct values …
CODE_MAX_DISTINCT = 12
#: … each at most this long.
CODE_MAX_CHARS = 6
SHOW_MAX_DISTINCT = 12
SHOW_MAX_CHARS = 4
SHOW_MIN_ROWS = 2
#: Values tried against every date style per column (the rest are counted, not parsed).
DATE_SAMPLE = 3000
#: A style is the column's when this share of the tried values is written in it.
STYLE_SHARE = 0.9

_KANA = re.compile(r"^[\u3040-\u30ff\uff66-\uff9f\u3000 ・ー]+$")
_DIGITS = re.compile(r"^\d+$")
_ALNUM = re.compile(r"^[0-9A-Za-z\-_]+$")
#: An id with a prefix of one or two letters that are not ASCII (世0012345): counted as an id-like value too.
_PREFIXED_ID = re.compile(r"^[^\W\d_]{1,2}-?\d{4,}$")
_EIGHT_DIGITS = re.compile(r"(?<!\d)(\d{8})(?!\d)")


def _name_dates() -> tuple[tuple[re.Pattern, str, str], ...]:
    """The spellings of an export date in a file name: (how it is found, date style, the ``from_file_name`` group).
    The eras come from the contract's parser (mimamori.ingest.parse.ERAS)."""
    letters = "".join(sorted({e.letter for e in ERAS}))
    kanji = "|".join(e.name for e in ERAS)
    return (
        (_EIGHT_DIGITS, "yyyymmdd", r"(\d{8})"),
        (re.compile(rf"(?<![A-Za-z])([{letters}]\d{{6}})(?!\d)"), "wareki", r"([A-Z]\d{6})"),
        (
            re.compile(rf"((?:{kanji})(?:元|\d{{1,2}})年\d{{1,2}}月\d{{1,2}}日)"),
            "wareki",
            r"(\D{2}(?:元|\d{1,2})年\d{1,2}月\d{1,2}日)",
        ),
        (re.compile(r"(?<!\d)(\d{4}-\d{1,2}-\d{1,2})(?!\d)"), "ymd", r"(\d{4}-\d{1,2}-\d{1,2})"),
        (re.compile(r"(?<!\d)([1-5]\d{6})(?!\d)"), "wareki_code", r"(\d{7})"),
    )


_NAME_DATES = _name_dates()


@dataclass
class ColumnProfile:
    """One delivered column (or fixed-width field), by counts. ``position`` is 1-based."""

    position: int
    header: str | None = None
    rows: int = 0
    blanks: int = 0
    values: Counter = field(default_factory=Counter)
    overflow: bool = False
    min_len: int = 0
    max_len: int = 0
    digits: int = 0
    kana: int = 0
    alnum: int = 0
    date_tried: int = 0
    date_hits: Counter = field(default_factory=Counter)
    date_any: int = 0  # tried values that are a date in some style (several styles: a mixed column)
    month_hits: Counter = field(default_factory=Counter)  # tried values that are a year-month (202610, R8.10)
    #: a day-month format style whose values all read both ways (01/02/2022): the other reading is as likely
    date_either: bool = False
    kind: str = "blank"
    date_style: str | None = None
    #: a year written as 和暦 (R7, 令和7年度) or with 年度 (2025年度): ``year:`` turns it into the Gregorian year
    year_style: str | None = None
    #: fixed width: 1-based first and last position, and how sure the boundary is (高/中/低)
    start: int | None = None
    end: int | None = None
    boundary: str = ""
    #: fixed width: the padding after a fixed-length value (spaces or zeros on every row), no value of its own
    filler: bool = False
    #: the row of the layout document (``profile --layout``) the field is taken from
    doc_row: int | None = None
    #: a header of several rows: the 親見出し over this column (a group's name, spanning blank cells to its right)
    parent: str | None = None
    #: the header row itself names the column by ``header`` once: a mapping may say it by name, else by position
    #: (a child name twice in the file, or a name only the parent row holds)
    named_once: bool = True
    #: one contract column delivered in several adjacent fields (氏 + 名, 元号/年/月/日): the fields, and the text
    #: they are joined with (:func:`mimamori.sources.draft.part_groups`); empty for a column of its own
    parts: list[ColumnProfile] = field(default_factory=list)
    join: str = ""
    #: values with full-width ASCII letters or digits (２丁目２７番), and of them those with a 全角 space next to one
    #: (ＭＲ　１期, 四種混合　３回目): counted before the profile's own NFKC
    wide_ascii: int = 0
    wide_space: int = 0
    #: values of the shape "code + separator + label" (1:男, 101 見守小, さくら保育園（P01）), counted (mimamori.sources.pairs)
    pairs: Pairs = field(default_factory=Pairs)

    def add(self, raw) -> None:
        if isinstance(raw, float) and raw.is_integer():  # an xlsx number cell: 45383.0 is 45383
            raw = int(raw)
        value = normalise(str(raw)).strip() if raw is not None else ""
        if value and _WIDE_ASCII.search(str(raw)):
            self.wide_ascii += 1
            self.wide_space += bool(_WIDE_SPACE.search(str(raw)))
        if not value:
            self.blanks += 1
            return
        n = len(value)
        self.min_len = n if self.rows == 0 else min(self.min_len, n)
        self.max_len = max(self.max_len, n)
        self.rows += 1
        if value in self.values or len(self.values) < KEEP_DISTINCT:
            self.values[value] += 1
        else:
            self.overflow = True
        self.digits += bool(_DIGITS.match(value))
        self.kana += bool(_KANA.match(value))
        self.alnum += bool(_ALNUM.match(value) or _PREFIXED_ID.match(value))
        self.pairs.add(value)
        if self.date_tried < DATE_SAMPLE:
            self.date_tried += 1
            styles = _styles_of(value)
            self.date_any += bool(styles)
            for style in styles or _month_styles_of(value):
                (self.date_hits if styles else self.month_hits)[style] += 1

    @property
    def pair(self) -> bool:
        """Nearly every value is a code and its label (``extract: code`` / ``label`` reads them)."""
        return self.kind in ("code", "text") and self.pairs.found(self.rows)

    @property
    def distinct(self) -> int:
        return len(self.values)

    def classify(self) -> None:
        self.kind, self.date_style = _classify(self)
        self.year_style = None if self.overflow or self.kind == "date" else year_style_of(self.values)

    def label(self) -> str:
        return self.header if self.header else f"{self.position}列目"

    def shown_codes(self, personal: bool = False, code_column: bool = False) -> list[str] | None:
        """The distinct values, when the safe rule lets them be shown; else None.

        ``personal``: the column is matched to a contract column of a person's identity (never shown);
        ``code_column``: it is matched to a contract code or flag column (short words may be shown),
        else only ASCII letters and digits or one character (○, 有) are."""
        if self.kind != "code" or personal or self.overflow:
            return None
        if self.distinct > SHOW_MAX_DISTINCT:
            return None
        for value, count in self.values.items():
            if len(value) > SHOW_MAX_CHARS or count < SHOW_MIN_ROWS or _personal_shape(value):
                return None
            if not code_column and len(value) > 1 and not value.isascii():
                return None
        return sorted(self.values)


_WIDE_ASCII = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_WIDE_SPACE = re.compile(
    r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]\u3000|\u3000[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]"
)


def _personal_shape(value: str) -> bool:
    if re.fullmatch(r"\d{5,}", value):
        return True
    if len(value) >= 2 and re.fullmatch(r"[\u3040-\u30ff\uff66-\uff9fー]+", value):
        return True
    return bool(_styles_of(value))


#: Day and month before a four-digit year (31/08/2022, 1/8/2022, 31.08.2022, 08/31/2022): no named style reads them;
#: the profile drafts them as ``{format: …}`` (:func:`style_yaml`), the order told by a value above 12.
_DAY_MONTH = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2((?:18|19|20|21)\d\d)$")
#: A day-month format style: ``format:`` and the strptime pattern.
FORMAT_PREFIX = "format:"


def _day_month_styles(value: str) -> list[str]:
    """``format:%d/%m/%Y`` and/or ``format:%m/%d/%Y`` (the separator as written): the readings that are real dates."""
    m = _DAY_MONTH.match(value)
    if not m:
        return []
    a, sep, b, year = int(m[1]), m[2], int(m[3]), int(m[4])
    out = []
    for pattern, (month, day) in ((f"%d{sep}%m{sep}%Y", (b, a)), (f"%m{sep}%d{sep}%Y", (a, b))):
        try:
            make_date(year, month, day)
        except ParseError:
            continue
        out.append(FORMAT_PREFIX + pattern)
    return out


def swapped(style: str) -> str:
    """A day-month format style read the other way round (%d/%m/%Y ↔ %m/%d/%Y)."""
    return style.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def style_label(style: str) -> str:
    """A date style in Japanese, for a comment (西暦8桁, 書式「%d/%m/%Y」)."""
    if style.startswith(FORMAT_PREFIX):
        return f"{STYLE_JA['format']}「{style[len(FORMAT_PREFIX) :]}」"
    return STYLE_JA.get(style, style)


def style_yaml(style: str) -> str:
    """A date style as the mapping writes it: a name, or ``{format: "%d/%m/%Y"}``."""
    if style.startswith(FORMAT_PREFIX):
        return '{format: "' + style[len(FORMAT_PREFIX) :] + '"}'
    return style


def _styles_of(value: str) -> list[str]:
    """The date styles ``value`` is a real date in (a 30 February or 明治00年 is no evidence of a style)."""
    if found := _day_month_styles(value):
        return found
    out = []
    for name in DATE_STYLES:
        if name == "excel_serial" and not re.fullmatch(r"[1-7]\d{4}", value):
            continue  # 1927-09-26 … 2119-…: plain counts and short ids are not serials
        if name == "yyyymmdd" and not re.fullmatch(r"(18[6-9]\d|19\d\d|20\d\d|21\d\d)\d{4}", value):
            continue
        try:
            parse_styled_date(value, DateStyle(name))
        except (StyleError, ParseError):
            continue
        out.append(name)
    return out


#: Month styles a column of year-months is recognised in (a year and a month, nothing else).
_MONTH_SHAPES = {
    "yyyymm": re.compile(r"(19|20)\d\d(0[1-9]|1[0-2])"),
    "ym": re.compile(r"(19|20)\d\d[-/.年]\s*\d{1,2}月?"),
    "wareki": re.compile(r"[^\d\s]{1,2}\s*(元|\d{1,2})[.．/年]\s*\d{1,2}月?"),
}


def _month_styles_of(value: str) -> list[str]:
    """The month styles ``value`` (no date) is a real year-month in: 202610 (a plausible year and a month), 2026-10,
    令和8年10月 / R8.10."""
    out = []
    for name, shape in _MONTH_SHAPES.items():
        if not shape.fullmatch(value):
            continue
        try:
            parse_styled_month(value, DateStyle(name))
        except (StyleError, ParseError, ValueError):
            continue
        out.append(name)
    return out


def _classify(c: ColumnProfile) -> tuple[str, str | None]:
    n = c.rows
    if n == 0:
        return "blank", None
    if c.date_tried:
        style, hits = max(
            c.date_hits.items(), key=lambda kv: (kv[1], kv[0].startswith(FORMAT_PREFIX + "%d")), default=(None, 0)
        )
        if style and hits >= STYLE_SHARE * c.date_tried:
            # day-first and month-first read every value alike: no value above 12 tells the order
            c.date_either = style.startswith(FORMAT_PREFIX) and c.date_hits.get(swapped(style), 0) == hits
            return "date", style
        if c.date_any >= STYLE_SHARE * c.date_tried:
            return "date", None  # dates, written in several styles
        style, hits = max(c.month_hits.items(), key=lambda kv: kv[1], default=(None, 0))
        if style and hits >= STYLE_SHARE * c.date_tried:
            return "month", style
    if not c.overflow and c.distinct <= CODE_MAX_DISTINCT and c.max_len <= CODE_MAX_CHARS:
        if n >= 2 * c.distinct or (c.distinct == 1 and c.blanks):  # a mark (○) or a code list
            return "code", None
    unique_share = 1.0 if c.overflow else c.distinct / n
    if c.digits == n:
        zero_led = any(v.startswith("0") and len(v) > 1 for v in c.values)
        if (zero_led or c.min_len >= 6) and c.max_len - c.min_len <= 2 and unique_share >= 0.3:
            return "id", None
        return "integer", None
    if c.alnum == n and c.max_len <= 20 and c.max_len - c.min_len <= 2 and unique_share >= 0.3:
        return "id", None
    if c.kana == n:
        return "kana", None
    return "text", None


# --------------------------------------------------------------------------- the file


@dataclass
class FileProfile:
    path: Path
    encoding: str  # cp932 | utf-8 | utf-8-sig | xlsx | unknown
    format: str  # csv | tsv | xlsx | fixed
    delimiter: str = ","
    title_lines: int = 0
    header: bool = False
    header_confidence: str = ""
    #: of the title lines, the 親見出し rows of a header of several rows (the last row is the header)
    parent_lines: int = 0
    trailer_lines: int = 0
    #: rows the mapping's reader skips above the header (or the first data row) and below the last data row: the
    #: title and trailer lines with any blank rows among them (the reader counts blank rows, the profile does not)
    rows_above: int = 0
    rows_below: int = 0
    #: rows right under the header that are no data (a units row 単位, a second header line), blank rows included
    rows_under_header: int = 0
    records: int = 0
    columns: list[ColumnProfile] = field(default_factory=list)
    odd_rows: int = 0  # delimited: rows whose field count differs from the usual
    ascii_only: bool = False  # readable as CP932 and as UTF-8 alike
    # fixed width
    units: str = ""
    line_length: int = 0
    record_marks: list[tuple[str, str]] = field(default_factory=list)  # (first|last, prefix)
    #: the layout document the fields (fixed width) or the column names (a headerless CSV) are taken from
    layout_doc: str | None = None
    notes: list[str] = field(default_factory=list)
    #: xlsx: the sheet profiled (1 = the first) and how many the workbook has
    sheet: int = 1
    sheets: int = 1
    #: two adjacent code columns: the left one's position → how many distinct pairs of values the rows hold (a count:
    #: no value is kept) — fewer than every combination when the right code's values depend on the left's
    pairs: dict[int, int] = field(default_factory=dict)

    def count_pairs(self, rows, value) -> None:
        """Fill :attr:`pairs` for each two adjacent code columns: ``value(row, i)`` is row ``row``'s raw value of the
        column at index ``i`` (after :meth:`ColumnProfile.classify`)."""
        cols = self.columns
        at = [i for i in range(len(cols) - 1) if cols[i].kind == cols[i + 1].kind == "code" and not cols[i + 1].filler]
        if not at:
            return
        seen: dict[int, set] = {i: set() for i in at}
        for row in rows:
            for i in at:
                a, b = value(row, i), value(row, i + 1)
                a, b = (normalise(str(v)).strip() if v is not None else "" for v in (a, b))
                if a and b:
                    seen[i].add((a, b))
        self.pairs = {cols[i].position: len(pairs) for i, pairs in seen.items()}

    @property
    def name(self) -> str:
        return unicodedata.normalize("NFC", self.path.name)

    @property
    def file_date(self) -> str | None:
        """The date in the file name (an export date) as written there, if there is exactly one."""
        found = self.file_date_form
        return found[0] if found else None

    @property
    def file_date_form(self) -> tuple[str, str, str] | None:
        """(the date as written in the name, its date style, the ``from_file_name`` group that takes it): 20261006,
        R081006, 令和8年10月6日, 2026-10-06 or 5081006 — exactly one real date in that style."""
        stem = unicodedata.normalize("NFC", self.path.stem)
        for pattern, style, group in _NAME_DATES:
            found = pattern.findall(stem)
            if len(found) == 1 and style in _styles_of(found[0]):
                return found[0], style, group
        return None

    @property
    def name_period(self) -> str | None:
        """The date in the file name that changes each delivery: 8 digits, or a year-month (202610)."""
        if self.file_date:
            return self.file_date
        found = re.findall(r"(?<!\d)(\d{6})(?!\d)", self.path.stem)
        return found[0] if len(found) == 1 and yyyymm(found[0]) else None


def yyyymm(value: str) -> bool:
    """Six digits that are a plausible year (1900–2099) and a month."""
    return bool(re.fullmatch(r"(19|20)\d\d(0[1-9]|1[0-2])", value))
