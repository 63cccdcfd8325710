"""A draft mapping from profiled files (``bin/mimamori sources profile``, docs/onboarding.md).

Each delivered file is matched against the contract files of the source
(docs/contract/extracts.csv through the registry): a delivered column stands for a contract
column by its header — the contract's own (certain), a name in ``header_synonyms.yaml`` (likely),
shared characters (a guess) — and by the type and shape of its values; a file without a header is
aligned column by column in order, by type alone. The draft says how sure each line is in a YAML
comment and marks with ``TODO`` what a person must do: fill a code map, say which value of a
column splits a merged export, confirm positions and columns of a file without a header. A mapping
with a ``TODO`` left does not pass ``sources check``.

Two files that match the same contract file become one output with both inputs (rows appended);
a file that matches two contract files about equally and has a code column neither uses becomes
two outputs split on that column; so does a file that a contract file no delivered file became fits nearly as
well as its best match (one ledger a code column partitions, :func:`split_ledgers`). No value of the files is
written, except code values the rule of :meth:`mimamori.sources.profile.ColumnProfile.shown_codes` lets through.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from mimamori.ingest.registry import ColumnSpec, FileSpec, Source
from mimamori.sources.mapping import normalise_code
from mimamori.sources.profile import ColumnProfile, FileProfile

SYNONYMS = Path(__file__).with_name("header_synonyms.yaml")
#: A second contract file this close to the best one means the export may hold both (a split).
SPLIT_SHARE = 0.9
#: Below this a file is not proposed for any contract file.
MIN_SCORE = 0.2
_COMPATIBLE = {
    "id": {"id", "integer"},
    "text": {"text", "kana", "code", "id"},
    "code": {"code"},
    "flag": {"code"},
    "date": {"date"},
    "date_end": {"date"},
    "month": {"month", "date"},
    "int": {"integer", "code"},
}
#: Contract columns that hold a person's identity: their values are never shown, not even as codes.
PERSONAL_TYPES = ("id", "text", "date", "date_end", "month")


#: A header spelled in at most this many readings (a long header of many words is not spelled out).
MAX_READINGS = 64
_SEPARATORS = re.compile(r"[\s\u3000・･_\-‐－/／()（）\[\]［］【】「」.．:：]+")


@lru_cache(maxsize=1)
def _synonyms_file() -> dict:
    return yaml.safe_load(SYNONYMS.read_text(encoding="utf-8")) or {}


@lru_cache(maxsize=1)
def _reading_words() -> dict[str, tuple[str, ...]]:
    """Word → its readings (``_readings:`` in header_synonyms.yaml) and itself (宛名No), in :func:`_key` form."""
    words = _synonyms_file().get("_readings") or {}
    return {_key(w): tuple(dict.fromkeys(_key(r) for r in [*rs, w])) for w, rs in words.items()}


@lru_cache(maxsize=4096)
def readings(text: str) -> frozenset[str]:
    """``text`` spelled in the readings of its words (宛名番号 → アテナno, アテナバンゴウ …); the longest
    listed word is read first and a character of no listed word is kept as it is."""
    key, words = _key(text), _reading_words()
    longest = max(map(len, words), default=0)
    spelled, i = [""], 0
    while i < len(key):
        word = next((key[i : i + n] for n in range(min(longest, len(key) - i), 0, -1) if key[i : i + n] in words), None)
        if word is None:
            spelled, i = [s + key[i] for s in spelled], i + 1
            continue
        spelled = [s + r for s in spelled for r in words[word]][:MAX_READINGS]
        i += len(word)
    return frozenset(spelled) - {key}


@lru_cache(maxsize=1)
def synonyms() -> dict[str, frozenset[str]]:
    """Contract column → the other headers it goes by: the names listed, and their readings."""
    out = {}
    for column, names in _synonyms_file().items():
        if column.startswith("_"):
            continue
        keys = {_key(n) for n in names}
        out[column] = frozenset(keys.union(*(readings(n) for n in names)))
    return out


def _key(text: str) -> str:
    """A header as compared: NFKC (ｱﾃﾅＮＯ → アテナNO), hiragana as katakana, lower case, without spaces and
    separators."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(text)))
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text).lower()


def confidence(score: float) -> str:
    return "高" if score >= 0.85 else ("中" if score >= 0.5 else "低")


@dataclass
class Assign:
    column: ColumnSpec
    source: ColumnProfile | None = None
    score: float = 0.0
    why: str = ""
    from_file_name: bool = False
    #: the code map proposed from a department's code table (``profile --codes``, :mod:`mimamori.sources.codemap`)
    codes: object | None = None


@dataclass
class Match:
    profile: FileProfile
    spec: FileSpec
    assigns: list[Assign]
    score: float = 0.0
    split_on: ColumnProfile | None = None
    together: list[FileSpec] = field(default_factory=list)  # the other files of a split
    #: a split's codes for this contract file read from the split column's code table (``profile --codes``)
    split_codes: object | None = None
    #: the contract file this file fit best, left to another export that fits it clearly better (:func:`move_to_free`)
    moved_from: str | None = None

    def assigned(self, col: ColumnSpec) -> Assign:
        return next(a for a in self.assigns if a.column == col)


def _name_score(header: str, col: ColumnSpec) -> tuple[float, str]:
    h = _key(header)
    if h == _key(col.header) or h == _key(col.column):
        return 1.0, "見出しが契約と同じ"
    if h in readings(col.header):
        return 0.9, "見出しが契約の列名の読み（カナ）"
    if h in synonyms().get(col.column, ()):
        return 0.85, "見出しが契約の列の別名（header_synonyms.yaml）"
    if _coded_name(h, col):
        return 0.5, "見出しがこの列の内容を表すコードの列（コード表で内容に置き換える）"
    a = _bigrams(h)
    sim = max((_dice(a, _bigrams(k)) for k in {_key(col.header), *readings(col.header)}), default=0.0)
    return (0.6 * sim, "見出しが似ている") if sim >= 0.4 else (0.0, "")


@lru_cache(maxsize=1)
def _suffixes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    f = _synonyms_file()
    return tuple(_key(x) for x in f.get("_code_suffixes") or []), tuple(_key(x) for x in f.get("_name_suffixes") or [])


def _coded_name(h: str, col: ColumnSpec) -> bool:
    """``h`` (in :func:`_key` form) is a code for what ``col`` names: 施設コード for 施設名, 園CD for 園名, ｼｾﾂCD for
    施設名 in its reading (``_code_suffixes`` / ``_name_suffixes`` in header_synonyms.yaml)."""
    codes, names = _suffixes()
    stems = {h[: -len(c)] for c in codes if h.endswith(c) and len(h) > len(c)}
    if not stems:
        return False
    named = {_key(col.header), *readings(col.header), *synonyms().get(col.column, ())}
    return any(k[: -len(n)] in stems for k in named for n in names if k.endswith(n) and len(k) > len(n))


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _bigrams(s: str) -> set[str]:
    return {s[i : i + 2] for i in range(len(s) - 1)} if len(s) > 1 else {s}


def compatible(col: ColumnSpec, prof: ColumnProfile) -> bool:
    if col.base_type == "int" and prof.year_style:
        return True  # R7, 令和7年度: ``year:`` makes the Gregorian year
    if col.base_type in ("code", "flag") and prof.kind == "text" and prof.pair and not prof.pairs.overflow:
        return len(prof.pairs.codes) <= (2 if col.base_type == "flag" else 12)  # "1:身体障害者手帳": a code list
    if prof.kind not in _COMPATIBLE[col.base_type]:
        return False
    if col.base_type == "flag":
        return prof.distinct <= 2
    if col.base_type == "code" and prof.distinct == 1 and prof.blanks and not contract_values(col, prof):
        return False  # a mark (○ or blank) is no code of several values
    if col.base_type == "int" and prof.kind == "code":
        return prof.digits == prof.rows
    return True


#: A child name twice in a header of several rows (開始日 under 資格 and under 受給): the one whose 親見出し is not
#: in the contract column's header scores this much less.
TWICE_PENALTY = 0.05


def _header_score(prof: ColumnProfile, col: ColumnSpec, twice: bool) -> tuple[float, str]:
    """The name score of a column, its 親見出し (a header of several rows) taken in: parent + child may name the
    contract column (受給者 + 宛名番号); a child name twice in the file is told apart by whether its parent is in the
    contract column's header (資格 in 資格取得日)."""
    ns, why = _name_score(prof.header or "", col)
    if not prof.parent:
        return ns, why
    both, both_why = _name_score(prof.parent.replace("・", "") + (prof.header or ""), col)
    if both > ns:
        return both, both_why + f"（親見出し「{prof.parent}」と合わせて）"
    if twice and ns:
        parent = _key(prof.parent)
        if not (parent in _key(col.header) or _dice(_bigrams(parent), _bigrams(_key(col.header))) > 0):
            return ns - TWICE_PENALTY, why + f"（親見出し「{prof.parent}」は契約の列名にない）"
        return ns, why + f"（親見出し「{prof.parent}」が契約の列名にある）"
    return ns, why


@lru_cache(maxsize=1)
def _contract_columns() -> tuple[ColumnSpec, ...]:
    """Every column of every contract file (docs/contract/extracts.csv through the registry)."""
    from mimamori.ingest.registry import load_registry

    return tuple(c for src in load_registry().values() for f in src.files for c in f.columns)


@lru_cache(maxsize=4096)
def names_a_contract_column(header: str) -> frozenset[str]:
    """The contract columns (English names) ``header`` names: the contract's own header, its reading or a synonym."""
    return frozenset(c.column for c in _contract_columns() if _name_score(header, c)[0] >= 0.85)


def positions(prof: ColumnProfile) -> list[int]:
    """The delivered columns ``prof`` reads: its own, or each of its parts."""
    return [p.position for p in prof.parts] or [prof.position]


@lru_cache(maxsize=1)
def _part_families() -> tuple[tuple[str, str, bool, tuple[frozenset[str], ...]], ...]:
    """(whole, join, date, part words in :func:`_key` form) of ``_parts:`` in header_synonyms.yaml."""
    return tuple(
        (
            _key(f.get("whole") or ""),
            str(f.get("join") or ""),
            bool(f.get("date")),
            tuple(frozenset(_key(w) for w in words) for words in f["parts"]),
        )
        for f in _synonyms_file().get("_parts") or []
    )


def _stem(keys: list[str], words: tuple[frozenset[str], ...], whole: str) -> str | None:
    """The name a run of headers stands for when they are a shared stem and the family's part words in order
    (生年月日元号/…年/…月/…日 → 生年月日; 氏カナ/名カナ → 氏名カナ; 氏/名 → 氏名), else None."""
    prefix = os.path.commonprefix(keys)
    if all(k[len(prefix) :] in w for k, w in zip(keys, words, strict=True)):
        return prefix or whole or None
    suffix = os.path.commonprefix([k[::-1] for k in keys])[::-1]
    if suffix and all(k[: len(k) - len(suffix)] in w for k, w in zip(keys, words, strict=True)):
        return whole + suffix if whole else None
    return None


def part_groups(profile: FileProfile) -> list[ColumnProfile]:
    """Runs of adjacent named columns that are one contract column in parts (``_parts:`` in header_synonyms.yaml),
    each as a column of its own kind (text, kana, or a 和暦 date) whose ``parts`` are the run."""
    cols, out = profile.columns, []
    for whole, join, date, words in _part_families():
        n = len(words)
        for k in range(len(cols) - n + 1):
            run = cols[k : k + n]
            if any(not c.header or c.kind == "blank" or c.filler for c in run):
                continue
            stem = _stem([_key(c.header) for c in run], words, whole)
            if stem is None:
                continue
            if date:
                if any(c.digits != c.rows for c in run[1:]):
                    continue  # a year, a month and a day are digits
                kind, style = "date", ("wareki_code" if run[0].digits == run[0].rows else "wareki")
            else:
                if any(c.kind in ("date", "month") or c.digits == c.rows for c in run):
                    continue
                kind, style = ("kana" if all(c.kind == "kana" for c in run) else "text"), None
            first = run[0]
            out.append(
                ColumnProfile(
                    first.position,
                    stem,
                    rows=first.rows,
                    blanks=first.blanks,
                    overflow=True,
                    kind=kind,
                    date_style=style,
                    start=first.start,
                    parts=list(run),
                    join=join,
                    wide_ascii=sum(c.wide_ascii for c in run),
                    wide_space=sum(c.wide_space for c in run),
                )
            )
    return out


def _by_header(profile: FileProfile, spec: FileSpec) -> list[Assign]:
    """Pairs by header (scored above any pair by shape), and by shape alone only for a delivered column whose header
    names no other contract column (学年 is no アンケート要注意, 性別 no 健診区分)."""
    pairs, shaped = [], []
    counts = Counter(_key(p.header) for p in profile.columns if p.header)
    candidates = [*profile.columns, *part_groups(profile)]
    for col in spec.columns:
        for prof in candidates:
            if (prof.kind == "blank" and not prof.header) or prof.filler:
                continue
            ns, why = _header_score(prof, col, counts[_key(prof.header)] > 1 if prof.header else False)
            ok = compatible(col, prof) or prof.kind == "blank"
            if ns and ok:
                pairs.append((ns, col, prof, why))
            elif ns >= 0.85:
                pairs.append((0.3, col, prof, why + "、ただし値の形が合わない"))
            elif ns >= WEAK_NAME:
                pairs.append((0.25, col, prof, why + "、ただし値の形が合わない"))
            elif ok and prof.kind != "blank":
                shaped.append(_by_shape(col, prof))
    for score, col, prof, why in shaped:
        others = names_a_contract_column(prof.header) - {col.column} if prof.header else frozenset()
        if others and score < 0.5:
            continue
        pairs.append((score, col, prof, why))
    return _greedy(spec, pairs)


def constant_date(prof: ColumnProfile) -> bool:
    """Every row holds the same date (an extraction date: 抽出日 by its shape)."""
    return prof.kind == "date" and prof.distinct == 1 and not prof.overflow and prof.rows >= 2 and not prof.blanks


def _by_shape(col: ColumnSpec, prof: ColumnProfile) -> tuple:
    """A pair by the values' shape alone: a constant date is the extraction date, and unlikely any other."""
    if constant_date(prof):
        if col.column == "extracted_on":
            return 0.8, col, prof, "どの行も同じ日付（抽出日の形）"
        return 0.1, col, prof, SHAPE_ONLY + "（見出しは似ていない。どの行も同じ日付）"
    # an id for an id, a code for a code: closer than an id or a code for a text column (番号 is no 学校)
    alike = _NATURAL.get(prof.kind) == col.base_type or (prof.kind == "code" and col.base_type == "flag")
    return (0.2 if alike else 0.15), col, prof, SHAPE_ONLY + "（見出しは似ていない）"


#: A header this like a contract column's (全戸訪問 for 乳児家庭全戸訪問) is proposed for it, 低, though its values'
#: shape does not fit (○ or blank for 済/未): better than another column by its shape alone.
WEAK_NAME = 0.3
#: The why of a pair by the values' shape alone (the draft's TODO says so, naming the header).
SHAPE_ONLY = "値の形だけが合う"
#: The contract type a delivered kind is most like (the others it is compatible with are a looser fit).
_NATURAL = {
    "id": "id",
    "code": "code",
    "integer": "int",
    "date": "date",
    "month": "month",
    "text": "text",
    "kana": "text",
}


def _greedy(spec: FileSpec, pairs: list) -> list[Assign]:
    chosen: dict[str, Assign] = {}
    used: set[int] = set()
    for score, col, prof, why in sorted(pairs, key=lambda p: (-p[0], p[2].position, -len(p[2].parts))):
        if col.column in chosen or used.intersection(positions(prof)):
            continue
        chosen[col.column] = Assign(col, prof, score, why)
        used.update(positions(prof))
    return [chosen.get(c.column) or Assign(c) for c in spec.columns]


def _by_position(profile: FileProfile, spec: FileSpec) -> list[Assign]:
    """No header: the longest in-order alignment of contract columns and delivered columns by type."""
    cols, profs = list(spec.columns), [p for p in profile.columns if p.kind != "blank" and not p.filler]
    n, m = len(cols), len(profs)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = best[i + 1][j + 1] + 1 if compatible(cols[i], profs[j]) else -1
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if compatible(cols[i], profs[j]) and best[i][j] == best[i + 1][j + 1] + 1:
            pairs.append((0.5, cols[i], profs[j], "見出しがないため、列の順番と値の形から推定"))
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return _greedy(spec, pairs)


def match(profile: FileProfile, spec: FileSpec) -> Match:
    named = profile.header or profile.layout_doc  # a layout document names a fixed-width or headerless file's fields
    assigns = _by_header(profile, spec) if named else _by_position(profile, spec)
    for a in assigns:
        if a.source is None and a.column.column == "extracted_on" and profile.file_date:
            a.score, a.from_file_name, a.why = 0.85, True, "ファイル名の日付から"
    score = sum(a.score for a in assigns) / len(assigns)
    return Match(profile, spec, assigns, score)


def supported(m: Match, ids_only: bool = False) -> bool:
    """Every required column of the contract file (``ids_only``: every required id column) is found by its header,
    its position in a file without one, or the file name — none by the shape of its values alone."""
    return all(
        a.from_file_name or (a.source is not None and a.score >= 0.5)
        for a in m.assigns
        if a.column.required and (a.column.base_type == "id" or not ids_only)
    )


def _split_column(m: Match) -> ColumnProfile | None:
    used = {n for a in m.assigns if a.source is not None for n in positions(a.source)}
    for prof in m.profile.columns:
        if prof.position not in used and prof.kind == "code" and 2 <= prof.distinct:
            return prof
    return None


def best_matches(profile: FileProfile, source: Source) -> list[Match]:
    """The contract file(s) this delivered file becomes: one, or several when it is a merged export."""
    ranked = sorted((match(profile, spec) for spec in source.files), key=lambda m: -m.score)
    if not ranked or ranked[0].score < MIN_SCORE:
        return []
    top = ranked[0]
    split = _split_column(top)
    if split is None:
        return [top]
    near = [m for m in ranked[1:] if m.score >= SPLIT_SHARE * top.score and supported(m)][: split.distinct - 1]
    if not near or not supported(top):  # a split needs every file's required columns found by their headers
        return [top]
    group = [top, *near]
    for m in group:
        m.split_on = split
        m.together = [o.spec for o in group if o is not m]
    return group


def found(m: Match) -> int:
    """How many of the file's columns the match finds by their header (or position), not by their shape alone."""
    return sum(1 for a in m.assigns if a.source is not None and a.score >= 0.5)


#: A file moves off its best contract file to one no export became when that one fits it this close …
MOVE_SHARE = 0.6
#: … and another export fits the best one by this much more, with more columns found by header.
MOVE_MARGIN = 0.2


def _used_share(m: Match) -> float:
    """The share of the file's columns with values the match reads (an export's column a contract file leaves unread
    is evidence against it)."""
    cols = [c for c in m.profile.columns if c.kind != "blank" and not c.filler]
    used = {n for a in m.assigns if a.source is not None for n in positions(a.source)}
    return sum(c.position in used for c in cols) / len(cols) if cols else 1.0


def move_to_free(matched: list[tuple[FileProfile, list[Match]]], source: Source) -> None:
    """A file whose best contract file another export fits clearly better (by ``MOVE_MARGIN`` more, more columns found
    by header) is no merge into it when a contract file no export became fits it at least ``MOVE_SHARE`` times as
    well, its required ids and more of its columns found by header (the layout-b trial: 施設利用児童 — 宛名番号, a code, two dates, 基準日 —
    fit ひとり親医療.csv's four columns by their shapes, while ひとり親医療_資格者 fit it by every header and
    保育所入所.csv was left without an export). The moved match keeps ``moved_from`` for its TODO. In place."""
    taking: dict[str, list[Match]] = {}
    for _, ms in matched:
        for m in ms:
            taking.setdefault(m.spec.file, []).append(m)
    moves = []
    for i, (p, ms) in enumerate(matched):
        if len(ms) != 1:
            continue
        m = ms[0]
        rivals = [o for o in taking[m.spec.file] if o.profile is not p]
        if not any(o.score >= m.score + MOVE_MARGIN and found(o) > found(m) for o in rivals):
            continue
        free = [match(p, spec) for spec in source.files if spec.file not in taking]
        free = [
            o for o in free if supported(o, ids_only=True) and o.score >= MOVE_SHARE * m.score and found(o) > found(m)
        ]
        if free:
            moved = max(free, key=lambda o: o.score * _used_share(o))
            moved.moved_from = m.spec.file
            moves.append((i, moved))
    for i, moved in moves:
        matched[i] = (matched[i][0], [moved])


def arrange(matched: list[tuple[FileProfile, list[Match]]], source: Source) -> None:
    """Settle which contract files the files become, across the files: a file another export fits clearly better
    moves to a free contract file (:func:`move_to_free`), then a ledger is split (:func:`split_ledgers`). In place;
    a second call changes nothing (the report and the draft call it both)."""
    move_to_free(matched, source)
    split_ledgers(matched, source)


#: A contract file no delivered file became fits a file this close to the file's best match (the same 宛名番号,
#: dates and 抽出日; the ledger's code column says which rows) …
LEDGER_SHARE = 0.75


def split_ledgers(matched: list[tuple[FileProfile, list[Match]]], source: Source) -> None:
    """A contract file of ``source`` that no delivered file became, but that fits a delivered file's columns nearly
    as well as that file's best match does (its required ids found by header): the file may be one ledger whose code
    column partitions its rows into several contract files (資格種別 11–13 障害者手帳, 21 障害児受給者証, 31
    障がい者医療). The match is added to the file's matches as a split on that column, its ``where`` left to a person
    (the code table says which values go where). In place; a file without a code column no header names is not split."""
    taken = {m.spec.file for _, ms in matched for m in ms}
    for spec in source.files:
        if spec.file in taken:
            continue
        fits = [
            (match(p, spec), ms)
            for p, ms in matched
            if ms and not ms[0].moved_from and _ledger_column(ms, 1) is not None
        ]
        fits = [(o, ms) for o, ms in fits if supported(o, ids_only=True) and o.score >= LEDGER_SHARE * ms[0].score]
        if not fits:
            continue
        o, ms = max(fits, key=lambda f: f[0].score)
        ms.append(o)
        column = ms[0].split_on or _ledger_column(ms, 0)
        for m in ms:
            m.split_on = column
            m.together = [x.spec for x in ms if x is not m]
        taken.add(spec.file)


def _ledger_column(ms: list[Match], more: int) -> ColumnProfile | None:
    """The code column a file's ``ms`` (and ``more`` contract files) split on: one split already, else a code column
    of as many values that no match finds by its header."""
    if ms[0].split_on is not None:
        return ms[0].split_on if ms[0].split_on.distinct >= len(ms) + more else None
    named = {n for m in ms for a in m.assigns if a.source is not None and a.score >= 0.5 for n in positions(a.source)}
    return next(
        (
            c
            for c in ms[0].profile.columns
            if c.kind == "code" and c.position not in named and c.distinct >= len(ms) + more
        ),
        None,
    )


def choose_source(profiles: list[FileProfile], registry: dict[str, Source], named: str | None) -> Source:
    if named:
        return registry[named]
    folders = {p.path.resolve().parent.name for p in profiles}
    if len(folders) == 1 and (folder := folders.pop()) in registry:
        return registry[folder]
    return max(
        registry.values(),
        key=lambda s: sum(max((match(p, f).score for f in s.files), default=0) for p in profiles),
    )


def contract_values(col: ColumnSpec, prof: ColumnProfile) -> bool:
    """Every delivered value is already a contract value (性別 1/2): no code map is needed."""
    if col.base_type == "code":
        known = {normalise_code(v) for pair in col.codes.items() for v in pair}
    elif col.base_type == "flag":
        known = {normalise_code(v) for v in col.flag_labels}
    else:
        return False
    return bool(prof.values) and not prof.overflow and all(normalise_code(v) in known for v in prof.values)


#: Two adjacent codes are one value in two parts when their rows hold at most this share of all combinations.
DEPENDENT_SHARE = 0.75


def code_partner(m: Match, a: Assign) -> ColumnProfile | None:
    """The code column next to ``a``'s code column that no other contract column reads and whose values depend on
    it (ワクチン種類 + 接種区分 → one ワクチン 'MR 1期'): their rows hold more pairs of values than either code has
    values (the second tells something the first does not), but far fewer than every combination (each vaccine its
    own doses). Two independent codes hold nearly every combination and are not joined."""
    prof = a.source
    if prof is None or prof.parts or prof.kind != "code" or prof.overflow or a.column.base_type not in ("text", "code"):
        return None
    used = {n for x in m.assigns if x.source is not None for n in positions(x.source)}
    by_position = {c.position: c for c in m.profile.columns}
    for nb in (by_position.get(prof.position + 1), by_position.get(prof.position - 1)):
        if nb is None or nb.kind != "code" or nb.overflow or nb.filler or nb.position in used:
            continue
        pairs = m.profile.pairs.get(min(prof.position, nb.position), 0)
        if max(prof.distinct, nb.distinct) < pairs <= DEPENDENT_SHARE * prof.distinct * nb.distinct:
            return nb
    return None


def width_form(col: ColumnSpec, prof: ColumnProfile) -> str | None:
    """The ``normalize:`` a text column needs to hold what the contract holds (half-width letters and digits): ``width``
    when values carry full-width ones (２丁目２７番), ``nfkc`` when most of those also have a 全角 space next to one
    (ＭＲ　１期 → MR 1期); None for a kana column (half-width kana is delivered as it is) or half-width values."""
    if col.base_type != "text" or prof.kind == "kana" or not prof.wide_ascii:
        return None
    return "nfkc" if prof.wide_space * 2 > prof.wide_ascii else "width"


def known_values(col: ColumnSpec) -> set[str]:
    """A code or flag column's contract values (codes and labels), as compared."""
    if col.base_type == "code":
        return {normalise_code(v) for pair in col.codes.items() for v in pair}
    if col.base_type == "flag":
        return {normalise_code(v) for v in col.flag_labels}
    return set()


def personal(col: ColumnSpec | None) -> bool:
    return col is not None and col.base_type in PERSONAL_TYPES


def q(value) -> str:
    """A YAML scalar in double quotes (JSON's quoting is valid YAML)."""
    return json.dumps(str(value), ensure_ascii=False)
