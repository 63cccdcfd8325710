"""One delivered ledger whose code column partitions its rows into several contract files (the layout-b trial: a
資格 ledger with 資格種別 → 障害者手帳 / 障害児受給者証 / 障がい者医療): the draft proposes the split, its ``where``
left as a TODO for a person to fill from the department's code table. Small synthetic files written here; values
are never asserted on or printed."""

from __future__ import annotations

import random
import re
from pathlib import Path

from mimamori.sources.draft import best_matches, choose_source
from mimamori.sources.drafttext import render_draft
from mimamori.sources.scan import profile_file

HEADER = ["宛名番号", "資格種別", "証番号", "等級", "発達障害", "資格開始日", "資格終了日", "作成日"]


def _ledger(n: int = 120, kind: bool = True) -> list[list[str]]:
    rng = random.Random(9)
    rows = []
    for i in range(n):
        start = f"20{rng.randrange(10, 26)}{rng.randrange(1, 13):02d}{rng.randrange(1, 28):02d}"
        end = rng.choice(["", f"2027{rng.randrange(1, 13):02d}{rng.randrange(1, 28):02d}"])
        code = rng.choice(["11", "12", "13", "21", "31"])
        rows.append(
            [f"41{i:08d}", code, f"{rng.randrange(10**6, 10**7)}", rng.choice(["1", "2", "3", ""]), "0", start, end]
            + ["20261101"]
        )
    if not kind:
        return [[h for h in HEADER if h != "資格種別"]] + [r[:1] + r[2:] for r in rows]
    return [HEADER, *rows]


def _draft(tmp_path: Path, registry, rows: list[list[str]]) -> str:
    path = tmp_path / "SHIKAKU_202610.csv"
    path.write_bytes(("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("cp932"))
    profile = profile_file(path, quiet=True)
    src = choose_source([profile], registry, "fukushi")
    return render_draft(src, [(profile, best_matches(profile, src))])


def _outputs(text: str) -> dict[str, str]:
    """Contract file → its output block in the draft."""
    blocks = re.split(r"(?m)^(?=  - file: )", text.split("\noutputs:\n", 1)[1])
    return {re.match(r"  - file: (\S+)", b)[1]: b for b in blocks if b.startswith("  - file: ")}


def test_a_ledger_partitioned_by_a_code_is_drafted_as_a_split_with_where_todos(tmp_path, registry):
    outputs = _outputs(_draft(tmp_path, registry, _ledger()))
    split = {"障害者手帳.csv", "障害児受給者証.csv", "障がい者医療.csv"}
    assert split <= set(outputs), sorted(outputs)
    for file in split:
        where = [ln for ln in outputs[file].splitlines() if ln.strip().startswith("where:")]
        assert len(where) == 1 and "資格種別" in where[0] and "TODO" in where[0], file
        assert re.search(r"(?m)^    from: SHIKAKU\b", outputs[file]), file
    assert "要介護認定.csv" not in outputs and "生活保護.csv" not in outputs  # other contract files: no split


def test_a_ledger_without_a_code_column_is_not_split(tmp_path, registry):
    outputs = _outputs(_draft(tmp_path, registry, _ledger(kind=False)))
    assert "where:" not in "".join(outputs.values())
