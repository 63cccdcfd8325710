"""A town's mapping file: how one department's own exports become the contract's files.

``towns/<town>/sources/<source>.yaml`` (docs/onboarding.md has the whole grammar, Japanese first)::

    source: kodomo_katei                 # the registry source (include/sources/<source>.yaml)
    inputs:                              # the files the department actually delivers
      - name: kenshin4                   # a name used under outputs
        files: "4か月児健診_*.csv"        # glob in inbox/<month>/<source>/ (exactly one file)
        format: csv                      # csv | tsv | xlsx | fixed
        encoding: cp932                  # cp932 | utf-8 (with or without BOM)
        header: 1                        # the header's row, or none (columns by position)
        skip: [{last: 1}]                # trailer / total lines
    outputs:                             # one per contract file made from them
      - file: 乳幼児健診.csv
        from: [kenshin4, kenshin18]      # several exports merged into one (rows appended)
        where: {column: 区分, equals: "1"}   # one export split into several contract files
        columns:                         # contract header (or English column) → how to get it
          宛名番号: 住民コード             # a delivered header (a number = a position)
          健診区分: {constant: 4か月}
          受診日: {from: 受診年月日, date: wareki}
          母の喫煙: {from: 喫煙, codes: {"1": 有, "0": 無}, blank: 無}
          抽出日: {from_file_name: '_(\\d{8})\\.csv$', date: yyyymmdd}

:func:`load_mapping` reads and checks a mapping against the source registry (the contract) and
raises :class:`MappingError` with every problem, each naming the mapping file and line — the
**dry run**'s static half; :mod:`mimamori.sources.apply` is the half that needs the data. The
mapping layer only ever produces contract columns: no rule, gate or model sees a vendor's layout.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from mimamori.ingest.registry import ColumnSpec, FileSpec, Source
from mimamori.sources import yamlnodes
from mimamori.sources.dates import DATE_STYLES, MONTH_STYLES, YEAR_STYLES, DateStyle, validate_format
from mimamori.sources.yamlnodes import Map, Scalar, Seq

FORMATS = ("csv", "tsv", "xlsx", "fixed")
#: Encodings a mapping may name → the codec used (UTF-8 is read with or without a BOM).
ENCODINGS = {
    "cp932": "cp932",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
}
UNITS = ("bytes", "chars", "width")
NONE_WORDS = ("none", "no", "false", "なし", "無し")
DEFAULT_JOIN = "\u3000"  # 姓　名: the contract's full-width space

_TOP_KEYS = {"source", "inputs", "outputs", "description", "note"}
_INPUT_KEYS = {
    "name",
    "files",
    "format",
    "encoding",
    "delimiter",
    "quote",
    "sheet",
    "header",
    "skip",
    "layout",
    "units",
    "line_length",
    "note",
}
_OUTPUT_KEYS = {"file", "from", "where", "columns", "note"}
_PART_KEYS = {"input", "columns", "note"}
_RULE_KEYS = {
    "from",
    "join",
    "codes",
    "blank",
    "date",
    "year",
    "constant",
    "from_file_name",
    "normalize",
    "extract",
    "note",
}
#: ``normalize:`` values a column rule accepts — width: full-width ASCII letters, digits and signs → half-width and
#: half-width ｶﾅ → カナ, nothing else (a 全角 space stays); nfkc: all of Unicode NFKC (a 全角 space becomes " " too).
NORMALIZE_FORMS = ("width", "nfkc")
_HALF_KANA = re.compile(r"[\uff61-\uff9f]+")
_FULL_ASCII = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def normalize_value(value: str, form: str) -> str:
    """A delivered text value in the ``normalize:`` form of its column rule."""
    if form == "nfkc":
        return unicodedata.normalize("NFKC", value)
    return _HALF_KANA.sub(lambda m: unicodedata.normalize("NFKC", m[0]), value.translate(_FULL_ASCII))


#: ``extract:`` takes a part of a cell: a regular expression with one group ( ), or one of these names for a cell that
#: holds a code and its label — "1:男", "1：男", "1 要保護", "1　要保護" (code, separator, label) or "要保護（1）" (label,
#: code in brackets). Each pattern has exactly one group; the first that matches gives the part.
_CODE = r"[0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a][0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a_\-]*"
_SEP = r"(?:\s*[:：]\s*|\s+)"
EXTRACT_SHORTCUTS: dict[str, tuple[str, ...]] = {
    "code": (rf"^\s*({_CODE}){_SEP}\S.*$", rf"^\s*\S.*?\s*[(（]\s*({_CODE})\s*[)）]\s*$"),
    "label": (rf"^\s*(?:{_CODE}){_SEP}(\S.*?)\s*$", rf"^\s*(\S.*?)\s*[(（]\s*(?:{_CODE})\s*[)）]\s*$"),
}


def extract_part(patterns: tuple[re.Pattern, ...], value: str) -> str | None:
    """The part of ``value`` an ``extract:`` takes (its one group), or None when no pattern matches."""
    for pattern in patterns:
        m = pattern.search(value)
        if m is not None and m.group(1) is not None:
            return m.group(1)
    return None


_WHERE_KEYS = {"column", "equals", "in", "not_in", "matches", "blank"}
_SKIP_KEYS = {"first", "last", "where", "line_matches", "note"}
_FIELD_KEYS = {"name", "start", "length", "end", "note"}


@dataclass(frozen=True)
class Problem:
    """One mistake in a mapping file: where it is and what is wrong (Japanese for IT, English)."""

    path: str
    line: int
    message_ja: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message_ja}"


class MappingError(ValueError):
    """A mapping file has mistakes; ``problems`` lists each with its line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(f"{p.path}:{p.line}: {p.message_en}" for p in problems))


@dataclass(frozen=True)
class Ref:
    """A delivered column: by header name, or by 1-based position (or a fixed-width field name)."""

    name: str | None = None
    position: int | None = None
    line: int = 0

    @property
    def label(self) -> str:
        return self.name if self.name is not None else f"{self.position}列目"


@dataclass(frozen=True)
class Where:
    column: Ref
    op: str  # equals | in | not_in | matches | blank
    values: tuple[str, ...] = ()
    pattern: re.Pattern | None = None
    blank: bool = True
    line: int = 0


@dataclass(frozen=True)
class SkipRule:
    kind: str  # first | last | where | line_matches
    count: int = 0
    where: Where | None = None
    pattern: re.Pattern | None = None
    line: int = 0


@dataclass(frozen=True)
class FixedField:
    name: str
    start: int  # 1-based, inclusive
    end: int  # 1-based, inclusive
    line: int = 0

    @property
    def label(self) -> str:
        return f"{self.name}（{self.start}〜{self.end}）"


@dataclass(frozen=True)
class InputSpec:
    name: str
    patterns: tuple[str, ...]
    format: str
    encoding: str | None  # the codec; None for xlsx
    delimiter: str = ","
    quote: str | None = '"'
    sheet: str | int = 1
    header: int | None = 1  # 1-based row of the header; None = no header
    skip: tuple[SkipRule, ...] = ()
    layout: tuple[FixedField, ...] = ()
    units: str = "bytes"
    line_length: int | None = None
    line: int = 0

    def matches(self, file_name: str) -> bool:
        import fnmatch

        name = unicodedata.normalize("NFC", file_name)
        return any(fnmatch.fnmatchcase(name, unicodedata.normalize("NFC", p)) for p in self.patterns)

    @property
    def pattern_text(self) -> str:
        return "、".join(self.patterns)


@dataclass(frozen=True)
class ColumnRule:
    """How one contract column is made from a delivered row."""

    column: ColumnSpec
    sources: tuple[Ref, ...] = ()
    join: str = DEFAULT_JOIN
    codes: dict[str, str] | None = None  # normalised delivered value → contract value
    blank: str | None = None
    date: DateStyle | None = None
    year: str | None = None  # an integer column of years written as 和暦 (R7) or with 年度: YEAR_STYLES
    constant: str | None = None
    file_pattern: re.Pattern | None = None
    line: int = 0
    codes_line: int = 0
    normalize: str | None = None  # "width" | "nfkc": the value's form is made so before anything else
    extract: tuple[re.Pattern, ...] | None = None  # the part of the cell taken (after normalize, before codes/date)
    extract_line: int = 0

    @property
    def label(self) -> str:
        """The column as delivered, for messages (never a value)."""
        if self.constant is not None:
            return "（固定値）"
        if self.file_pattern is not None:
            return "（ファイル名）"
        return "＋".join(ref.label for ref in self.sources)


@dataclass(frozen=True)
class Part:
    """One input feeding an output (several = rows appended), with its own column rules if any."""

    input: str
    columns: dict[str, ColumnRule] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class OutputSpec:
    file: str
    spec: FileSpec
    parts: tuple[Part, ...]
    where: Where | None
    columns: dict[str, ColumnRule]  # by English contract column
    line: int = 0

    def rules_for(self, part: Part) -> dict[str, ColumnRule]:
        return {**self.columns, **part.columns}


@dataclass(frozen=True)
class Mapping:
    source: str
    path: Path
    inputs: dict[str, InputSpec]
    outputs: tuple[OutputSpec, ...]
    text: str = ""

    @property
    def label(self) -> str:
        return self.path.name

    def output(self, contract_file: str) -> OutputSpec | None:
        return next((o for o in self.outputs if o.file == contract_file), None)


# --------------------------------------------------------------------------- reading


def normalise_code(value: str) -> str:
    """How delivered values and code-map keys are compared: NFKC, trimmed."""
    return unicodedata.normalize("NFKC", value).strip()


class _Reader:
    """Walks the YAML tree, collecting every problem instead of stopping at the first."""

    def __init__(self, path: Path):
        self.path = path
        self.label = str(path)
        self.problems: list[Problem] = []

    def err(self, line: int, ja: str, en: str) -> None:
        self.problems.append(Problem(self.label, line, ja, en))

    def keys(self, node: Map, allowed: set[str], what_ja: str) -> None:
        for key, (k, _) in node.items.items():
            if key not in allowed:
                self.err(
                    k.line,
                    f"{what_ja}に「{key}」という項目は書けません（書ける項目: {', '.join(sorted(allowed))}）",
                    f"unknown key {key!r} in {what_ja} (allowed: {', '.join(sorted(allowed))})",
                )

    def scalar(self, node, line: int, what: str) -> Scalar | None:
        if isinstance(node, Scalar) and not node.is_null:
            return node
        self.err(getattr(node, "line", line), f"「{what}」には値を1つ書いてください", f"{what}: expected one value")
        return None

    def integer(self, node, line: int, what: str, minimum: int = 1) -> int | None:
        s = self.scalar(node, line, what)
        if s is None:
            return None
        text = unicodedata.normalize("NFKC", s.value).strip()
        if not text.isdigit() or int(text) < minimum:
            self.err(s.line, f"「{what}」は{minimum}以上の整数です", f"{what}: expected an integer ≥ {minimum}")
            return None
        return int(text)

    def regex(self, node, line: int, what: str) -> re.Pattern | None:
        s = self.scalar(node, line, what)
        if s is None:
            return None
        try:
            return re.compile(unicodedata.normalize("NFC", s.value))
        except re.error as exc:
            self.err(s.line, f"「{what}」の正規表現が不正です（{exc.msg}）", f"{what}: invalid regular expression")
            return None

    def ref(self, node, line: int, what: str) -> Ref | None:
        s = self.scalar(node, line, what)
        if s is None:
            return None
        text = unicodedata.normalize("NFKC", s.value).strip()
        if not s.quoted and text.isdigit():
            if int(text) < 1:
                self.err(s.line, "列の番号は1から数えます", "column positions count from 1")
                return None
            return Ref(position=int(text), line=s.line)
        return Ref(name=unicodedata.normalize("NFC", s.value).strip(), line=s.line)


def _as_list(node) -> list:
    if node is None:
        return []
    return node.items if isinstance(node, Seq) else [node]


def _where(r: _Reader, node, line: int) -> Where | None:
    if not isinstance(node, Map):
        r.err(
            getattr(node, "line", line),
            "where には {column: …, equals: …} の形で書いてください",
            "where: expected a map",
        )
        return None
    r.keys(node, _WHERE_KEYS, "where")
    col = node.get("column")
    ref = r.ref(col, node.line, "column") if col is not None else None
    if col is None:
        r.err(node.line, "where には column（どの列を見るか）が必要です", "where needs a column")
    ops = [k for k in ("equals", "in", "not_in", "matches", "blank") if node.get(k) is not None]
    if len(ops) != 1:
        r.err(
            node.line,
            "where には equals / in / not_in / matches / blank のどれか1つを書きます",
            "where needs one condition",
        )
        return None
    op = ops[0]
    value = node.get(op)
    if ref is None:
        return None
    if op == "equals":
        s = r.scalar(value, node.line, "equals")
        return Where(ref, "in", (normalise_code(s.value),), line=node.line) if s else None
    if op in ("in", "not_in"):
        items = [r.scalar(v, node.line, op) for v in _as_list(value)]
        if not items or any(i is None for i in items):
            return None
        return Where(ref, op, tuple(normalise_code(i.value) for i in items), line=node.line)
    if op == "matches":
        pattern = r.regex(value, node.line, "matches")
        return Where(ref, "matches", pattern=pattern, line=node.line) if pattern else None
    s = r.scalar(value, node.line, "blank")
    if s is None:
        return None
    flag = s.value.strip().lower() not in NONE_WORDS
    return Where(ref, "blank", blank=flag, line=node.line)


def _skip(r: _Reader, node) -> tuple[SkipRule, ...]:
    rules = []
    for item in _as_list(node):
        if not isinstance(item, Map):
            r.err(item.line, "skip の各行は {last: 1} などの形で書きます", "skip: expected maps")
            continue
        r.keys(item, _SKIP_KEYS, "skip")
        kinds = [k for k in ("first", "last", "where", "line_matches") if item.get(k) is not None]
        if len(kinds) != 1:
            r.err(
                item.line,
                "skip の各行には first / last / where / line_matches のどれか1つを書きます",
                "skip: one rule each",
            )
            continue
        kind = kinds[0]
        value = item.get(kind)
        if kind in ("first", "last"):
            n = r.integer(value, item.line, kind)
            if n is not None:
                rules.append(SkipRule(kind, count=n, line=item.line))
        elif kind == "where":
            where = _where(r, value, item.line)
            if where is not None:
                rules.append(SkipRule("where", where=where, line=item.line))
        else:
            pattern = r.regex(value, item.line, "line_matches")
            if pattern is not None:
                rules.append(SkipRule("line_matches", pattern=pattern, line=item.line))
    return tuple(rules)


def _layout(r: _Reader, node, line: int, units: str, line_length: int | None) -> tuple[FixedField, ...]:
    fields: list[FixedField] = []
    names: dict[str, int] = {}
    for item in _as_list(node):
        if not isinstance(item, Map):
            r.err(item.line, "layout の各行は {name: …, start: …, length: …} の形で書きます", "layout: expected maps")
            continue
        r.keys(item, _FIELD_KEYS, "layout")
        name_node = item.get("name")
        name = r.scalar(name_node, item.line, "name") if name_node is not None else None
        if name_node is None:
            r.err(item.line, "layout の各行には name（項目名）が必要です", "layout field needs a name")
        start = r.integer(item.get("start"), item.line, "start") if item.get("start") is not None else None
        if item.get("start") is None:
            r.err(item.line, "layout の各行には start（開始位置、1から）が必要です", "layout field needs a start")
        has_len, has_end = item.get("length") is not None, item.get("end") is not None
        if has_len == has_end:
            r.err(
                item.line, "layout の各行には length（長さ）か end（終了位置）のどちらか1つを書きます", "length or end"
            )
            continue
        if name is None or start is None:
            continue
        if has_len:
            length = r.integer(item.get("length"), item.line, "length")
            if length is None:
                continue
            end = start + length - 1
        else:
            end = r.integer(item.get("end"), item.line, "end")
            if end is None:
                continue
            if end < start:
                r.err(item.line, "end が start より前です", "end before start")
                continue
        label = unicodedata.normalize("NFC", name.value).strip()
        if label in names:
            r.err(item.line, f"項目名「{label}」が{names[label]}行目と重複しています", "duplicate field name")
            continue
        names[label] = item.line
        fields.append(FixedField(label, start, end, item.line))
    if not fields:
        r.err(line, "固定長（format: fixed）には layout（各項目の位置）が必要です", "fixed width needs a layout")
    unit_ja = {"bytes": "バイト", "chars": "文字", "width": "桁"}[units]
    ordered = sorted(fields, key=lambda f: f.start)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start <= a.end:
            r.err(
                b.line,
                f"項目「{b.name}」（{b.start}〜{b.end}{unit_ja}目）が{a.line}行目の「{a.name}」（{a.start}〜{a.end}）と重なっています",
                f"field {b.name!r} ({b.start}-{b.end}) overlaps {a.name!r} ({a.start}-{a.end}) on line {a.line}",
            )
    if line_length is not None:
        for f in fields:
            if f.end > line_length:
                r.err(
                    f.line,
                    f"項目「{f.name}」（{f.start}〜{f.end}{unit_ja}目）が1行の長さ（{line_length}{unit_ja}）を超えています",
                    f"field {f.name!r} ends at {f.end}, past the line length {line_length}",
                )
    return tuple(fields)


def _input(r: _Reader, node, index: int) -> InputSpec | None:
    if not isinstance(node, Map):
        r.err(getattr(node, "line", 1), "inputs の各項目は name: … files: … の形で書きます", "inputs: expected maps")
        return None
    r.keys(node, _INPUT_KEYS, "inputs")
    line = node.line
    name = f"input{index + 1}"
    if node.get("name") is not None:
        s = r.scalar(node.get("name"), line, "name")
        name = s.value.strip() if s is not None else name
    files_node = node.get("files")
    patterns = []
    if files_node is None:
        r.err(line, f"入力「{name}」に files（ファイル名のパターン）がありません", f"input {name}: files missing")
    for p in _as_list(files_node):
        s = r.scalar(p, line, "files")
        if s is not None:
            patterns.append(unicodedata.normalize("NFC", s.value.strip()))
    fmt_node = node.get("format")
    fmt = None
    if fmt_node is not None:
        s = r.scalar(fmt_node, line, "format")
        if s is None:
            return None
        fmt = s.value.strip().lower()
    if fmt is None:
        ext = {Path(p).suffix.lower() for p in patterns}
        fmt = {".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx"}.get(ext.pop()) if len(ext) == 1 else None
        if fmt is None:
            r.err(line, f"入力「{name}」の format（csv / tsv / xlsx / fixed）を書いてください", "format missing")
            return None
    if fmt not in FORMATS:
        r.err(fmt_node.line, f"format は {' / '.join(FORMATS)} のどれかです", f"format must be one of {FORMATS}")
        return None
    encoding, delimiter, quote = _input_text(r, node, line, name, fmt)
    sheet, header = _input_sheet_header(r, node, line, fmt)
    units = "bytes"
    if node.get("units") is not None:
        s = r.scalar(node.get("units"), line, "units")
        if s is not None:
            units = s.value.strip().lower()
            if units not in UNITS:
                r.err(s.line, "units は bytes（バイト数） / chars（文字数） / width（全角を2と数える）です", "units")
                units = "bytes"
    line_length = None
    if node.get("line_length") is not None:
        line_length = r.integer(node.get("line_length"), line, "line_length")
    layout: tuple[FixedField, ...] = ()
    if fmt == "fixed":
        layout = _layout(r, node.get("layout"), line, units, line_length)
    elif node.get("layout") is not None:
        r.err(node.get("layout").line, "layout は固定長（format: fixed）だけに書きます", "layout is for fixed only")
    return InputSpec(
        name=name,
        patterns=tuple(patterns),
        format=fmt,
        encoding=encoding,
        delimiter=delimiter,
        quote=quote,
        sheet=sheet,
        header=header,
        skip=_skip(r, node.get("skip")),
        layout=layout,
        units=units,
        line_length=line_length,
        line=line,
    )


def _input_text(r: _Reader, node: Map, line: int, name: str, fmt: str) -> tuple[str | None, str, str | None]:
    """A delivered file's encoding, delimiter and quote character (xlsx has no encoding)."""
    encoding = None
    enc_node = node.get("encoding")
    if fmt == "xlsx":
        if enc_node is not None:
            r.err(enc_node.line, "xlsx には encoding を書きません", "xlsx takes no encoding")
    elif enc_node is None:
        r.err(line, f"入力「{name}」の encoding（cp932 / utf-8）を書いてください", "encoding missing")
    else:
        s = r.scalar(enc_node, line, "encoding")
        if s is not None:
            encoding = ENCODINGS.get(s.value.strip().lower())
            if encoding is None:
                r.err(s.line, f"encoding は {' / '.join(ENCODINGS)} のどれかです", "unknown encoding")
    delimiter = "\t" if fmt == "tsv" else ","
    if node.get("delimiter") is not None:
        s = r.scalar(node.get("delimiter"), line, "delimiter")
        if s is not None:
            text = {"tab": "\t", "\\t": "\t", "タブ": "\t"}.get(s.value, s.value)
            if len(text) != 1 or fmt not in ("csv", "tsv"):
                r.err(s.line, "delimiter は csv / tsv の1文字（tab はタブ）です", "delimiter: one character")
            else:
                delimiter = text
    quote: str | None = '"'
    if node.get("quote") is not None:
        s = r.scalar(node.get("quote"), line, "quote")
        if s is not None:
            quote = None if s.value.strip().lower() in NONE_WORDS else s.value
            if quote is not None and len(quote) != 1:
                r.err(s.line, "quote は1文字か none です", "quote: one character or none")
    return encoding, delimiter, quote


def _input_sheet_header(r: _Reader, node: Map, line: int, fmt: str) -> tuple[str | int, int | None]:
    """The xlsx sheet (name or position) and the header row (a number, or none)."""
    sheet: str | int = 1
    if node.get("sheet") is not None:
        if fmt != "xlsx":
            r.err(node.get("sheet").line, "sheet は xlsx だけに書きます", "sheet is for xlsx only")
        ref = r.ref(node.get("sheet"), line, "sheet")
        if ref is not None:
            sheet = ref.position if ref.position is not None else ref.name
    header: int | None = None if fmt == "fixed" else 1
    if node.get("header") is not None:
        s = r.scalar(node.get("header"), line, "header")
        if s is not None:
            if s.value.strip().lower() in NONE_WORDS:
                header = None
            else:
                header = r.integer(s, line, "header")
    return sheet, header


def _contract_column(spec: FileSpec, key: str) -> ColumnSpec | None:
    key = unicodedata.normalize("NFC", key).strip()
    for col in spec.columns:
        if key in (col.header, col.column):
            return col
    return None


def _code_target(col: ColumnSpec, value: str) -> str | None:
    """The contract value a code map's target stands for, or None if the contract has no such value."""
    v = normalise_code(value)
    base = col.base_type
    if base == "code":
        for code, label in col.codes.items():
            if v in (normalise_code(code), normalise_code(label)):
                return code
        return None
    if base == "flag":
        true, false = col.flag_labels
        return {true: true, false: false, "true": true, "false": false}.get(v)
    if base == "int":
        return v if re.fullmatch(r"[+-]?\d+", v) else None
    return unicodedata.normalize("NFC", value)


def _targets_ja(col: ColumnSpec) -> str:
    if col.base_type == "code":
        return "・".join(f"{c}={lab}" if c != lab else c for c, lab in col.codes.items())
    if col.base_type == "flag":
        return "/".join(col.flag_labels)
    return "整数"


def _rule(r: _Reader, spec: FileSpec, key: Scalar, node) -> ColumnRule | None:
    col = _contract_column(spec, key.value)
    if col is None:
        r.err(
            key.line,
            f"「{key.value}」は契約の{spec.file}にない列です（契約の列: {'、'.join(spec.headers)}）",
            f"{key.value!r} is not a column of the contract's {spec.file}",
        )
        return None
    if isinstance(node, Scalar | Seq):
        node_map = Map(node.line)
        node_map.items["from"] = (Scalar("from", node.line), node)
        node = node_map
    if not isinstance(node, Map):
        r.err(key.line, f"「{key.value}」の書き方が不正です", "column rule: expected a map")
        return None
    r.keys(node, _RULE_KEYS, f"列「{key.value}」")
    kinds = [k for k in ("from", "constant", "from_file_name") if node.get(k) is not None]
    if len(kinds) != 1:
        r.err(
            node.line,
            f"列「{key.value}」には from（元の列） / constant（固定値） / from_file_name（ファイル名から）のどれか1つを書きます",
            f"{key.value}: one of from, constant, from_file_name",
        )
        return None
    origin = _rule_origin(r, node, kinds[0])
    if origin is None:
        return None
    sources, constant, file_pattern = origin
    join = DEFAULT_JOIN
    if node.get("join") is not None:
        s = node.get("join")
        join = s.value if isinstance(s, Scalar) else DEFAULT_JOIN
    date = _rule_date(r, key, col, node)
    year = _rule_year(r, key, col, node)
    codes, codes_line = _rule_codes(r, key, col, node)
    blank = _rule_blank(r, col, node)
    normalize = _normalize_form(r, node.get("normalize"), node.line)
    extract, extract_line = _rule_extract(r, key, node, kinds[0])
    if kinds[0] != "from" and (node.get("join") is not None):
        r.err(node.get("join").line, "join は from に複数の列を書くときだけ使います", "join needs several from columns")
    return ColumnRule(
        column=col,
        sources=tuple(sources),
        join=join,
        codes=codes,
        blank=blank,
        date=date,
        year=year,
        constant=constant,
        file_pattern=file_pattern,
        line=key.line,
        codes_line=codes_line,
        normalize=normalize,
        extract=extract,
        extract_line=extract_line,
    )


def _rule_origin(r: _Reader, node: Map, kind: str) -> tuple[list[Ref], str | None, re.Pattern | None] | None:
    """Where a column's value comes from: (source columns, constant, file-name pattern), or None when
    the one given is unusable (the mistake is recorded)."""
    sources: list[Ref] = []
    constant = None
    file_pattern = None
    if kind == "from":
        for item in _as_list(node.get("from")):
            ref = r.ref(item, node.line, "from")
            if ref is not None:
                sources.append(ref)
        if not sources:
            return None
    elif kind == "constant":
        s = r.scalar(node.get("constant"), node.line, "constant")
        if s is None:
            return None
        constant = s.value
    else:
        file_pattern = r.regex(node.get("from_file_name"), node.line, "from_file_name")
        if file_pattern is None:
            return None
        if file_pattern.groups > 1:
            r.err(node.line, "from_file_name の正規表現の ( ) は1組までです", "from_file_name: at most one group")
    return sources, constant, file_pattern


def _rule_date(r: _Reader, key: Scalar, col: ColumnSpec, node: Map) -> DateStyle | None:
    """A date column's declared style (``date: wareki`` or ``date: {format: …}``)."""
    base = col.base_type
    date = None
    if node.get("date") is not None:
        dnode = node.get("date")
        if base not in ("date", "date_end", "month"):
            r.err(
                dnode.line,
                f"列「{key.value}」は日付の列ではないので date は書けません（型 {col.type}）",
                "date on a non-date column",
            )
        elif isinstance(dnode, Map):
            r.keys(dnode, {"format"}, "date")
            fmt = r.scalar(dnode.get("format"), dnode.line, "format") if dnode.get("format") is not None else None
            if fmt is None:
                r.err(dnode.line, "date: {format: …} の形で書きます", "date: {format: …}")
            else:
                why = validate_format(fmt.value)
                if why is None and base != "month" and "%d" not in fmt.value and "%j" not in fmt.value:
                    why = "日付の書式には日（%d）が必要です"
                if why:
                    r.err(fmt.line, f"date の書式「{fmt.value}」: {why}", "date format unusable")
                else:
                    date = DateStyle("format", fmt.value)
        else:
            s = r.scalar(dnode, node.line, "date")
            if s is not None:
                name = s.value.strip().lower()
                allowed = DATE_STYLES + (MONTH_STYLES if base == "month" else ())
                if name not in allowed:
                    r.err(
                        s.line,
                        f"date「{s.value}」は使えない書き方です（使える書き方: {', '.join(allowed)}、または {{format: …}}）",
                        f"unknown date style {s.value!r} (allowed: {', '.join(allowed)})",
                    )
                else:
                    date = DateStyle(name)
    return date


def _rule_year(r: _Reader, key: Scalar, col: ColumnSpec, node: Map) -> str | None:
    """An integer column's year style (``year: wareki``: R7, 令和7年度 → 2025)."""
    if node.get("year") is None:
        return None
    s = r.scalar(node.get("year"), node.line, "year")
    if s is None:
        return None
    if col.base_type != "int":
        r.err(
            s.line,
            f"列「{key.value}」は整数の列ではないので year は書けません（型 {col.type}）",
            "year on a non-int column",
        )
        return None
    if node.get("codes") is not None:
        r.err(s.line, f"列「{key.value}」には year と codes を一緒に書けません", "year together with codes")
        return None
    if s.value not in YEAR_STYLES:
        r.err(
            s.line,
            f"year「{s.value}」は使えない書き方です（使える書き方: {', '.join(YEAR_STYLES)}）",
            f"unknown year style {s.value!r} (allowed: {', '.join(YEAR_STYLES)})",
        )
        return None
    return s.value


def _rule_codes(r: _Reader, key: Scalar, col: ColumnSpec, node: Map) -> tuple[dict[str, str] | None, int]:
    """A code column's map from delivered values to the contract's, and the line it starts on."""
    base = col.base_type
    codes = None
    codes_line = 0
    if node.get("codes") is not None:
        cnode = node.get("codes")
        codes_line = cnode.line
        if base in ("date", "date_end", "month"):
            r.err(cnode.line, f"日付の列「{key.value}」には codes ではなく date を書きます", "codes on a date column")
        elif not isinstance(cnode, Map):
            r.err(cnode.line, "codes は {元の値: 契約の値, …} の形で書きます", "codes: expected a map")
        elif not cnode.items:
            r.err(
                cnode.line,
                f"列「{key.value}」のコード表（codes）が空です。元のシステムの値ごとに契約の値（{_targets_ja(col)}）を書いてください",
                f"{key.value}: the code map is empty; fill it in",
            )
        else:
            codes = {}
            seen: dict[str, int] = {}
            for delivered, (k, v) in cnode.items.items():
                norm = normalise_code(delivered)
                if norm in seen:
                    r.err(k.line, f"コード「{delivered}」が{seen[norm]}行目と重複しています", "duplicate code")
                    continue
                seen[norm] = k.line
                target = r.scalar(v, k.line, f"codes の「{delivered}」")
                if target is None:
                    continue
                contract_value = _code_target(col, target.value)
                if contract_value is None:
                    r.err(
                        target.line,
                        f"コード「{delivered}」の行き先「{target.value}」は契約の「{col.header}」にない値です（契約の値: {_targets_ja(col)}）",
                        f"code target {target.value!r} is not a value of the contract's {col.column}",
                    )
                    continue
                codes[norm] = contract_value
    return codes, codes_line


def _rule_blank(r: _Reader, col: ColumnSpec, node: Map) -> str | None:
    """What a blank delivered value becomes (a contract value for codes, flags and integers)."""
    base = col.base_type
    blank = None
    if node.get("blank") is not None:
        s = r.scalar(node.get("blank"), node.line, "blank")
        if s is not None:
            if base in ("code", "flag", "int"):
                blank = _code_target(col, s.value)
                if blank is None:
                    r.err(
                        s.line,
                        f"blank「{s.value}」は契約の「{col.header}」にない値です（契約の値: {_targets_ja(col)}）",
                        "blank: not a contract value",
                    )
            else:
                blank = s.value
    return blank


def _normalize_form(r: _Reader, node, line: int) -> str | None:
    """``normalize: width`` / ``nfkc`` — or nothing; another word is a mistake said as such."""
    if node is None:
        return None
    s = r.scalar(node, line, "normalize")
    if s is None:
        return None
    form = s.value.strip().lower()
    if form in NONE_WORDS:
        return None
    if form not in NORMALIZE_FORMS:
        r.err(
            s.line,
            f"normalize「{s.value}」は使えません（使えるもの: {', '.join(NORMALIZE_FORMS)}）",
            f"unknown normalize {s.value!r} (allowed: {', '.join(NORMALIZE_FORMS)})",
        )
        return None
    return form


def _rule_extract(r: _Reader, key: Scalar, node: Map, kind: str) -> tuple[tuple[re.Pattern, ...] | None, int]:
    """``extract: code`` / ``label`` / a regular expression with exactly one group ( ): the part of the cell taken."""
    enode = node.get("extract")
    if enode is None:
        return None, 0
    s = r.scalar(enode, node.line, "extract")
    if s is None:
        return None, 0
    if kind != "from":
        r.err(s.line, f"列「{key.value}」: extract は from（元の列）と一緒に書きます", "extract needs from")
        return None, 0
    name = s.value.strip().lower()
    if name in EXTRACT_SHORTCUTS:
        return tuple(re.compile(p) for p in EXTRACT_SHORTCUTS[name]), s.line
    pattern = r.regex(s, s.line, "extract")
    if pattern is None:
        return None, 0
    if pattern.groups != 1:
        r.err(
            s.line,
            f"列「{key.value}」: extract の正規表現には取り出す部分の ( ) がちょうど1組必要です（いま{pattern.groups}組。"
            "まとめるだけの括弧は (?: ) に。または extract: code / label）",
            f"{key.value}: extract needs a regular expression with exactly one group, not {pattern.groups}",
        )
        return None, 0
    return (pattern,), s.line


def _columns(r: _Reader, spec: FileSpec, node) -> dict[str, ColumnRule]:
    out: dict[str, ColumnRule] = {}
    if node is None:
        return out
    if not isinstance(node, Map):
        r.err(node.line, "columns は {契約の列: 元の列, …} の形で書きます", "columns: expected a map")
        return out
    for k, value in node.items.values():
        rule = _rule(r, spec, k, value)
        if rule is None:
            continue
        if rule.column.column in out:
            r.err(k.line, f"契約の列「{rule.column.header}」が2回書かれています", "contract column mapped twice")
            continue
        out[rule.column.column] = rule
    return out


def _output(r: _Reader, source: Source, node, inputs: dict[str, InputSpec]) -> OutputSpec | None:
    if not isinstance(node, Map):
        r.err(getattr(node, "line", 1), "outputs の各項目は file: … from: … columns: … の形で書きます", "outputs: maps")
        return None
    r.keys(node, _OUTPUT_KEYS, "outputs")
    file_node = node.get("file")
    if file_node is None:
        r.err(node.line, "outputs の各項目には file（契約のファイル名）が必要です", "output needs a file")
        return None
    s = r.scalar(file_node, node.line, "file")
    if s is None:
        return None
    file = unicodedata.normalize("NFC", s.value.strip())
    try:
        spec = source.file(file)
    except KeyError:
        r.err(
            s.line,
            f"「{file}」は契約の{source.source}のファイルではありません（契約: {'、'.join(f.file for f in source.files)}）",
            f"{file!r} is not a contract file of {source.source}",
        )
        return None
    parts: list[Part] = []
    from_node = node.get("from")
    if from_node is None:
        r.err(node.line, f"「{file}」に from（どの入力から作るか）がありません", "output needs from")
    for item in _as_list(from_node):
        if isinstance(item, Map):
            r.keys(item, _PART_KEYS, "from")
            name = r.scalar(item.get("input"), item.line, "input")
            if name is None:
                continue
            parts.append(Part(name.value.strip(), _columns(r, spec, item.get("columns")), item.line))
        else:
            name = r.scalar(item, node.line, "from")
            if name is not None:
                parts.append(Part(name.value.strip(), {}, name.line))
    for part in parts:
        if part.input not in inputs:
            r.err(
                part.line,
                f"入力「{part.input}」は inputs にありません（inputs: {'、'.join(inputs) or 'なし'}）",
                f"no input named {part.input!r}",
            )
    where = _where(r, node.get("where"), node.line) if node.get("where") is not None else None
    columns = _columns(r, spec, node.get("columns"))
    out = OutputSpec(file=file, spec=spec, parts=tuple(parts), where=where, columns=columns, line=node.line)
    for part in parts:
        rules = out.rules_for(part)
        missing = [c.header for c in spec.columns if c.required and c.column not in rules]
        if missing:
            r.err(
                part.line if len(parts) > 1 else node.line,
                f"「{file}」の必須の列 {'、'.join(missing)} の対応がありません（入力「{part.input}」）",
                f"{file}: required contract column(s) {', '.join(missing)} not mapped",
            )
        spec_in = inputs.get(part.input)
        if spec_in is not None:
            _check_refs(r, spec_in, rules.values(), where)
    return out


def _check_refs(r: _Reader, spec: InputSpec, rules, where: Where | None) -> None:
    """Columns named where the input has no names (no header): positions only; fixed: layout names."""
    refs = [ref for rule in rules for ref in rule.sources]
    if where is not None:
        refs.append(where.column)
    refs += [s.where.column for s in spec.skip if s.where is not None]
    for ref in refs:
        if spec.format == "fixed":
            names = {f.name for f in spec.layout}
            if ref.name is not None and ref.name not in names:
                r.err(
                    ref.line,
                    f"「{ref.name}」は入力「{spec.name}」の layout にない項目です（layout: {'、'.join(sorted(names))}）",
                    f"{ref.name!r} is not a field of the layout of input {spec.name}",
                )
            if ref.position is not None and ref.position > len(spec.layout):
                r.err(
                    ref.line, f"入力「{spec.name}」の layout は{len(spec.layout)}項目です", "position past the layout"
                )
        elif spec.header is None and ref.name is not None:
            r.err(
                ref.line,
                f"入力「{spec.name}」は見出しなし（header: none）なので、列は番号で書いてください（「{ref.name}」）",
                f"input {spec.name} has no header: refer to columns by position",
            )


#: A line of a draft (``sources profile``) a person has not yet confirmed: ``# TODO …``.
_DRAFT_MARK = re.compile(r"#.*\bTODO\b", re.ASCII)


def _draft_marks(r: _Reader, text: str) -> None:
    """A draft's TODO left in a comment: the person has not yet filled or confirmed that line."""
    for number, line in enumerate(text.splitlines(), 1):
        if _DRAFT_MARK.search(line):
            r.err(
                number,
                "下書きの TODO が残っています。コメントのとおりに確かめて直し、TODO の文字を消してください",
                "a draft's TODO is left: do what its comment says, then remove the TODO",
            )


def parse_mapping(text: str, path: Path, registry: dict[str, Source]) -> Mapping:
    """Read and check a mapping's text; MappingError lists every problem with its line."""
    r = _Reader(path)
    try:
        root = yamlnodes.parse(text)
    except yamlnodes.YamlError as exc:
        raise MappingError([Problem(str(path), exc.line, exc.message_ja, exc.message_en)]) from None
    if not isinstance(root, Map):
        raise MappingError([Problem(str(path), 1, "対応表（YAML）が空か、形が不正です", "empty or not a map")])
    r.keys(root, _TOP_KEYS, "対応表")
    _draft_marks(r, text)
    src_node = root.get("source")
    source = None
    if src_node is None:
        r.err(1, "source（どの提供元の対応表か）がありません", "source missing")
    else:
        s = r.scalar(src_node, root.line, "source")
        if s is not None:
            source = registry.get(s.value.strip())
            if source is None:
                r.err(s.line, f"提供元「{s.value}」は契約にありません（{'、'.join(registry)}）", "unknown source")
            elif path.suffix in (".yaml", ".yml") and path.stem != source.source:
                r.err(s.line, f"ファイル名は {source.source}.yaml にしてください", "file name must be <source>.yaml")
    inputs: dict[str, InputSpec] = {}
    inputs_node = root.get("inputs")
    if inputs_node is None or not _as_list(inputs_node):
        r.err(root.line, "inputs（届くファイル）がありません", "inputs missing")
    for i, node in enumerate(_as_list(inputs_node)):
        spec = _input(r, node, i)
        if spec is None:
            continue
        if spec.name in inputs:
            r.err(spec.line, f"入力名「{spec.name}」が重複しています", "duplicate input name")
            continue
        inputs[spec.name] = spec
    outputs: list[OutputSpec] = []
    outputs_node = root.get("outputs")
    if outputs_node is None or not _as_list(outputs_node):
        r.err(root.line, "outputs（作る契約のファイル）がありません", "outputs missing")
    if source is not None:
        for node in _as_list(outputs_node):
            out = _output(r, source, node, inputs)
            if out is None:
                continue
            if any(o.file == out.file for o in outputs):
                r.err(out.line, f"契約のファイル「{out.file}」を作る出力が2つあります", "contract file produced twice")
                continue
            outputs.append(out)
        used = {p.input for o in outputs for p in o.parts}
        for name, spec in inputs.items():
            if name not in used:
                r.err(spec.line, f"入力「{name}」はどの outputs にも使われていません", f"input {name} is not used")
    if r.problems:
        raise MappingError(r.problems)
    assert source is not None
    return Mapping(source=source.source, path=path, inputs=inputs, outputs=tuple(outputs), text=text)


def load_mapping(path: Path | str, registry: dict[str, Source]) -> Mapping:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise MappingError(
            [Problem(str(path), 1, "対応表はUTF-8で保存してください", "save the mapping as UTF-8")]
        ) from None
    except OSError as exc:
        raise MappingError(
            [Problem(str(path), 1, f"対応表を読めません（{exc.__class__.__name__}）", "cannot read")]
        ) from None
    return parse_mapping(text, path, registry)


def town_mapping_paths(town_dir: Path | str | None) -> dict[str, Path]:
    """``{source: path}`` of the mapping files of a town (``<town_dir>/sources/<source>.yaml``)."""
    if town_dir is None:
        return {}
    folder = Path(town_dir) / "sources"
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}
