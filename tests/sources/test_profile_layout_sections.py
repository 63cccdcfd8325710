"""A department's one layout document for all its files (issue 21, both trials' ``vendor/docs/レイアウト定義書_*.csv``): a
file-name column (ファイル名 / ファイルID) says which rows are which file's fields, the names written with a placeholder
for the date (``JUKI<年月日>.DAT``, ``JUKI_YYYYMMDD.DAT``, ``JUKI_*.DAT``). ``profile --layout`` read such a document
as one file's and stopped (a field name used twice); now each file's section is applied to the delivered file of that
name that needs it (fixed width, a CSV without a header), and a CSV with its own header row keeps it. Small synthetic
files written here; no value is asserted or printed."""

from __future__ import annotations

import random

import pytest
from mimamori.ingest.registry import load_registry
from mimamori.sources.draft import best_matches
from mimamori.sources.drafttext import render_draft
from mimamori.sources.layoutdoc import LayoutDocError, read_layouts
from mimamori.sources.scan import profile_with_layouts
from test_profile_layout import SURNAMES, _csv_doc, _fixed_file, _starts, _xlsx_doc
from test_sources_cli import _run as run_sources

HEADERLESS = [("宛名番号", "数字", 10), ("漢字氏名", "文字", None), ("性別", "コード", 1), ("転入年月日", "日付", None)]
HEADED = [("宛名番号", "数字", 10), ("受診年月日", "日付", None), ("抽出日", "日付", None)]

#: (file-name column header, how the date in a file name is written)
SPELLINGS = {
    "ファイル名・<年月日>": ("ファイル名", "<年月日>"),
    "ファイルID・YYYYMMDD": ("ファイルID", "YYYYMMDD"),
    "ファイル・＊": ("ファイル", "＊"),
}


def _files(tmp_path):
    fixed, _ = _fixed_file(tmp_path)  # JUKI_20331101.DAT: HDR/TRL, 52 bytes, the fields of _starts()
    rng = random.Random(4)
    headerless = fixed.parent / "JUMIN_20331101.csv"
    _csv_doc(
        headerless,
        [
            [f"{7300000000 + 17 * i:010d}", rng.choice(SURNAMES), rng.choice("12"), f"2033{rng.randrange(1, 13):02d}01"]
            for i in range(30)
        ],
    )
    headed = fixed.parent / "KENSHIN_20331101.csv"
    _csv_doc(
        headed,
        [["宛名番号", "受診日", "作成日"], *[[f"{7400000000 + i:010d}", "20331001", "20331101"] for i in range(30)]],
    )
    return fixed, headerless, headed


def _doc(file_header: str, date: str) -> list[list]:
    rows = [[file_header, "レコード区分", "項番", "項目名", "型", "桁数（バイト）", "開始位置", "備考"]]
    name = f"JUKI_{date}.DAT"
    rows.append([name, "1", "", "", "", "", "", "ヘッダレコード"])
    rows += [[name, "2", i, n, "X", k, s, ""] for i, (n, s, k) in enumerate(_starts(), 1)]
    rows.append([name, "9", "", "", "", "", "", "トレーラレコード"])
    for file, fields in (
        (f"JUMIN_{date}.csv", HEADERLESS),
        (f"KENSHIN_{date}.csv", HEADED),
        (f"GAKKO_{date}.csv", HEADED),
    ):
        rows += [[file, "", i, n, t, k or "", "", ""] for i, (n, t, k) in enumerate(fields, 1)]
    return rows


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_each_file_takes_its_own_section_of_one_document(tmp_path, spelling, kind):
    fixed, headerless, headed = _files(tmp_path)
    doc = tmp_path / f"レイアウト定義書.{kind}"
    (_csv_doc if kind == "csv" else _xlsx_doc)(doc, _doc(*SPELLINGS[spelling]))
    sections = read_layouts(doc)
    assert len(sections) == 4, spelling
    profiles = {p.path.name: p for p in profile_with_layouts([fixed, headerless, headed], sections, quiet=True)}
    p = profiles[fixed.name]
    assert (
        p.format == "fixed"
        and p.layout_doc
        and [(c.header, c.start, c.end) for c in p.columns]
        == [(c.header, s, s + k - 1) for c, (_, s, k) in zip(p.columns, _starts(), strict=True)]
    )
    assert [c.header for c in p.columns][:3] == [n for n, _, _ in _starts()][:3]
    p = profiles[headerless.name]
    assert not p.header and p.layout_doc and [c.header for c in p.columns] == [n for n, _, _ in HEADERLESS]
    p = profiles[headed.name]
    assert p.header and p.layout_doc is None and [c.header for c in p.columns] == ["宛名番号", "受診日", "作成日"]
    source = load_registry(None)["jumin"]
    draft = render_draft(source, [(profiles[fixed.name], best_matches(profiles[fixed.name], source))])
    assert "      - {name: 漢字氏名, start: 21, length: 20}" in draft


def test_a_document_whose_files_are_none_of_the_delivered_is_said_so(tmp_path):
    fixed, headerless, headed = _files(tmp_path)
    doc = tmp_path / "レイアウト定義書.csv"
    _csv_doc(
        doc, [[r[0].replace("JUKI_", "YOBO_").replace("JUMIN_", "X_"), *r[1:]] for r in _doc("ファイル名", "<年月日>")]
    )
    sections = read_layouts(doc)
    with pytest.raises(LayoutDocError, match="に合うファイルがありません"):
        profile_with_layouts([fixed, headerless], [s for s in sections if "KENSHIN" not in (s.file or "")], quiet=True)


def test_the_command_takes_a_department_document(tmp_path):
    fixed, _, _ = _files(tmp_path)
    doc = tmp_path / "レイアウト定義書.csv"
    _csv_doc(doc, _doc("ファイル名", "<年月日>"))
    done = run_sources("profile", "--source", "jumin", "--quiet", "--layout", doc, fixed.parent)
    assert done.returncode == 0, done.stderr[-1500:]
    assert "      - {name: 漢字氏名, start: 21, length: 20}" in done.stdout
