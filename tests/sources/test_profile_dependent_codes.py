"""Two adjacent codes that are one contract value in two parts (issue 21, the layout-b trial's 予防接種: ワクチン種類 01–08
and 接種区分 01–04, the second's values depending on the first, stand together for one ワクチン 'MR 1期'): the draft
proposes ``from: [ワクチン種類, 接種区分], join: ""`` with a TODO to confirm (the code table gives each pair's value).
Two independent codes side by side (every combination occurs) are not joined. CSV, TSV and fixed width (positions from
a layout document). Small synthetic files; no value is asserted or printed (the profile keeps a count of pairs only)."""

from __future__ import annotations

import random
import re

import pytest
from mimamori.ingest.registry import load_registry
from mimamori.sources.draft import best_matches
from mimamori.sources.drafttext import render_draft
from mimamori.sources.layoutdoc import read_layout
from mimamori.sources.scan import profile_with_layouts
from test_profile_layout import _csv_doc

#: vaccine code → its dose codes (each vaccine its own doses)
DOSES = {"01": ["01", "02"], "02": ["01", "02", "03", "04"], "03": ["01"], "04": ["01", "02", "03"], "05": ["01", "02"], "06": ["01", "02", "03", "04"]}  # fmt: skip
SPELLINGS = {"種類・区分": ("ワクチン種類", "接種区分"), "コード・回数": ("ワクチンコード", "回数")}


def _rows(dependent: bool, n: int = 300) -> list[list[str]]:
    rng = random.Random(8)
    rows = []
    for i in range(n):
        vaccine = rng.choice(list(DOSES))
        dose = rng.choice(DOSES[vaccine]) if dependent else rng.choice(["01", "02", "03", "04"])
        rows.append([f"33{i:08d}", vaccine, dose, "20270331", rng.choice(["        ", "20261001"]), "20261002"])
    return rows


def _draft(tmp_path, spelling: str, dependent: bool, kind: str) -> str:
    first, second = SPELLINGS[spelling]
    header = ["宛名番号", first, second, "接種期限", "接種日", "処理日"]
    rows, docs = _rows(dependent), []
    if kind == "fixed":
        path = tmp_path / "YOBO_202610.DAT"
        path.write_bytes(("\r\n".join("".join(r) for r in rows) + "\r\n").encode("cp932"))
        doc = tmp_path / "layout.csv"
        _csv_doc(
            doc,
            [
                ["項目名", "開始位置", "桁数"],
                *[[h, s, k] for h, s, k in zip(header, [1, 11, 13, 15, 23, 31], [10, 2, 2, 8, 8, 8], strict=True)],
            ],
        )
        docs = [read_layout(doc)]
    else:
        sep = "\t" if kind == "tsv" else ","
        path = tmp_path / f"YOBO_202610.{kind}"
        path.write_bytes(
            ("\r\n".join(sep.join(c.strip() for c in r) for r in [header, *rows]) + "\r\n").encode("cp932")
        )
    (profile,) = profile_with_layouts([path], docs, quiet=True)
    source = load_registry(None)["kodomo_katei"]
    return render_draft(source, [(profile, best_matches(profile, source))])


def _block(draft: str) -> str:
    m = re.search(r"(?ms)^      ワクチン:.*?(?=^      \S)", draft)
    assert m, "no ワクチン line"
    return m[0]


@pytest.mark.parametrize("kind", ["csv", "tsv", "fixed"])
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_code_whose_values_depend_on_the_code_before_is_joined_with_it(tmp_path, spelling, kind):
    first, second = SPELLINGS[spelling]
    block = _block(_draft(tmp_path, spelling, True, kind))
    assert f"from: [{first}, {second}]" in block, (spelling, kind)
    assert re.search(r'(?m)^        join: ""\s+# TODO 確認', block), (spelling, kind)


@pytest.mark.parametrize("kind", ["csv", "fixed"])
def test_two_independent_codes_are_not_joined(tmp_path, kind):
    block = _block(_draft(tmp_path, "種類・区分", False, kind))
    assert "join" not in block and "from: ワクチン種類" in block, kind
