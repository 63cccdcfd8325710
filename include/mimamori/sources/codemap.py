"""A draft's ``codes:`` map proposed from a department's code table (``profile --codes``, docs/onboarding.md).

:func:`attach` finds, for each delivered column matched to a contract code, flag or text column, the code table
(:mod:`mimamori.sources.codetable`) it is written in — by name (the column's header or layout name, the contract
column's header and its synonyms: 性別 → 性別コード, ｶｲｺﾞﾄﾞ → 介護度 through 要介護度) and by codes (the column's
values are the table's; a table none of whose codes the column holds is not its table) — and :func:`propose`
turns each code into a line of the map:

- a ``code:`` column: the contract value the label is (NFKC, width); a label that holds a contract value only
  with more words (「A（重度）」, 「4か月児健康診査」), or the note column (備考) that is one, is proposed with a
  TODO 確認; a label that is no contract value is a TODO with an empty target (``check`` fails on it);
- a ``flag`` column: 有/無 from labels like 有/無/あり/なし/該当/非該当 (after the words all labels share:
  一時保護あり → あり); a label that only contains such a word (訪問済, 要精密検査) is proposed with a TODO 確認;
  one that says neither (未受診, 不明) is a TODO;
- a ``text`` column (続柄, 等級, 学校): the label as it is, with a TODO 確認 on the map;
- a delivered value the table lacks is a TODO too (shown only where the profile's rule shows the column's codes).

Codes and labels are the table's; no delivered value is written except by that rule.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from mimamori.ingest.registry import ColumnSpec
from mimamori.sources.codetable import CodeTable, Entry, key
from mimamori.sources.draft import _key, personal, readings, synonyms
from mimamori.sources.mapping import normalise_code
from mimamori.sources.profile import ColumnProfile

#: Words a table's name carries besides what it names: 性別コード, 等級コード, 支援措置区分, 福祉相談種別.
_AFFIXES = re.compile(r"(コード表|コード|cd|code|区分|種別|有無|記載|状況|種類|名称|一覧|表)$|^(福祉|児童|学校)")
#: Flag words: exact (after the labels' shared words), then contained. No before yes (非該当 holds 該当).
_NO_WORDS = (
    "非該当",
    "該当なし",
    "対象外",
    "不要",
    "なし",
    "無し",
    "無",
    "ない",
    "いいえ",
    "否",
    "×",
    "no",
    "false",
    "未",
)
_YES_WORDS = ("該当", "あり", "有り", "有", "ある", "はい", "要", "済", "対象", "○", "〇", "yes", "true")
#: A table named like the column is its table only when it holds at least this share of the column's values.
MIN_COVERAGE = 0.5
#: Labels that say neither yes nor no (a blank 「未受診」 is not 無).
_UNKNOWN = re.compile(r"不明|未受診|未回答|未実施|未記入|未確認|未入力|未把握|不詳")


@dataclass
class Line:
    code: str  # the key as written ("" = the blank line)
    target: str  # "" = a person writes it
    note: str
    todo: bool
    label: str = ""  # the table's label, as written


@dataclass
class Proposal:
    table: CodeTable
    by_values: bool  # found by its codes alone (no name matches): a TODO 確認 on the map
    lines: list[Line] = field(default_factory=list)
    blank: Line | None = None
    missing: int = 0  # delivered values the table lacks
    missing_shown: list[str] = field(default_factory=list)
    unsure_all: bool = False  # overflow: whether every delivered value is in the table cannot be told
    text: bool = False


def _stem(k: str) -> str:
    prev = None
    while prev != k and len(k) > 2:
        prev, k = k, _AFFIXES.sub("", k) or k
    return k


def name_score(table: str, names: list[tuple[str, float]]) -> float:
    """How well a table's name names a column known by ``names`` (name, weight)."""
    t_full, t = _key(table), key(table)
    t_stem = _stem(t)
    best = 0.0
    for name, weight in names:
        for n in {_key(name), *readings(name)} if name else ():
            if n in (t_full, t):
                s = 1.0
            elif _stem(n) == t_stem:
                s = 0.9
            elif min(len(n), len(t)) >= 2 and (t in n or n in t):
                s = 0.7
            else:
                continue
            best = max(best, s * weight)
    return best


def _spelling(values: set[str], codes: list[str]):
    """How the table's codes are spelled as delivered: zero padding added or dropped (01 ↔ 1) when every digit
    value of the column is one of the table's digit codes only so."""
    digits = {v for v in values if v.isdigit()}
    tcodes = [c for c in codes if c]
    if not digits or not tcodes or not all(c.isdigit() for c in tcodes):
        return lambda c: c
    tset, tint = set(tcodes), {int(c) for c in tcodes}
    if not any(d not in tset and int(d) in tint for d in digits):
        return lambda c: c
    lens = {len(d) for d in digits}
    if len(lens) == 1 and any(d.startswith("0") for d in digits):
        width = lens.pop()
        return lambda c: str(int(c)).zfill(width) if c.isdigit() else c
    return lambda c: str(int(c)) if c.isdigit() else c


def coverage(table: CodeTable, prof: ColumnProfile) -> float:
    values = {normalise_code(v) for v in prof.values}
    if not values:
        return 1.0
    spell = _spelling(values, [e.code for e in table.entries])
    codes = {spell(e.code) for e in table.entries}
    return sum(v in codes for v in values) / len(values)


def find_table(col: ColumnSpec, prof: ColumnProfile, tables: list[CodeTable]) -> tuple[CodeTable, bool] | None:
    """The column's table and whether it was found by its codes alone."""
    names = [(prof.header or "", 1.0), (col.header, 0.95), *((s, 0.9) for s in synonyms().get(col.column, ()))]
    ranked = []
    for t in tables:
        s = name_score(t.name, names)
        cov = coverage(t, prof)
        if col.base_type in ("text", "int") and (s < 0.9 or cov < 1.0):
            continue  # a text column (組, 続柄) takes a table only by its own name and with all of its values
        if s and (cov >= MIN_COVERAGE or not prof.values):
            ranked.append((round(cov, 1), s, -tables.index(t), t))
    if ranked:
        return max(ranked, key=lambda r: r[:3])[3], False
    if col.base_type not in ("code", "flag") or not prof.values:
        return None
    fits = []
    for t in tables:
        if coverage(t, prof) == 1.0:
            fit = _fit(col, t)
            if fit > 0:
                fits.append((fit, t))
    fits.sort(key=lambda f: -f[0])
    if fits and (len(fits) == 1 or fits[0][0] > fits[1][0]):
        return fits[0][1], True
    return None


def _fit(col: ColumnSpec, table: CodeTable) -> float:
    """How many of the table's labels are the contract column's values (1 each; 0.5 when only contained)."""
    lines = _lines(col, table, lambda c: c)
    return sum(0 if not ln.target else (0.5 if ln.todo else 1.0) for ln in lines) / max(len(lines), 1)


def propose(col: ColumnSpec, prof: ColumnProfile, tables: list[CodeTable]) -> Proposal | None:
    found = find_table(col, prof, tables)
    if found is None:
        return None
    table, by_values = found
    values = {normalise_code(v) for v in prof.values}
    spell = _spelling(values, [e.code for e in table.entries])
    out = Proposal(table, by_values, text=col.base_type in ("text", "int"))
    for ln in _lines(col, table, spell):
        if ln.code == "":
            out.blank = ln
        else:
            out.lines.append(ln)
    codes = {ln.code for ln in out.lines}
    missing = sorted(v for v in values if v not in codes)
    out.missing = len(missing)
    out.unsure_all = prof.overflow
    shown = prof.shown_codes(personal=personal(col), code_column=col.base_type in ("code", "flag"))
    if missing and shown is not None:
        out.missing_shown = missing
    return out


def _lines(col: ColumnSpec, table: CodeTable, spell) -> list[Line]:
    entries = _unique(table.entries)
    if col.base_type == "flag":
        return _flag_lines(col, entries, spell)
    out = []
    for e in entries:
        code = spell(e.code)
        if col.base_type == "int":
            label = e.labels[0] if e.labels else ""
            numbers = re.findall(r"\d+", normalise_code(label))
            if len(numbers) == 1:
                out.append(Line(code, str(int(numbers[0])), f"「{label}」の数字", False))
            else:
                out.append(Line(code, "", f"TODO コード表の「{label}」から数を1つに決められません。数を書く", True))
            continue
        if col.base_type == "text":
            label = unicodedata.normalize("NFKC", e.labels[0]) if e.labels else ""
            extra = f" · 備考「{e.labels[1]}」: 確かめる" if len(e.labels) > 1 else ""
            out.append(Line(code, label, f"「{e.labels[0] if e.labels else ''}」{extra}", bool(extra) or not label))
            continue
        out.append(_code_line(col, e, code))
    return out


def _unique(entries: list[Entry]) -> list[Entry]:
    seen, out = set(), []
    for e in entries:
        if e.code not in seen:
            seen.add(e.code)
            out.append(e)
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", normalise_code(text))


def _code_line(col: ColumnSpec, e: Entry, code: str) -> Line:
    values = {}
    for c, lab in col.codes.items():
        values[_norm(c)] = lab
        values[_norm(lab)] = lab
    label = e.labels[0] if e.labels else ""
    if _norm(label) in values:
        return Line(code, values[_norm(label)], f"「{label}」", False)
    for i, text in enumerate(e.labels):
        what = "備考" if i else "ラベル"
        n = _norm(text)
        if n in values:
            return Line(code, values[n], f"TODO 確認: {what}の「{text}」が契約の値です。この値か確かめる", True)
        bare = _norm(re.sub(r"[\(（\[［].*?[\)）\]］]", "", text))
        inside = {lab for v, lab in values.items() if v and v in n}
        if bare in values:
            inside = {values[bare]}
        if len(inside) == 1:
            target = inside.pop()
            return Line(
                code,
                target,
                f"TODO 確認: コード表の「{text}」を「{target}」と見ました（{what}に含まれる）。違えば直す",
                True,
            )
        if len(inside) > 1:
            return Line(
                code,
                "",
                f"TODO コード表の「{text}」には契約の値 {'・'.join(sorted(inside))} が含まれます。どれか書く",
                True,
            )
    return Line(
        code,
        "",
        f"TODO コード表の「{label}」は契約の値（{_targets(col)}）のどれでもありません。"
        "当たる値を書くか、この値の行が来ないならこの行を消す",
        True,
    )


def _targets(col: ColumnSpec) -> str:
    if col.base_type == "flag":
        return "/".join(col.flag_labels)
    return "・".join(f"{c}={lab}" if c != lab else c for c, lab in col.codes.items())


def _shared(labels: list[str]) -> tuple[int, int]:
    """The length of the prefix and of the suffix all labels share (一時保護あり/一時保護なし → 4, 0)."""
    if len(labels) < 2:
        return 0, 0
    pre = len(_common([*labels]))
    suf = len(_common([lab[::-1] for lab in labels]))
    return pre, suf


def _common(texts: list[str]) -> str:
    out = texts[0]
    for t in texts[1:]:
        while not t.startswith(out):
            out = out[:-1]
    return out


def _polarity(word: str) -> str | None:
    w = word.lower()
    if w in _NO_WORDS:
        return "no"
    if w in _YES_WORDS:
        return "yes"
    return None


def _flag_lines(col: ColumnSpec, entries: list[Entry], spell) -> list[Line]:
    yes, no = col.flag_labels
    labels = [_norm(e.labels[0]) if e.labels else "" for e in entries]
    pre, suf = _shared([lab for lab in labels if lab])
    out: list[Line] = []
    for e, lab in zip(entries, labels, strict=True):
        code, shown = spell(e.code), e.labels[0] if e.labels else ""
        if not lab:
            out.append(Line(code, "", f"TODO コード表に内容がありません。契約の値（{yes}/{no}）を書く", True))
            continue
        core = lab[pre : len(lab) - suf] if len(lab) > pre + suf else lab
        pol = _polarity(lab) or _polarity(core)
        if pol:
            out.append(Line(code, yes if pol == "yes" else no, f"「{shown}」", False))
            continue
        if _UNKNOWN.search(lab) and any(w in lab for w in _NO_WORDS if w != "未"):
            out.append(
                Line(
                    code,
                    no,
                    f"TODO 確認: コード表の「{shown}」を{no}と見ました（{_UNKNOWN.search(lab)[0]}も含む）。"
                    "違えば直すか、空欄のままにするならこの行を消す",
                    True,
                )
            )
            continue
        if _UNKNOWN.search(lab):
            out.append(
                Line(
                    code,
                    "",
                    f"TODO コード表の「{shown}」は{yes}とも{no}とも言えないかもしれません。契約の値を書くか、"
                    + ("空欄のままにするならこの行を消す" if code == "" else "この行を消す"),
                    True,
                )
            )
            continue
        pol = next((p for w in _NO_WORDS if w in lab for p in ["no"]), None) or next(
            (p for w in _YES_WORDS if w in lab for p in ["yes"]), None
        )
        if pol is None and _norm(col.header) in lab:
            pol = "yes"
        if pol:
            target = yes if pol == "yes" else no
            out.append(Line(code, target, f"TODO 確認: コード表の「{shown}」を{target}と見ました。違えば直す", True))
        else:
            out.append(Line(code, "", f"TODO コード表の「{shown}」が{yes}か{no}かを書く", True))
    for ln, e in zip(out, entries, strict=True):
        ln.label = e.labels[0] if e.labels else ""
    undecided = [ln for ln in out if not ln.target and not _UNKNOWN.search(ln.label)]
    decided = {ln.target for ln in out if ln.target}
    if undecided and len(decided) == 1 and sum(1 for ln in out if ln.target) == 1:
        # one code says yes (or no) and the others say neither: 00 措置なし / 01 経過観察, 02 精密健康診査 …
        seen = decided.pop()
        other = no if seen == yes else yes
        for ln in undecided:
            ln.target = other
            ln.note = f"TODO 確認: コード表の「{ln.label}」は、ほかのコードが{seen}のため{other}と見ました。違えば直す"
    return out


def attach(matched: list, tables: list[CodeTable]) -> None:
    """Each matched code, flag or (code-like) text column's proposal from ``tables``, on its
    :class:`~mimamori.sources.draft.Assign` (in place; a column already in contract values keeps none)."""
    from mimamori.sources.draft import contract_values

    if not tables:
        return
    attach_splits(matched, tables)
    for _, matches in matched:
        for m in matches:
            for a in m.assigns:
                prof, col = a.source, a.column
                if prof is None or a.from_file_name or col.base_type not in ("code", "flag", "text", "int"):
                    continue
                if col.base_type in ("text", "int") and prof.kind != "code":
                    continue
                if col.base_type == "int" and prof.digits == prof.rows:
                    continue  # numbers already
                if contract_values(col, prof):
                    continue
                proposal = propose(col, prof, tables)
                if proposal is not None and (col.base_type in ("code", "flag") or not proposal.by_values):
                    a.codes = proposal
            _rescue(m, tables)


def _bigrams(text: str) -> set[str]:
    k = _key(text)
    return {k[i : i + 2] for i in range(len(k) - 1)}


def _rescue(m, tables: list[CodeTable]) -> None:
    """A contract code or flag column no delivered column was found for, fed by a code column the match leaves
    unused whose code table (named by the column's header) turns every code into a contract value and whose name
    shares a word with the contract column's (事後措置 00 措置なし, 01 経過観察 … → 事後フォロー 有/無): proposed, to be
    confirmed (a flag of several codes is no two-valued column by shape alone)."""
    used = {a.source.position for a in m.assigns if a.source is not None}
    for a in m.assigns:
        col = a.column
        if a.source is not None or a.from_file_name or col.base_type not in ("code", "flag"):
            continue
        words = set().union(*(_bigrams(n) for n in (col.header, *synonyms().get(col.column, ()))))
        for prof in m.profile.columns:
            if prof.position in used or prof.kind != "code" or not prof.header:
                continue
            named = [t for t in tables if name_score(t.name, [(prof.header, 1.0)]) >= 0.9 and coverage(t, prof) == 1.0]
            if not named or not words & (_bigrams(prof.header) | _bigrams(named[0].name)):
                continue
            proposal = propose(col, prof, named[:1])
            if proposal is None or proposal.by_values or not proposal.lines:
                continue
            if any(not ln.target for ln in proposal.lines):
                continue
            a.source, a.score, a.codes = prof, 0.45, proposal
            a.why = f"コード表「{proposal.table.name}」のコードがすべて契約の値になる（見出しは一部だけ似ている）"
            used.add(prof.position)
            break


def code_report(matched: list, tables: list[CodeTable], passed: list[str]) -> str:
    """The screen's summary of ``--codes``: the tables read, and per delivered column the table used."""
    used: dict[int, list[str]] = {}
    out = [
        f"■ コード表: {len(tables)}個を読みました"
        + (f"（コード表でないファイル: {'、'.join(passed)}）" if passed else "")
    ]
    for p, matches in matched:
        for m in matches:
            for a in m.assigns:
                pr = a.codes
                if pr is None:
                    continue
                used.setdefault(id(pr.table), []).append(a.column.header)
                todo = sum(ln.todo for ln in pr.lines) + pr.missing + bool(pr.blank and pr.blank.todo)
                how = "値から推定・要確認" if pr.by_values else "名前と値で"
                out.append(
                    f"  {p.name} {a.source.label()} → {m.spec.file} {a.column.header}: コード表「{pr.table.name}」"
                    f"（{how}）、{len(pr.lines)}コード、TODO {todo}"
                )
    unused = [t.name for t in tables if id(t) not in used]
    if unused:
        out.append(f"  使わなかったコード表: {'、'.join(unused)}")
    return "\n".join(out) + "\n"


@dataclass
class SplitCodes:
    """The codes of a split column (資格種別, 制度) whose labels name this contract file (from its code table)."""

    table: CodeTable
    codes: list[tuple[str, str]]  # (code, label) for this contract file
    unassigned: list[tuple[str, str]]  # codes whose label names no file of the split, or several


def _file_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).rsplit(".", 1)[0]
    return re.sub(r"\s+", "", text.replace("障がい", "障害").replace("障碍", "障害"))


def _names_file(label: str, stem: str) -> bool:
    """The label holds the file's name, or its characters in order (ひとり親家庭等医療費助成 → ひとり親医療)."""
    label = _file_key(label)
    if stem in label:
        return True
    it = iter(label)
    return len(stem) >= 4 and all(ch in it for ch in stem)


def split_codes(prof: ColumnProfile, files: list[str], tables: list[CodeTable]) -> dict[str, SplitCodes]:
    """Per contract file of a split on ``prof``: the codes whose table label names that file (and no other)."""
    ranked = [(name_score(t.name, [(prof.header or "", 1.0)]), coverage(t, prof), t) for t in tables]
    ranked = [r for r in ranked if r[0] >= 0.9 and r[1] >= MIN_COVERAGE]
    if not ranked:
        return {}
    table = max(ranked, key=lambda r: r[:2])[2]
    spell = _spelling({normalise_code(v) for v in prof.values}, [e.code for e in table.entries])
    stems = {f: _file_key(f) for f in files}
    by_file: dict[str, list[tuple[str, str]]] = {f: [] for f in files}
    unassigned = []
    for e in _unique(table.entries):
        if not e.code:
            continue
        label = e.labels[0] if e.labels else ""
        named = [f for f, stem in stems.items() if any(_names_file(t, stem) for t in e.labels)]
        if len(named) == 1:
            by_file[named[0]].append((spell(e.code), label))
        else:
            unassigned.append((spell(e.code), label))
    return {f: SplitCodes(table, codes, unassigned) for f, codes in by_file.items() if codes}


def attach_splits(matched: list, tables: list[CodeTable]) -> None:
    """Each split's codes per contract file from the split column's code table (in place, on the matches)."""
    if not tables:
        return
    for _, matches in matched:
        split = [m for m in matches if m.split_on is not None]
        if not split:
            continue
        found = split_codes(split[0].split_on, [m.spec.file for m in split], tables)
        for m in split:
            m.split_codes = found.get(m.spec.file)
