"""A poor merge is not proposed (issue 21, the layout-b trial: 施設利用児童 — 児童宛名番号, 施設コード, 利用開始日,
利用終了日, 基準日 — was drafted as a merge into ひとり親医療.csv, which another export fits by every header, because
its 宛名番号 and dates have the shapes of that file's few columns; 保育所入所.csv, which no export became, was its
file). A file whose best contract file another export fits clearly better by header goes to a contract file no
export became, when that one fits it nearly as well — with a TODO to confirm; two exports alike stay one merge.
Small synthetic files written here, in several spellings; no value is asserted or printed."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from mimamori.sources.draft import best_matches, choose_source
from mimamori.sources.drafttext import render_draft
from mimamori.sources.scan import profile_file

#: (file name, header) of the export that belongs to 保育所入所.csv, in several vendors' spellings
FACILITY = {
    "b": ("施設利用児童_202610.csv", ["児童宛名番号", "施設コード", "利用開始日", "利用終了日", "基準日"]),
    "en": ("ENJI_RIYO_202610.csv", ["宛名番号", "園コード", "開始年月日", "終了年月日", "作成日"]),
    "kana": ("ｼｾﾂﾘﾖｳ_202610.csv", ["ｱﾃﾅNO", "ｼｾﾂCD", "ﾘﾖｳｶｲｼﾋﾞ", "ﾘﾖｳｼｭｳﾘｮｳﾋﾞ", "ﾁｭｳｼｭﾂﾋﾞ"]),
}
MEDICAL = ("ひとり親医療_資格者_202610.csv", ["宛名番号", "資格取得日", "資格喪失日", "抽出日"])


def _write(folder: Path, name: str, header: list[str], n: int, seed: int, code: bool) -> Path:
    rng = random.Random(seed)
    rows = [header]
    for i in range(n):
        start = f"20{rng.randrange(18, 26)}{rng.randrange(1, 13):02d}{rng.randrange(1, 28):02d}"
        end = rng.choice(["", "", f"2027{rng.randrange(1, 13):02d}{rng.randrange(1, 28):02d}"])
        middle = [rng.choice(["P01", "P02", "N01", "K01", "S01"])] if code else []
        rows.append([f"{31 + seed}{i:08d}", *middle, start, end, "20261002"])
    path = folder / name
    path.write_bytes(("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("cp932"))
    return path


def _outputs(text: str) -> dict[str, str]:
    """Contract file → its output block (the TODO lines of contract files no export became left out)."""
    blocks = re.split(r"(?m)^(?=  - file: |  # TODO )", text.split("\noutputs:\n", 1)[1])
    return {re.match(r"  - file: (\S+)", b)[1]: b for b in blocks if b.startswith("  - file: ")}


def _draft(paths: list[Path], registry) -> str:
    profiles = [profile_file(p, quiet=True) for p in paths]
    src = choose_source(profiles, registry, "kodomo_shien")
    return render_draft(src, [(p, best_matches(p, src)) for p in profiles])


@pytest.mark.parametrize("spelling", FACILITY)
def test_an_export_another_file_fits_better_goes_to_the_contract_file_no_export_became(tmp_path, registry, spelling):
    name, header = FACILITY[spelling]
    facility = _write(tmp_path, name, header, 80, 1, code=True)
    medical = _write(tmp_path, MEDICAL[0], MEDICAL[1], 90, 2, code=False)
    outputs = _outputs(_draft([facility, medical], registry))
    stem = name.split("_2026")[0]
    assert "保育所入所.csv" in outputs, (spelling, sorted(outputs))
    nursery = outputs["保育所入所.csv"]
    assert re.search(rf"(?m)^    from: \"?{re.escape(stem)}\"?\s", nursery), spelling
    assert "TODO 確認" in nursery.splitlines()[0], spelling  # a guess, said as one
    assert "- input:" not in outputs["ひとり親医療.csv"] and stem not in outputs["ひとり親医療.csv"], spelling


def test_two_exports_alike_stay_one_merge(tmp_path, registry):
    """Two facility exports of one layout (認可 and 地域型) are one contract file's rows: still a merge."""
    name, header = FACILITY["b"]
    a = _write(tmp_path, name, header, 80, 1, code=True)
    b = _write(tmp_path, "地域型_" + name, header, 30, 3, code=True)
    medical = _write(tmp_path, MEDICAL[0], MEDICAL[1], 90, 2, code=False)
    outputs = _outputs(_draft([a, b, medical], registry))
    merged = [f for f, block in outputs.items() if block.count("- input:") == 2]
    assert merged == ["保育所入所.csv"], sorted(outputs)


def test_the_command_draft_and_report_move_it_too(tmp_path):
    """Through ``bin/mimamori sources profile`` (which settles the files before its report): the same choice."""
    from test_sources_cli import _run as run_sources

    name, header = FACILITY["b"]
    _write(tmp_path, name, header, 80, 1, code=True)
    _write(tmp_path, MEDICAL[0], MEDICAL[1], 90, 2, code=False)
    done = run_sources("profile", "--source", "kodomo_shien", "--quiet", tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    outputs = _outputs(done.stdout)
    assert "保育所入所.csv" in outputs and "施設利用児童" in outputs["保育所入所.csv"], sorted(outputs)
    assert "施設利用児童" not in outputs["ひとり親医療.csv"]
    assert re.search(r"(?m)^ +\d+\. 施設コード: .*→ 保育所入所\.csv 施設名", done.stderr), (
        "the report names the same file"
    )
