"""Fixed-width (固定長) files: the record length, HDR/TRL records, and proposed field boundaries.

A fixed-width export has no delimiter: every record has the same length (bytes for CP932, where a
全角 character is two; characters for UTF-8). Boundaries are *proposed* from the records
position by position, and each says how sure it is — a person confirms them against the vendor's
layout document (レイアウト表) before the mapping is used:

- 高: a position that is nearly always filled right after one that is often a space (a
  left-aligned field after the padding of the one before);
- 中: the kind of character changes for good (digits → 全角, 全角 → digits);
- 低: inside a run of digits — a position that is always the same digit right after one that
  varies (the zero padding of the next number), unless it ends a short value (10/20/30); in a short
  run of digits left after the dates, a cut between two codes side by side that tell nothing about each
  other (性別 1/2 then a flag 0/1; 種別 11–51 then 区分 01–99) or before a zero-led code (性別 1/2 then 続柄 01–99); or a date written in a known style at the start
  of the run (7 digits 元号コード, 8 digits YYYYMMDD) with something else after it.

A 和暦 date written as an era mark and six digits (R081001, 令081001; the era varies by row) is one date field, not
a code and a number. An id with a constant prefix of letters (H0001234, KJ-…, Ｈ…) is one field; a fixed-length value followed by
positions blank on every row (spaces, 全角 spaces) or zeros is the value and its filler (予備), two fields.
Two numbers written back to back without padding or a change of kind cannot be told apart; the
draft then shows one field, and the person splits it as the layout document says. A layout document
(``profile --layout``, :mod:`mimamori.sources.layoutdoc`) replaces all of this guessing.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

from mimamori.sources.profile import CODE_MAX_DISTINCT, ColumnProfile, FileProfile, _month_styles_of, _styles_of

_MARK = re.compile(r"^([A-Z]{2,4})")
_CLASSES = ("space", "digit", "alpha", "wide", "other")


def _units(encoding: str) -> str:
    return "bytes" if encoding == "cp932" else "chars"


def _record(line: str, encoding: str):
    return line.encode("cp932") if encoding == "cp932" else line


def looks_fixed(lines: list[str], encoding: str) -> bool:
    """Most records the same length, and long enough to hold several fields."""
    if len(lines) < 3:
        return False
    lengths = Counter(len(_record(ln, encoding)) for ln in lines)
    length, n = lengths.most_common(1)[0]
    return length >= 12 and n >= 0.9 * len(lines)


def _class(ch: str) -> str:
    if ch in " \u3000":  # a full-width space pads a 全角 field as a space pads the others
        return "space"
    if ch.isascii():
        return "digit" if ch.isdigit() else ("alpha" if ch.isalpha() else "other")
    return "wide"


def _units_of(record, encoding: str):
    """(class, value) per position: a CP932 全角 character gives its class to both its bytes."""
    if encoding != "cp932":
        return [(_class(ch), ch) for ch in record]
    out = []
    for ch in record.decode("cp932", errors="replace"):
        out.extend([(_class(ch), ch)] * len(ch.encode("cp932", errors="replace")))
    return out


class _Columns:
    """Per position: how often each kind of character, and which values (while few)."""

    def __init__(self, length: int, encoding: str):
        self.n = 0
        self.encoding = encoding
        self.kinds = [Counter() for _ in range(length)]
        self.values = [Counter() for _ in range(length)]

    def add(self, record) -> None:
        self.n += 1
        for p, (kind, unit) in enumerate(_units_of(record, self.encoding)[: len(self.kinds)]):
            self.kinds[p][kind] += 1
            if len(self.values[p]) < 12 or unit in self.values[p]:
                self.values[p][unit] += 1

    def space(self, p: int) -> float:
        return self.kinds[p]["space"] / self.n

    def dominant(self, p: int) -> str | None:
        filled = {k: v for k, v in self.kinds[p].items() if k != "space"}
        total = sum(filled.values())
        if total < 3:
            return None
        kind, count = max(filled.items(), key=lambda kv: kv[1])
        return kind if count >= 0.9 * total else None


def _boundaries(cols: _Columns, length: int) -> dict[int, str]:
    """0-based start position → confidence (高/中/低) of each field start after the first."""
    found: dict[int, str] = {0: "高"}
    for p in range(1, length):
        before, here = cols.space(p - 1), cols.space(p)
        unit = 2 if cols.encoding == "cp932" else 1
        prev = cols.dominant(p - 1) or (cols.dominant(p - 1 - unit) if p - 1 - unit >= 0 else None)
        if prev == cols.dominant(p) == "wide" and not _padding_ends(cols, p):
            continue  # inside a 全角 field: the space between family and given name is no padding
        if (before >= 0.3 and here <= before - 0.3) or (before == 1.0 and here < 1.0):
            found[p] = "高" if here < 0.05 and before > 0.5 else "中"
            continue
        a, b = cols.dominant(p - 1), cols.dominant(p)
        if a and b and a != b:
            found[p] = "中"
        elif a == b == "digit" and len(cols.values[p - 1]) >= 3 and len(cols.values[p]) == 1 and here == 0:
            if not _value_tail(cols, p, p - max(found)):
                found[p] = "低"
    return _join_prefixes(cols, found)


def _value_tail(cols: _Columns, p: int, head: int) -> bool:
    """The constant digits from ``p`` end the run of digits and follow a short head (10/20/30/40, 100/200): the
    value's own last digits, not the zero padding of a next number nor an id's zero filler (a head of 4+ digits)."""
    end = p
    while end < len(cols.kinds) and _constant(cols, end) and cols.dominant(end) == "digit":
        end += 1
    ends_run = end == len(cols.kinds) or cols.dominant(end) != "digit"
    return ends_run and head < 4


#: A constant prefix of an id (H, KJ, S-, Ｈ in CP932 bytes) is at most this many positions long.
PREFIX_MAX = 4


def _constant(cols: _Columns, p: int) -> bool:
    """Position ``p`` holds one character on every row (no blank)."""
    return cols.space(p) == 0 and len(cols.values[p]) == 1


def _join_prefixes(cols: _Columns, found: dict[int, str]) -> dict[int, str]:
    """A field that starts with a few constant letters or marks (H, KJ, S-, 世) and goes on in digits that vary is one
    id (H0001234): the boundaries the change of kind put inside it are dropped."""
    starts = sorted(found)
    for i, s in enumerate(starts):
        run = s
        while run < len(cols.kinds) and run - s < PREFIX_MAX and _constant(cols, run) and cols.dominant(run) != "digit":
            run += 1
        if run == s or run >= len(cols.kinds) or cols.dominant(run) != "digit":
            continue
        end = run
        while end < len(cols.kinds) and cols.dominant(end) == "digit" and cols.space(end) == 0:
            end += 1
        if end - run >= 4 and any(len(cols.values[p]) >= 3 for p in range(run, end)):  # an id's digits, not a code
            for inner in starts[i + 1 :]:
                if s < inner <= run:
                    found.pop(inner, None)
    return found


def _padding_ends(cols: _Columns, p: int) -> bool:
    """Position ``p`` starts a field after a 全角 field's padding: always filled, after a position blank on most rows
    (≥ 0.7) in a run of spaces that grows towards it — not after the space between a family and a given name
    (blank on fewer rows, moving with the family name's length)."""
    unit = 2 if cols.encoding == "cp932" else 1
    before = cols.space(p - 1)
    earlier = cols.space(p - 1 - unit) if p - 1 - unit >= 0 else 0.0
    return cols.space(p) <= 0.05 and before >= 0.7 and earlier >= 0.8 * before


def _segments(cols: _Columns, length: int) -> list[tuple[int, int, str]]:
    """(start, end exclusive, confidence); an all-space stretch joins the field before it (its padding)."""
    starts = _boundaries(cols, length)
    points = sorted(starts)
    out: list[tuple[int, int, str]] = []
    for i, s in enumerate(points):
        e = points[i + 1] if i + 1 < len(points) else length
        if out and all(cols.space(p) == 1.0 for p in range(s, e)):
            ps, _, pc = out[-1]
            out[-1] = (ps, e, pc)
        else:
            out.append((s, e, starts[s]))
    return out


def _split_fillers(cols: _Columns, segments: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A field whose values all have one length (the same rows blank at each of its positions) and that ends in
    positions blank on every row is a fixed-length value — an id, a code — and its filler: two fields (the filler is
    not part of the value; a layout document lists it as 予備/FILLER or as the field's remaining width)."""
    out = []
    for s, e, conf in segments:
        k = e
        while k > s and cols.space(k - 1) == 1.0:
            k -= 1
        fixed_length = s < k < e and all(cols.kinds[p]["space"] == cols.kinds[s]["space"] for p in range(s, k))
        if fixed_length and cols.space(s) < 0.5:
            out.extend([(s, k, conf), (k, e, "中")])
        else:
            out.append((s, e, conf))
    return out


#: Adjacent codes are looked for in a run of digits at most this long (1-digit and 2-digit codes side by side) …
CODES_MAX_RUN = 6
#: … when the run takes at most this many distinct values as a whole (more: a number, an amount, an id) …
CODES_MAX_DISTINCT = 40
#: … or, for a cut into two parts of at least two digits each (種別 11–51 then 区分 01–99), as many as two codes of
#: :data:`CODE_MAX_DISTINCT` values make together: a number's digits of a 2-digit part take more values than a code.
PAIR_MAX_DISTINCT = CODE_MAX_DISTINCT**2
#: … and two parts tell this little about each other (the uncertainty coefficient: 0 independent, 1 one determines
#: the other). The digits of one code depend on each other (01–06 and 99: a 9 comes with a 9); two codes do not.
CODES_MAX_SHARED = 0.05
#: Rows a run of digits is looked at in.
CODES_SAMPLE = 3000


def _entropy(counts: Counter) -> float:
    n = sum(counts.values())
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _shared(pairs: Counter) -> float:
    """How much the left part of a value tells about the right (0–1), from the counts of (left, right)."""
    left, right = Counter(), Counter()
    for (a, b), c in pairs.items():
        left[a] += c
        right[b] += c
    least = min(_entropy(left), _entropy(right))
    return (_entropy(left) + _entropy(right) - _entropy(pairs)) / least if least else 1.0


def _code_parts(values: list[str], s: int, e: int) -> list[tuple[int, int]]:
    """A run of digits cut where it is two independent codes (each of few values), recursively."""
    distinct = len(set(values))
    if e - s < 2 or distinct > PAIR_MAX_DISTINCT:
        return [(s, e)]
    best = None
    for k in range(1, e - s):
        if distinct > CODES_MAX_DISTINCT and min(k, e - s - k) < 2:
            continue  # a 1-digit part: only within the short codes' limit (a 2-digit number 10–99 is one field)
        pairs = Counter((v[:k], v[k:]) for v in values)
        lefts, rights = {a for a, _ in pairs}, {b for _, b in pairs}
        if not (2 <= len(lefts) <= CODE_MAX_DISTINCT and 2 <= len(rights) <= CODE_MAX_DISTINCT):
            continue
        if len({b[0] for b in rights}) == 1 and len({b[1:] for b in rights}) >= 2:
            best = (0.0, k)  # a code led by a constant zero (01–06) after one of few values (性別 1/2)
            break
        shared = _shared(pairs)
        if shared < CODES_MAX_SHARED and (best is None or shared < best[0]):
            best = (shared, k)
    if best is None:
        return [(s, e)]
    k = best[1]
    return _code_parts([v[:k] for v in values], s, s + k) + _code_parts([v[k:] for v in values], s + k, e)


def _split_codes(records: list, segments: list[tuple[int, int, str]], cols: _Columns) -> list[tuple[int, int, str]]:
    """Short runs of digits filled on every row that are several codes side by side (性別 1/2 then 続柄 01–99)."""
    out = []
    for s, e, conf in segments:
        digits = all(cols.space(p) == 0 and cols.dominant(p) == "digit" for p in range(s, e))
        values = [_text(r[s:e]) for r in records[:CODES_SAMPLE]]
        if not digits or not 2 <= e - s <= CODES_MAX_RUN or any(len(v) != e - s or not v.isdigit() for v in values):
            out.append((s, e, conf))
            continue
        if any(_styles_of(v) or _month_styles_of(v) for v in values[:200]):
            out.append((s, e, conf))  # a date or a year-month is one field
            continue
        for i, (ps, pe) in enumerate(_code_parts(values, s, e)):
            out.append((ps, pe, conf if i == 0 else "低"))
    return out


def filler(cols: _Columns, s: int, e: int) -> bool:
    """Positions ``s``–``e`` (exclusive) hold nothing on any row: spaces, or zeros after a value."""
    return all(cols.space(p) == 1.0 for p in range(s, e)) or all(set(cols.values[p]) == {"0"} for p in range(s, e))


def _date_split(records: list, s: int, e: int) -> int | None:
    """Inside a digit field: the length of a date at its start (7 元号コード / 8 YYYYMMDD), if the rest is more."""
    whole = [v for v in (_text(r[s:e]) for r in records[:500]) if v]
    if whole and sum(bool(_styles_of(v)) for v in whole) >= 0.95 * len(whole):
        return None  # the field is a date as it stands
    for size in (8, 7):
        if e - s <= size:
            continue
        sample = [_text(r[s : s + size]) for r in records[:500]]
        filled = [v for v in sample if v]
        if filled and sum(bool(_styles_of(v)) for v in filled) >= 0.95 * len(filled):
            return size
    return None


def _text(unit_slice, encoding: str = "cp932") -> str:
    if isinstance(unit_slice, bytes):
        return unit_slice.decode(encoding, errors="replace").strip(" \u3000")
    return unit_slice.replace("\0", "").strip(" \u3000")


def _split_dates(records: list, segments: list[tuple[int, int, str]], cols: _Columns) -> list[tuple[int, int, str]]:
    out = []
    for s, e, conf in segments:
        while cols.dominant(s) == "digit" and (size := _date_split(records, s, e)):
            out.append((s, s + size, conf))
            s, conf = s + size, "低"
        tail = _date_tail(records, s, e) if cols.dominant(e - 1) == "digit" else None
        if tail:
            out.extend([(s, e - tail, conf), (e - tail, e, "低")])
        else:
            out.append((s, e, conf))
    return out


#: The digits of a 和暦 date after its era mark (R081001, 令081001): yymmdd.
ERA_DIGITS = 6


def _join_era_dates(records: list, segments: list[tuple[int, int, str]], cols: _Columns) -> list[tuple[int, int, str]]:
    """An era mark (a letter H/R/S or a kanji 令/平/昭, varying by row, so no constant prefix) cut off by the change of
    kind from the six digits after it: one 和暦 date (style ``wareki``), when the mark and the digits read as dates
    on nearly every filled row. Digits beyond the six stay a field of their own."""
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(segments):
        s, e, conf = segments[i]
        if i + 1 < len(segments) and _era_mark(cols, s, e) and _era_date_at(records, s, e, segments[i + 1][1]):
            _, ne, _ = segments[i + 1]
            out.append((s, e + ERA_DIGITS, conf))
            if ne > e + ERA_DIGITS:
                out.append((e + ERA_DIGITS, ne, "低"))
            i += 2
            continue
        out.append((s, e, conf))
        i += 1
    return out


def _era_mark(cols: _Columns, s: int, e: int) -> bool:
    """Positions ``s``–``e`` are one letter or one 全角 character (two CP932 bytes) on every filled row."""
    unit = 2 if cols.encoding == "cp932" and cols.dominant(s) == "wide" else 1
    return e - s == unit and cols.dominant(s) in ("alpha", "wide")


def _era_date_at(records: list, s: int, e: int, next_end: int) -> bool:
    if next_end - e < ERA_DIGITS:
        return False
    filled = [v for v in (_text(r[s : e + ERA_DIGITS]) for r in records[:500]) if v]
    return bool(filled) and sum("wareki" in _styles_of(v) for v in filled) >= 0.95 * len(filled)


def _date_tail(records: list, s: int, e: int) -> int | None:
    """Inside a digit field: the length of a date at its end (8 YYYYMMDD / 7 元号コード) after short codes (at most
    :data:`CODES_MAX_RUN` digits, split by :func:`_split_codes`)."""
    for size in (8, 7):
        if e - s <= size or e - s > size + CODES_MAX_RUN:
            continue
        filled = [v for v in (_text(r[e - size : e]) for r in records[:500]) if v]
        if filled and sum(bool(_styles_of(v)) for v in filled) >= 0.95 * len(filled):
            return size
    return None


#: A record type is at most this many characters (10/20/90, 001/002/009, H1/D1/T1).
MAX_TYPE = 4


def _marks(lines: list[str]) -> list[tuple[str, str]]:
    """A first or last record starting with 2–4 capital letters where the data do not (HDR, TRL), or a record type:
    every data record starts with the same characters and the header/trailer with others of the same width (1 header,
    2 data, 9 trailer; 10/20/90; 001/002/009)."""
    marks, typed = [], []
    data = lines[1:-1][:1000]
    prefix = _common_prefix(data)[:MAX_TYPE] if len(data) >= 2 else ""
    for where, line in (("first", lines[0]), ("last", lines[-1])):
        m = _MARK.match(line)
        if m and not any(ln.startswith(m[1]) for ln in data):
            marks.append((where, m[1]))
        elif (k := _type_width(line, prefix)) and line[:1].strip():
            typed.append((where, line, k))
    width = min((k for _, _, k in typed), default=0)
    marks += [(where, line[:width]) for where, line, _ in typed if line[:width] != prefix[:width]]
    return sorted(marks, key=lambda m: m[0] != "first")


def _common_prefix(lines: list[str]) -> str:
    first, last = min(lines), max(lines)
    n = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    return first[:n]


def _type_width(line: str, prefix: str) -> int:
    """The width of ``line``'s record type against the data's common ``prefix``: from the start through the first
    character that differs, and on while they agree again (10 against 20…: 2); 0 when ``line`` starts with ``prefix``."""
    i = next((n for n, (a, b) in enumerate(zip(line, prefix, strict=False)) if a != b), None)
    if i is None:
        return 0
    k = i + 1
    while k < min(len(line), len(prefix)) and line[k] == prefix[k]:
        k += 1
    return k


def _record_type(records: list, marks: list[tuple[str, str]]) -> int:
    """The width of the record type when the data records start with one constant prefix as wide as the header's or
    trailer's type (not an HDR/TRL mark); 0 when there is none."""
    widths = {len(m) for _, m in marks if not _MARK.match(m) or len(m) == 1}
    if len(widths) != 1:
        return 0
    width = widths.pop()
    return width if len({r[:width] for r in records}) == 1 else 0


def profile_fixed(out: FileProfile, lines: list[str], tick, layout=None) -> FileProfile:
    """Fill ``out`` for a fixed-width file: line length, HDR/TRL marks, fields with their types — the fields of
    ``layout`` (a :class:`mimamori.sources.layoutdoc.LayoutDoc`) when one is given, else guessed."""
    enc = out.encoding
    out.units = (layout.units if layout is not None else None) or _units(enc)
    out.record_marks = _marks(lines)
    body = lines[1 if any(w == "first" for w, _ in out.record_marks) else 0 :]
    if any(w == "last" for w, _ in out.record_marks):
        body = body[:-1]
    if layout is not None:
        return _from_layout(out, body, layout, tick)
    records = [_record(ln, enc) for ln in body]
    out.line_length = Counter(len(r) for r in records).most_common(1)[0][0]
    cols = _Columns(out.line_length, enc)
    for n, r in enumerate(records, 1):
        tick(n, out.name)
        cols.add(r)
    segments = _segments(cols, out.line_length)
    width = _record_type(records, out.record_marks)
    if width and segments and segments[0][1] > width:
        segments[0:1] = [(0, width, "高"), (width, segments[0][1], segments[0][2])]
    segments = _join_era_dates(records, _split_dates(records, segments, cols), cols)
    segments = _split_fillers(cols, _split_codes(records, segments, cols))
    out.odd_rows = sum(len(r) != out.line_length for r in records)
    out.records = len(records)
    for i, (s, e, conf) in enumerate(segments, 1):
        col = ColumnProfile(i, start=s + 1, end=e, boundary=conf, filler=i > 1 and filler(cols, s, e))
        for r in records:
            col.add(_text(r[s:e]))
        col.classify()
        out.columns.append(col)
    out.count_pairs(records, lambda r, i: _text(r[segments[i][0] : segments[i][1]]))
    return out


def record_in(line: str, units: str, encoding: str):
    """A record as ``units`` count it: bytes of the file's encoding, characters, or display width (a 全角
    character is followed by a placeholder that :func:`_text` drops)."""
    if units == "bytes":
        return line.encode("cp932" if encoding == "cp932" else "utf-8")
    if units == "width":
        return "".join(ch + "\0" if unicodedata.east_asian_width(ch) in "WF" else ch for ch in line)
    return line


def _from_layout(out: FileProfile, body: list[str], layout, tick) -> FileProfile:
    """The fields as the layout document places them; a line shorter than the document is counted, not cut."""
    records = [record_in(ln, out.units, out.encoding) for ln in body]
    out.line_length = Counter(len(r) for r in records).most_common(1)[0][0] if records else 0
    if layout.end > out.line_length:
        raise layout.error(
            max(layout.fields, key=lambda f: f.start + f.length).row,
            f"項目が {layout.end}{_UNIT_JA[out.units]}目まであり、ファイルの行（{out.line_length}{_UNIT_JA[out.units]}）より長い",
        )
    out.layout_doc = layout.name
    if layout.zero_based:
        out.notes.append(f"レイアウト表 {layout.name} の位置は0から数えています。対応表では1から数える位置に直しました")
    out.odd_rows = sum(len(r) != out.line_length for r in records)
    out.records = len(records)
    for i, f in enumerate(layout.fields, 1):
        s, e = f.start - 1, f.start - 1 + f.length
        col = ColumnProfile(i, header=f.name, start=f.start, end=e, boundary="文書", doc_row=f.row)
        col.filler = f.name.startswith("予備")
        for n, r in enumerate(records, 1):
            if i == 1:
                tick(n, out.name)
            col.add(_text(r[s:e], "cp932" if out.encoding == "cp932" else "utf-8"))
        col.classify()
        out.columns.append(col)
    enc = "cp932" if out.encoding == "cp932" else "utf-8"
    fields = layout.fields
    out.count_pairs(records, lambda r, i: _text(r[fields[i].start - 1 : fields[i].start - 1 + fields[i].length], enc))
    return out


_UNIT_JA = {"bytes": "バイト", "chars": "文字", "width": "桁"}
