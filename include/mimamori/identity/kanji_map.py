"""Generate ``dbt_project/seeds/identity/kanji_variants.csv`` (variant → canonical kanji).

    python -m mimamori.identity.kanji_map            # writes the seed
    python -m mimamori.identity.kanji_map --check    # verifies the domain examples only

Source: the MJ 縮退マップ (MJ shrink conversion map, 文字情報技術促進協議会 / IPA) as shipped in
jntajis-python 0.1.0, under its **法務省戸籍法関連通達・通知 scheme**
(``MJShrinkSchemeCombo.MOJ_FAMILY_REGISTER_ACT_RELATED_NOTICE``). The 法務省告示582号 scheme alone
folds none of 髙/﨑/邊, and the JIS包摂 scheme only a few, so the family-register scheme is the one
that fits names (domain.md §3).

Rules, so the map is a function and folding is idempotent:

1. for every code point of the CJK blocks (Ext. A, URO, compatibility ideographs, SIP) ask the map
   for its shrink candidates; drop the character itself; keep single characters only;
2. among the candidates prefer one in JIS X 0208 (level 1/2 kanji, what every system can store),
   else the first listed (e.g. 邉 → [辺, 邊] → 辺);
3. never fold a JIS X 0208 character to one outside it (the map also lists 徳 → 德);
4. follow the chain to its end (a canonical never maps further); a cycle folds to its smallest
   JIS X 0208 member;
5. a short hand-reviewed exclusion list (``EXCLUDED``: 功 ↛ 切);
6. characters the map does not touch are their own canonical and are not listed.

So 髙→高, 﨑→崎, 邊/邉→辺, 齋→斎, 齊→斉, 德→徳, while 斎 and 斉 stay different (they meet on kana).

Licence: jntajis-python's code is BSD-3-Clause; the map data it embeds (MJ文字一覧表, MJ縮退マップ) is
licensed **CC BY-SA 2.1 JP** by 文字情報技術促進協議会 (author IPA). The generated seed is a
derived database and is therefore distributed under **CC BY-SA 2.1 JP** with that attribution
(header comment in the seed YAML, docs/identity.md), separate from the project's code licence.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

SEED_PATH = Path(__file__).resolve().parents[3] / "dbt_project" / "seeds" / "identity" / "kanji_variants.csv"

CJK_RANGES = (
    (0x3400, 0x4DC0),  # CJK Extension A
    (0x4E00, 0xA000),  # CJK Unified Ideographs
    (0xF900, 0xFB00),  # CJK Compatibility Ideographs (﨑 U+FA11 …)
    (0x20000, 0x2FA20),  # SIP: Extensions B–F and compatibility supplement
)

#: domain.md §3: these must fold so; 斉 and 斎 must not meet.
EXPECTED = {"髙": "高", "﨑": "崎", "邊": "辺", "邉": "辺", "齋": "斎", "齊": "斉", "德": "徳"}
KEPT_APART = ("斉", "斎")

#: Entries of the map that fold one common name kanji into a different one; left out on purpose
#: (reviewed by hand: 功 'isao' → 切 comes from an MJ glyph variant, not a 旧字体/異体字 relation).
EXCLUDED = {"功"}


def _in_jis_x0208(ch: str) -> bool:
    try:
        ch.encode("shift_jis")  # Python's shift_jis is exactly JIS X 0208 (no 0212, no vendor extensions)
    except UnicodeEncodeError:
        return False
    return True


def build_map() -> dict[str, str]:
    """{variant: canonical} under the 戸籍法関連通達 scheme, chains resolved."""
    import jntajis

    scheme = jntajis.MJShrinkSchemeCombo.MOJ_FAMILY_REGISTER_ACT_RELATED_NOTICE
    direct: dict[str, str] = {}
    for lo, hi in CJK_RANGES:
        for cp in range(lo, hi):
            ch = chr(cp)
            try:
                candidates = jntajis.mj_shrink_candidates(ch, scheme)
            except Exception:  # noqa: BLE001 - characters outside the MJ table
                continue
            others = [c for c in dict.fromkeys(candidates) if c != ch and len(c) == 1]
            if not others or ch in EXCLUDED:
                continue
            preferred = [c for c in others if _in_jis_x0208(c)]
            if _in_jis_x0208(ch) and not preferred:
                continue  # never fold a JIS X 0208 character to a rarer one (徳 ↛ 德)
            direct[ch] = (preferred or others)[0]
    resolved: dict[str, str] = {}
    for variant, target in direct.items():
        path = [variant]
        while target in direct and target not in path:
            path.append(target)
            target = direct[target]
        if target in path:  # a cycle: its canonical is its smallest JIS X 0208 member
            cycle = path[path.index(target) :]
            target = min([c for c in cycle if _in_jis_x0208(c)] or cycle)
        if target != variant:
            resolved[variant] = target
    return resolved


def check(mapping: dict[str, str]) -> list[str]:
    problems = [
        f"{v} should fold to {c}, got {mapping.get(v, v)}" for v, c in EXPECTED.items() if mapping.get(v, v) != c
    ]
    a, b = (mapping.get(c, c) for c in KEPT_APART)
    if a == b:
        problems.append(f"{KEPT_APART[0]} and {KEPT_APART[1]} must stay different, both fold to {a}")
    if any(c in mapping for c in mapping.values()):
        problems.append("a canonical maps further (chains not resolved)")
    return problems


def write(mapping: dict[str, str], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["variant", "canonical"])
        for variant in sorted(mapping):
            writer.writerow([variant, mapping[variant]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimamori.identity.kanji_map", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=SEED_PATH, help=f"CSV to write (default {SEED_PATH})")
    parser.add_argument("--check", action="store_true", help="only verify the domain examples; write nothing")
    args = parser.parse_args(argv)
    mapping = build_map()
    problems = check(mapping)
    for p in problems:
        print("kanji map:", p, file=sys.stderr)
    if problems:
        return 1
    if not args.check:
        write(mapping, args.out)
        print(f"wrote {len(mapping)} variant → canonical pairs to {args.out}")
    else:
        print(f"ok: {len(mapping)} pairs; " + ", ".join(f"{v}→{c}" for v, c in EXPECTED.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
