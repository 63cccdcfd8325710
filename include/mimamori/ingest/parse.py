"""Strict decoding and typed parsing of the departments' extracts.

Nothing here guesses silently: a file is decoded in the encoding the contract names or not at all
(the error then names the encoding it looks like), and a value is parsed to its contract type or
reported. Errors carry *reasons*, never the offending value, so they can go into logs, e-mails and
the rejections table without leaking personal data.

Dates come in every form municipal systems emit: ``2015-04-01``, ``2015/4/1``, ``20150401``,
``2015年4月1日``, ``平成27年4月1日``, ``H27.4.1``, ``R5/4/1``, ``令和元年5月1日`` (M/T/S/H/R and the
kanji era names, 元年), with full-width digits and separators, or openpyxl ``datetime`` cells.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mimamori.ingest.registry import ColumnSpec


class ParseError(ValueError):
    """A value does not parse; ``reason`` is a short code, the message never contains the value."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class FileProblem(ValueError):
    """A file cannot be made into a table (malformed CSV, beyond a limit); ``rule`` names why.

    ``rows`` are row or line numbers of the file (header = row 1), never a value.
    """

    def __init__(self, rule: str, message_ja: str, message_en: str, rows: list[int] | None = None):
        super().__init__(message_en)
        self.rule = rule
        self.rows = list(rows or [])
        self.message_ja = message_ja
        self.message_en = message_en


class DecodeError(ValueError):
    """A file cannot be read as the contract says; ``rule`` is ``encoding`` or ``truncated_xlsx``."""

    def __init__(self, rule: str, detected: str | None, message_ja: str, message_en: str):
        super().__init__(message_en)
        self.rule = rule
        self.detected = detected
        self.message_ja = message_ja
        self.message_en = message_en


# --------------------------------------------------------------------------- dates


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: dt.date
    end: dt.date | None  # last day, inclusive

    def to_gregorian_year(self, n: int) -> int:
        return self.start.year + n - 1


ERAS = (
    Era("明治", "M", dt.date(1868, 1, 25), dt.date(1912, 7, 29)),
    Era("大正", "T", dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
    Era("昭和", "S", dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    Era("平成", "H", dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    Era("令和", "R", dt.date(2019, 5, 1), None),
)
_ERA_BY_KEY = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS}
_ERA_ALT = "|".join([e.name for e in ERAS] + [e.letter for e in ERAS])

# After NFKC: dashes that NFKC leaves alone.
_DASHES = str.maketrans({"ー": "-", "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-", "―": "-"})
_TIME_SUFFIX = re.compile(r"(?:T|\s+)0{1,2}:00(?::00(?:\.0+)?)?$")

_GREG_SEP = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_GREG_KANJI = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$")
_GREG_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_ERA_DATE = re.compile(
    rf"^({_ERA_ALT})(\d{{1,2}}|元)(?:年(\d{{1,2}})月(\d{{1,2}})日?|([-/.])(\d{{1,2}})\5(\d{{1,2}}))$"
)

_MONTH_SEP = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_MONTH_KANJI = re.compile(r"^(\d{4})年(\d{1,2})月$")
_MONTH_COMPACT = re.compile(r"^(\d{4})(\d{2})$")
_ERA_MONTH = re.compile(rf"^({_ERA_ALT})(\d{{1,2}}|元)(?:年(\d{{1,2}})月|[-/.](\d{{1,2}}))$")


def normalise(value: str) -> str:
    """NFKC (full-width digits, letters and separators → ASCII), dash variants → '-', trimmed."""
    return unicodedata.normalize("NFKC", value).translate(_DASHES).strip()


def date_text(value) -> str:
    """A date cell as text to match: normalised, a midnight time suffix dropped, no whitespace, upper case."""
    s = normalise(str(value))
    s = _TIME_SUFFIX.sub("", s)
    return re.sub(r"\s+", "", s).upper()


def make_date(y: int, m: int, d: int) -> dt.date:
    """The date, or ParseError("invalid_date") when there is no such calendar day."""
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise ParseError("invalid_date", "no such calendar date") from None


def _era_year(era_key: str, year: str) -> tuple[Era, int]:
    era = _ERA_BY_KEY[era_key]
    n = 1 if year == "元" else int(year)
    if n < 1:
        raise ParseError("era_out_of_range", f"year 0 of {era.name} does not exist")
    if era.end is not None and era.to_gregorian_year(n) > era.end.year:
        raise ParseError("era_out_of_range", f"{era.name} ended in its year {era.end.year - era.start.year + 1}")
    return era, era.to_gregorian_year(n)


@lru_cache(maxsize=200_000)
def parse_date(value: str) -> dt.date:
    """Any Gregorian or Japanese-era date form of the domain → date; ParseError otherwise."""
    s = date_text(value)
    m = _GREG_SEP.match(s) or _GREG_KANJI.match(s)
    if m:
        g = [x for x in m.groups() if x not in ("-", "/", ".")]
        return make_date(int(g[0]), int(g[1]), int(g[2]))
    m = _GREG_COMPACT.match(s)
    if m:
        return make_date(int(m[1]), int(m[2]), int(m[3]))
    m = _ERA_DATE.match(s)
    if m:
        era, year = _era_year(m[1], m[2])
        month, day = (m[3], m[4]) if m[3] else (m[6], m[7])
        d = make_date(year, int(month), int(day))
        if d < era.start or (era.end is not None and d > era.end):
            raise ParseError("era_out_of_range", f"date outside the {era.name} era")
        return d
    raise ParseError("unrecognised", "not a recognised date form")


@lru_cache(maxsize=20_000)
def parse_month(value: str) -> dt.date:
    """A month (``2025-10``, ``2025/10``, ``202510``, ``2025年10月``, ``令和7年10月``, ``R7.10``) → its first day.

    A full date is accepted too and truncated to its month.
    """
    s = date_text(value)
    m = _MONTH_SEP.match(s) or _MONTH_KANJI.match(s) or _MONTH_COMPACT.match(s)
    if m:
        return make_date(int(m[1]), int(m[2]), 1)
    m = _ERA_MONTH.match(s)
    if m:
        era, year = _era_year(m[1], m[2])
        first = make_date(year, int(m[3] or m[4]), 1)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        if last < era.start or (era.end is not None and first > era.end):
            raise ParseError("era_out_of_range", f"month outside the {era.name} era")
        return first
    try:
        return parse_date(value).replace(day=1)
    except ParseError:
        raise ParseError("unrecognised", "not a recognised month form") from None


# --------------------------------------------------------------------------- values

_INT_RE = re.compile(r"^[+-]?\d+$")
#: PostgreSQL ``integer``: a larger value would make the load fail instead of being reported.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def _cell_text(value: Any) -> str:
    """An xlsx cell as text (numbers without a spurious '.0')."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    return str(value)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return parse_date(_cell_text(value))  # 20150401 typed as a number
    return parse_date(value)


def _to_month(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    return parse_month(_cell_text(value))


def _in_int_range(n: int) -> int:
    if not INT_MIN <= n <= INT_MAX:
        raise ParseError("out_of_range", "outside the integer range")
    return n


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ParseError("not_int", "not an integer")
    if isinstance(value, int):
        return _in_int_range(value)
    if isinstance(value, float):
        if value.is_integer():
            return _in_int_range(int(value))
        raise ParseError("not_int", "not an integer")
    s = normalise(value).replace(",", "")
    if not _INT_RE.match(s):
        raise ParseError("not_int", "not an integer")
    return _in_int_range(int(s))


def _no_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL: a value with one is reported, not loaded."""
    if "\x00" in text:
        raise ParseError("control_character", "contains a NUL character")
    return text


def _to_id(value: Any) -> str:
    return _no_nul(normalise(_cell_text(value)))


def _to_text(value: Any) -> str:
    return _no_nul(unicodedata.normalize("NFC", _cell_text(value)))


def converter(col: ColumnSpec) -> Callable[[Any], Any]:
    """A function non-blank raw cell → typed value for ``col``'s contract type (ParseError if not)."""
    base = col.base_type
    if base == "id":
        return _to_id
    if base == "text":
        return _to_text
    if base in ("date", "date_end"):
        return _to_date
    if base == "month":
        return _to_month
    if base == "int":
        return _to_int
    if base == "flag":
        true, false = col.flag_labels
        table = {true: True, false: False}

        def to_flag(value: Any) -> bool:
            try:
                return table[normalise(_cell_text(value))]
            except KeyError:
                raise ParseError("not_flag", f"not {true}/{false}") from None

        return to_flag
    if base == "code":
        codes = col.codes
        lookup = {unicodedata.normalize("NFKC", c): c for c in codes}
        # The label is accepted for its code (性別 '男' → '1'), unless it collides with a code.
        for code, label in codes.items():
            lookup.setdefault(unicodedata.normalize("NFKC", label), code)

        def to_code(value: Any) -> str:
            try:
                return lookup[normalise(_cell_text(value))]
            except KeyError:
                raise ParseError("not_code", "not one of " + ",".join(codes)) from None

        return to_code
    raise ValueError(f"unknown type {col.type}")


# --------------------------------------------------------------------------- files


@dataclass
class Table:
    """A file's header and data records; ``row_numbers[i]`` is the 1-based row of ``records[i]``."""

    header: list[str]
    records: list[list[Any]]
    row_numbers: list[int]


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_LABELS_JA = {
    "utf-8": "UTF-8（BOMなし）",
    "utf-8-sig": "UTF-8（BOM付き）",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "cp932": "Shift_JIS（CP932）",
    "xlsx": "Excel（xlsx）",
    "unknown": "不明（どの想定文字コードでも読めない）",
}
_LABELS_EN = {
    "utf-8": "UTF-8 (no BOM)",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "cp932": "Shift_JIS (CP932)",
    "xlsx": "Excel (xlsx)",
    "unknown": "unknown (none of the expected encodings)",
}


def detect_encoding(raw: bytes) -> str:
    """A simple guess, for error messages: BOMs, xlsx (zip), UTF-8, CP932, else 'unknown'."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    if raw.startswith(b"PK\x03\x04"):
        return "xlsx"
    if b"\x00" in raw[:4096]:
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        raw.decode("cp932")
        return "cp932"
    except UnicodeDecodeError:
        return "unknown"


def _encoding_error(expected: str, detected: str) -> DecodeError:
    return DecodeError(
        "encoding",
        detected,
        f"契約: {_LABELS_JA.get(expected, expected)}、判定結果: {_LABELS_JA[detected]}",
        f"contract: {_LABELS_EN.get(expected, expected)}; detected: {_LABELS_EN[detected]}",
    )


def decode_text(raw: bytes, encoding: str) -> str:
    """Decode strictly as the contract's ``cp932`` or ``utf-8-sig``; DecodeError naming what was detected."""
    if encoding == "cp932":
        detected = detect_encoding(raw)
        # Pure ASCII is valid in both; UTF-8 with any non-ASCII byte is not a CP932 file.
        if detected in ("cp932",) or (detected == "utf-8" and raw.isascii()):
            return raw.decode("cp932")
        raise _encoding_error(encoding, detected)
    if encoding == "utf-8-sig":
        if raw.startswith(codecs.BOM_UTF8) or not any(raw.startswith(b) for b, _ in _BOMS):
            try:
                return raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                pass
        raise _encoding_error(encoding, detect_encoding(raw))
    raise ValueError(f"not a text encoding: {encoding}")


def _table(rows: list[list[Any]], first_row_number: int = 1) -> Table:
    header: list[str] = []
    records: list[list[Any]] = []
    numbers: list[int] = []
    for i, row in enumerate(rows):
        number = first_row_number + i
        if i == 0:
            header = ["" if h is None else unicodedata.normalize("NFC", str(h)).strip() for h in row]
            continue
        if all(is_blank(v) for v in row):
            continue  # blank lines / trailing empty spreadsheet rows
        records.append(list(row))
        numbers.append(number)
    return Table(header=header, records=records, row_numbers=numbers)


def _too_many_rows(max_rows: int) -> FileProblem:
    return FileProblem(
        "too_many_rows",
        f"データ行が上限（{max_rows}行）を超えています",
        f"more data rows than the limit ({max_rows})",
    )


def read_csv_bytes(raw: bytes, encoding: str, max_rows: int | None = None) -> Table:
    """CP932 or UTF-8(-BOM) CSV, CRLF or LF line ends, quoted fields as RFC 4180 (strictly).

    FileProblem ``malformed_csv`` (a quote left open, text after a closing quote; the line where
    the reader stopped) or ``too_many_rows`` (more than ``max_rows`` data rows).
    """
    return parse_csv_text(decode_text(raw, encoding), max_rows)


def parse_csv_text(text: str, max_rows: int | None = None) -> Table:
    """The rows of decoded CSV text (see :func:`read_csv_bytes`)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if max_rows is not None and len(rows) > max_rows + 1:
                raise _too_many_rows(max_rows)
    except csv.Error:
        raise FileProblem(
            "malformed_csv",
            '引用符（"）の対応などCSVの形式が崩れていて、この行以降を読めません',
            "the CSV is malformed (e.g. an unclosed quote): it cannot be read from this line on",
            rows=[reader.line_num],
        ) from None
    return _table(rows)


def long_lines(raw: bytes, max_line_bytes: int) -> list[int]:
    """1-based numbers of the physical lines longer than ``max_line_bytes`` (line break excluded)."""
    lines = raw.splitlines()  # \r\n, \n or \r; C speed (a regex would be far slower here)
    if max(map(len, lines), default=0) <= max_line_bytes:
        return []
    return [number for number, line in enumerate(lines, 1) if len(line) > max_line_bytes]


def cut_mid_character(raw: bytes, encoding: str) -> bool:
    """True when the only bytes that do not decode are an incomplete character at the very end."""
    try:
        raw.decode(encoding)
        return False
    except UnicodeDecodeError as exc:
        start = exc.start
    if start < len(raw) - 3:
        return False
    try:
        raw[:start].decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _xlsx_uncompressed_bytes(raw: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        bad = zf.testzip()
        if bad is not None:
            raise zipfile.BadZipFile("crc")
        return sum(info.file_size for info in zf.infolist())


def _xlsx_rows(raw: bytes, max_rows: int | None) -> list[list[Any]]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        rows = []
        for r in wb.worksheets[0].iter_rows(values_only=True):
            rows.append(list(r))
            if max_rows is not None and len(rows) > max_rows + 1:
                raise _too_many_rows(max_rows)
    finally:
        wb.close()
    if any(v is None for row in rows for v in row):
        _refuse_formulas_without_values(raw, rows)
    return rows


def _refuse_formulas_without_values(raw: bytes, values: list[list[Any]], sheet: int = 0) -> None:
    """A cell holding a formula whose result was never saved reads as blank: the value is unknown,
    not empty. FileProblem ``formula_cell`` with the rows (the file's own numbering), never a value.

    Only run when some cell read blank; a formula with its saved result reads as that result.
    ``sheet``: the worksheet's index (a town's mapping may read another sheet, mimamori.sources)."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    rows: list[int] = []
    try:
        for n, formulas in enumerate(wb.worksheets[sheet].iter_rows(values_only=True), start=1):
            if n > len(values):
                break
            shown = values[n - 1]
            if any(
                isinstance(f, str) and f.startswith("=") and (i >= len(shown) or shown[i] is None)
                for i, f in enumerate(formulas)
            ):
                rows.append(n)
    finally:
        wb.close()
    if rows:
        raise FileProblem(
            "formula_cell",
            f"計算式のまま結果が保存されていないセルがあります（{len(rows)}行）。"
            "Excel で開いて保存し直すか、値として貼り付けてから再提出してください",
            f"cells hold a formula whose result was never saved ({len(rows)} rows)",
            rows=rows,
        )


def read_xlsx_bytes(raw: bytes, max_rows: int | None = None, max_bytes: int | None = None) -> Table:
    """First sheet, header in row 1, via openpyxl read-only; DecodeError for a non-/broken xlsx.

    FileProblem ``file_too_large`` when the workbook unpacks to more than ``max_bytes`` (a zip
    bomb is refused before it is opened), ``too_many_rows`` beyond ``max_rows`` data rows,
    ``formula_cell`` when a cell holds a formula whose result was never saved.
    """
    if not raw.startswith(b"PK\x03\x04"):
        raise _encoding_error("xlsx", detect_encoding(raw))
    try:
        unpacked = _xlsx_uncompressed_bytes(raw)
        if max_bytes is not None and unpacked > max_bytes:
            raise FileProblem(
                "file_too_large",
                f"展開後の大きさが上限（{max_bytes}バイト）を超えています",
                f"unpacks to more than the limit ({max_bytes} bytes)",
            )
        rows = _xlsx_rows(raw, max_rows)
    except FileProblem:
        raise
    except Exception as exc:  # zipfile.BadZipFile, KeyError, lxml/ElementTree errors, EOFError …
        raise DecodeError(
            "truncated_xlsx",
            "xlsx",
            "途中で切れているか壊れていて開けません",
            f"cannot be opened ({exc.__class__.__name__})",
        ) from None
    # Trailing empty cells of each row (styled but empty columns) are not columns.
    width = 0
    if rows:
        header = rows[0]
        width = len(header)
        while width and is_blank(header[width - 1]):
            width -= 1
    trimmed = []
    for row in rows:
        extra = row[width:]
        if any(not is_blank(v) for v in extra):
            trimmed.append(row)  # data beyond the header: keep, the validator reports it
        else:
            trimmed.append(row[:width])
    return _table(trimmed)


def read_file(path: Path, encoding: str) -> tuple[Table, bytes]:
    raw = Path(path).read_bytes()
    table = read_xlsx_bytes(raw) if encoding == "xlsx" else read_csv_bytes(raw, encoding)
    return table, raw
