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
import re
import unicodedata
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


@dataclass
class Match:
    profile: FileProfile
    spec: FileSpec
    assigns: list[Assign]
    score: float = 0.0
    split_on: ColumnProfile | None = None
    together: list[FileSpec] = field(default_factory=list)  # the other files of a split

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
    a = _bigrams(h)
    sim = max((_dice(a, _bigrams(k)) for k in {_key(col.header), *readings(col.header)}), default=0.0)
    return (0.6 * sim, "見出しが似ている") if sim >= 0.4 else (0.0, "")


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _bigrams(s: str) -> set[str]:
    return {s[i : i + 2] for i in range(len(s) - 1)} if len(s) > 1 else {s}


def compatible(col: ColumnSpec, prof: ColumnProfile) -> bool:
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


def _by_header(profile: FileProfile, spec: FileSpec) -> list[Assign]:
    pairs = []
    for col in spec.columns:
        for prof in profile.columns:
            if (prof.kind == "blank" and not prof.header) or prof.filler:
                continue
            ns, why = _name_score(prof.header or "", col)
            ok = compatible(col, prof) or prof.kind == "blank"
            if ns and ok:
                pairs.append((ns, col, prof, why))
            elif ns >= 0.85:
                pairs.append((0.3, col, prof, why + "、ただし値の形が合わない"))
            elif ok and prof.kind != "blank":
                pairs.append(_by_shape(col, prof))
    return _greedy(spec, pairs)


def constant_date(prof: ColumnProfile) -> bool:
    """Every row holds the same date (an extraction date: 抽出日 by its shape)."""
    return prof.kind == "date" and prof.distinct == 1 and not prof.overflow and prof.rows >= 2 and not prof.blanks


def _by_shape(col: ColumnSpec, prof: ColumnProfile) -> tuple:
    """A pair by the values' shape alone: a constant date is the extraction date, and unlikely any other."""
    if constant_date(prof):
        if col.column == "extracted_on":
            return 0.8, col, prof, "どの行も同じ日付（抽出日の形）"
        return 0.1, col, prof, "値の形だけが合う（見出しは似ていない。どの行も同じ日付）"
    return 0.2, col, prof, "値の形だけが合う（見出しは似ていない）"


def _greedy(spec: FileSpec, pairs: list) -> list[Assign]:
    chosen: dict[str, Assign] = {}
    used: set[int] = set()
    for score, col, prof, why in sorted(pairs, key=lambda p: (-p[0], p[2].position)):
        if col.column in chosen or prof.position in used:
            continue
        chosen[col.column] = Assign(col, prof, score, why)
        used.add(prof.position)
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
            a.score, a.from_file_name, a.why = 0.85, True, "ファイル名の日付（8桁）から"
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
    used = {a.source.position for a in m.assigns if a.source is not None}
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
        fits = [(match(p, spec), ms) for p, ms in matched if ms and _ledger_column(ms, 1) is not None]
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
    named = {a.source.position for m in ms for a in m.assigns if a.source is not None and a.score >= 0.5}
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
