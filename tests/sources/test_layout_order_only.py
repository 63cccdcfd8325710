"""``profile --layout`` with a layout document that gives the order of the fields only (項番 and 項目名, type and
notes, but no 開始位置/桁数) — the common document for CSV exports — and with one document describing several files
(a ファイル名 column, or a title row 「ファイル名: …」 per file). Such a document names a headerless CSV's columns
in its 項番 order, confirms a file's own header (the report says how many columns agree), and is refused for a
fixed-width file with a message saying the positions are missing. Every value here is synthetic; none is printed."""

from __future__ import annotations

import random

import pytest
from mimamori.ingest.registry import load_registry
from mimamori.sources.draft import best_matches
from mimamori.sources.drafttext import render_draft, render_report
from mimamori.sources.layoutdoc import LayoutDocError, read_layout, read_layouts
from mimamori.sources.scan import profile_with_layouts
from test_profile_layout import SURNAMES, _csv_doc, _fixed_file, _xlsx_doc
from test_sources_cli import _run as run_sources

#: The 住民 export's fields as the document lists them: (項番, 項目名, 型, 備考).
JUMIN = [(1, "宛名番号", "数字", ""), (2, "漢字氏名", "文字", "全角"), (3, "性別", "コード", "1男2女"),
         (4, "転入年月日", "日付", "西暦8桁")]  # fmt: skip
#: A second file of the same department in the same document.
SETAI = [(1, "世帯番号", "英数字", ""), (2, "宛名番号", "数字", ""), (3, "続柄", "コード", "")]


def _jumin_rows(n: int = 30) -> list[list[str]]:
    rng = random.Random(11)
    return [
        [f"{7300000000 + 17 * i:010d}", rng.choice(SURNAMES), rng.choice("12"), f"2033{rng.randrange(1, 13):02d}01"]
        for i in range(n)
    ]


def _files(tmp_path, header: bool):
    """JUMIN_20331101.csv without a header, SETAI_20331101.csv with (or without) its header."""
    folder = tmp_path / "inbox" / "jumin"
    folder.mkdir(parents=True)
    jumin = folder / "JUMIN_20331101.csv"
    _csv_doc(jumin, _jumin_rows())
    setai = folder / "SETAI_20331101.csv"
    rows = [[f"H{2000000 + i:07d}", f"{7300000000 + 17 * i:010d}", "02"] for i in range(30)]
    _csv_doc(setai, ([[n for _, n, _, _ in SETAI]] if header else []) + rows)
    return jumin, setai


def _by_column(fields, file_name: str, shuffle: bool = True) -> list[list]:
    """Rows of a document with a ファイル名 column and empty 開始位置/桁数 columns; 項番 out of row order."""
    rows = [[file_name, "", no, name, kind, "", "", note] for no, name, kind, note in fields]
    return list(reversed(rows)) if shuffle else rows


HEADER = ["ファイル名", "レコード区分", "項番", "項目名", "型", "桁数（バイト）", "開始位置", "備考"]


def _per_column_doc() -> list[list]:
    return [HEADER, *_by_column(JUMIN, "JUMIN_<年月>.csv"), *_by_column(SETAI, "SETAI_YYYYMMDD.csv", shuffle=False)]


def _per_title_doc() -> list[list]:
    """A title row per file, the header repeated under each, a heading row between fields."""
    return [
        ["住民記録システム 外部出力項目一覧"],
        ["ファイル名：JUMIN_*.csv"],
        ["No", "項目名", "属性", "説明"],
        ["", "【基本】", "", ""],
        *[[no, name, kind, note] for no, name, kind, note in JUMIN],
        [],
        ["ファイル名", "SETAI_<作成日>.csv"],
        ["No", "項目名", "属性", "説明"],
        *[[no, name, kind, note] for no, name, kind, note in SETAI],
    ]


SHAPES = {
    "ファイル名の列・空の位置の列・CP932 CSV": ("csv", "cp932", _per_column_doc),
    "ファイル名の列・UTF-8 CSV": ("csv", "utf-8", _per_column_doc),
    "ファイル名の列・xlsx": ("xlsx", None, _per_column_doc),
    "ファイルごとの表題行・CP932 CSV": ("csv", "cp932", _per_title_doc),
    "ファイルごとの表題行・xlsx": ("xlsx", None, _per_title_doc),
}


def _write(tmp_path, shape: str):
    kind, encoding, rows = SHAPES[shape]
    doc = tmp_path / f"レイアウト定義書.{kind}"
    if kind == "xlsx":
        _xlsx_doc(doc, rows())
    else:
        _csv_doc(doc, rows(), encoding)
    return doc


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_document_of_several_files_in_order_only_names_each_file(tmp_path, shape):
    doc = _write(tmp_path, shape)
    parts = read_layouts(doc)
    assert [len(p.fields) for p in parts] == [4, 3] and not any(p.positions for p in parts)
    assert [f.name for f in parts[0].fields] == [n for _, n, _, _ in JUMIN], "項番 order, not row order"
    jumin, setai = _files(tmp_path, header=True)
    profiles = profile_with_layouts([jumin, setai], parts, quiet=True)
    by_name = {p.name: p for p in profiles}
    headerless, headed = by_name[jumin.name], by_name[setai.name]
    assert not headerless.header and headerless.layout_doc == doc.name
    assert [c.header for c in headerless.columns] == [n for _, n, _, _ in JUMIN]
    assert headed.header and headed.records == 30
    assert any("3/3列が同じ名前・同じ順番" in n for n in headed.notes), headed.notes
    source = load_registry(None)["jumin"]
    draft = render_draft(source, [(headerless, best_matches(headerless, source))])
    lines = {ln.split(":")[0].strip(): ln for ln in draft.splitlines() if ln.startswith("      ")}
    assert lines["宛名番号"].startswith("      宛名番号: 1 ") and "TODO" not in lines["宛名番号"]
    assert "{from: 4, date: yyyymmdd}" in lines["転入日"]
    report = render_report([(p, best_matches(p, source)) for p in profiles])
    assert not any(v in report + draft for r in _jumin_rows() for v in r[:2]), "no value on screen"


def test_a_header_that_differs_from_the_document_is_kept_and_said(tmp_path):
    doc = tmp_path / "layout.csv"
    _csv_doc(doc, [["項番", "項目名"], *[[no, name] for no, name, _, _ in SETAI]], "utf-8")
    folder = tmp_path / "inbox"
    folder.mkdir()
    path = folder / "SETAI.csv"
    _csv_doc(
        path,
        [["世帯番号", "宛名番号", "続柄コード"], *[[f"H{i:07d}", f"{7300000000 + i:010d}", "02"] for i in range(30)]],
    )
    (profile,) = profile_with_layouts([path], [read_layout(doc)], quiet=True)
    assert profile.header and [c.header for c in profile.columns][2] == "続柄コード"
    (note,) = [n for n in profile.notes if "見出し行あり" in n]
    assert "2/3列" in note and "3列目は表と違うため、見出しの名前を使います" in note, note


def test_an_order_only_document_for_a_fixed_width_file_says_positions_are_missing(tmp_path):
    path, planted = _fixed_file(tmp_path)
    doc = tmp_path / "layout.csv"
    _csv_doc(
        doc,
        [["項番", "項目名", "型", "桁数", "開始位置"], [1, "宛名番号", "数字", "", ""], [2, "氏名", "文字", "", ""]],
    )
    done = run_sources("profile", "--source", "jumin", "--layout", doc, path.parent)
    assert done.returncode == 2
    assert "レイアウト表 layout.csv: JUKI_20331101.DAT は区切りのない固定長のファイル" in done.stderr, done.stderr
    assert "開始位置・桁数のどちらも書かれていません" in done.stderr and "探した見出し: 開始位置・位置" in done.stderr
    assert not any(v in done.stderr + done.stdout for v in planted)


def test_the_command_applies_each_part_of_a_document_to_its_file(tmp_path):
    doc = _write(tmp_path, "ファイル名の列・空の位置の列・CP932 CSV")
    jumin, _ = _files(tmp_path, header=False)
    out = tmp_path / "jumin.yaml"
    done = run_sources("profile", "--quiet", "--source", "jumin", "--layout", doc, "--out", out, jumin.parent)
    assert done.returncode == 0, done.stderr
    draft = out.read_text(encoding="utf-8")
    assert draft.count("    header: none") == 2 and draft.count(f"レイアウト表 {doc.name} の順番から") == 2


@pytest.mark.parametrize(
    "rows, problem",
    [
        (
            [["項番", "項目名", "備考"], ["", "", "以下なし"]],
            "1行目の見出しの下に項目の行がありません。項目の行には項目名と、項番のどれかが要ります",
        ),
        ([["項番", "項目名"], [1, "宛名番号"], [1, "氏名"]], "の 3行目: 項番 1 が 2行目と同じです"),
        (
            [["ファイル名", "項番", "項目名"], ["A.csv", 1, "宛名番号"], ["B.csv", 1, "氏名"]],
            "2個のファイル（A.csv・B.csv）",
        ),
    ],
)
def test_an_order_only_document_that_cannot_be_used_is_a_clear_error(tmp_path, rows, problem):
    doc = tmp_path / "layout.csv"
    _csv_doc(doc, rows)
    with pytest.raises(LayoutDocError) as err:
        read_layout(doc)
    assert str(err.value).startswith("レイアウト表 layout.csv") and problem in str(err.value), str(err.value)


def test_a_document_of_several_files_none_of_them_here_is_said_so(tmp_path):
    doc = tmp_path / "layout.csv"
    _csv_doc(doc, [["ファイル名", "項番", "項目名"], ["A_<年月>.csv", 1, "宛名番号"], ["B_<年月>.csv", 1, "氏名"]])
    jumin, _ = _files(tmp_path, header=False)
    with pytest.raises(LayoutDocError) as err:
        profile_with_layouts([jumin], read_layouts(doc), quiet=True)
    assert "表のファイル名（A_<年月>.csv・B_<年月>.csv）に合うファイルがありません" in str(err.value)
