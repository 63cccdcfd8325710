"""Cells that hold a code and its label ("1:男", "101:見守第一小学校", "1 要保護", "さくら保育園（P01）"), found by
``sources profile`` and drafted as ``extract: code`` / ``extract: label`` (docs/onboarding.md, 列の作り方).

:class:`Pairs` counts, per column, the values of that shape (the same patterns ``extract: code`` / ``label`` read, so a
drafted extract takes every value counted); it keeps the distinct codes and labels only while they are few, to compare
them with the contract's values — never to show a label. Only codes that pass :func:`shown_pair_codes` (short ASCII
letters and digits, like the code rule of :meth:`mimamori.sources.profile.ColumnProfile.shown_codes`) are printed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from mimamori.sources.mapping import EXTRACT_SHORTCUTS, extract_part, normalise_code

#: A column is "code + separator + label" when at least this share of its non-blank values has the shape.
PAIR_SHARE = 0.95
#: Distinct codes / labels kept (beyond that the column is no code list, and labels are not compared).
KEEP = 40
_CODE = tuple(re.compile(p) for p in EXTRACT_SHORTCUTS["code"])
_LABEL = tuple(re.compile(p) for p in EXTRACT_SHORTCUTS["label"])
_BRACKETED = re.compile(r"[:：(（]")


def split_pair(value: str) -> tuple[str, str] | None:
    """``(code, label)`` of a cell of that shape, else None. ASCII words apart ("John Smith") are no code and label."""
    code, label = extract_part(_CODE, value), extract_part(_LABEL, value)
    if code is None or label is None:
        return None
    if label.isascii() and not _BRACKETED.search(value):
        return None
    return code, label


@dataclass
class Pairs:
    hits: int = 0
    codes: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)
    overflow: bool = False

    def add(self, value: str) -> None:
        pair = split_pair(value)
        if pair is None:
            return
        self.hits += 1
        code, label = pair
        if (code in self.codes or len(self.codes) < KEEP) and (label in self.labels or len(self.labels) < KEEP):
            self.codes[code] += 1
            self.labels[label] += 1
        else:
            self.overflow = True

    def found(self, rows: int) -> bool:
        return rows >= 2 and self.hits >= PAIR_SHARE * rows


def contract_part(known: set[str], pairs: Pairs) -> str | None:
    """``label`` when every label is a contract value (``known``, in normalise_code form), else ``code`` when every
    code is, else None."""
    if pairs.overflow or not pairs.codes:
        return None
    if all(normalise_code(v) in known for v in pairs.labels):
        return "label"
    if all(normalise_code(v) in known for v in pairs.codes):
        return "code"
    return None


def shown_pair_codes(pairs: Pairs) -> list[str] | None:
    """The code parts, when each is a short code (1–4 ASCII letters/digits, found in two rows or more, at most 12)."""
    if pairs.overflow or not pairs.codes or len(pairs.codes) > 12:
        return None
    for code, count in pairs.codes.items():
        if count < 2 or not re.fullmatch(r"[0-9A-Za-z]{1,4}", code):
            return None
    return sorted(pairs.codes)


def draft_pair_column(lines, pad: str, key: str, src: str, col, prof, note: str, targets: str, known: set[str]) -> None:
    """The draft's lines for a contract column fed by a "code + label" column (``lines.add(text, comment)``)."""
    pairs, rows = prof.pairs, prof.rows
    shape = f"値は「コード＋区切り＋名称」の形（{pairs.hits}/{rows}件）"
    rest = rows - pairs.hits
    miss = f"。形に合わない{rest}件は check で extract_mismatch（課のレイアウト定義書で確かめる）" if rest else ""
    if col.base_type == "text":
        lines.add(
            f"{key} {{from: {src}, extract: label}}",
            f"TODO 確認: {shape}。コードを外して名称だけを読みます{miss}。同じ学校・施設などは、どのファイルでも同じ"
            "文字列に（docs/contract/values.md）。コードのまま読むなら extract を消す · " + note,
        )
        return
    part = contract_part(known, pairs)
    if part is not None:
        what = "名称" if part == "label" else "コード"
        lines.add(f"{key} {{from: {src}, extract: {part}}}", f"{shape}。{what}がすべて契約の値{miss} · " + note)
        return
    lines.add(key, note)
    lines.add(f"{pad}  from: {src}")
    lines.add(f"{pad}  extract: code", f"{shape}。コードを取り出してコード表で引きます{miss}")
    shown = shown_pair_codes(pairs)
    if shown is None:
        lines.add(
            f"{pad}  codes: {{}}",
            f"TODO コード{len(pairs.codes)}種類{'以上' if pairs.overflow else ''}。値は表示しません。元のシステムのコード表から"
            f" {{コード: 契約の値}} を書く（契約の値: {targets}）",
        )
    else:
        lines.add(f"{pad}  codes:", f"コード {len(shown)}種類。それぞれに契約の値（{targets}）を書く")
        for v in shown:
            lines.add(f'{pad}    "{v}":', "TODO 契約の値を書く")
    if prof.blanks and (col.required or col.base_type == "flag"):
        lines.add(f'{pad}  blank: ""', f"TODO 空欄（{prof.blanks}件）のときの契約の値（{targets}）を書く")
