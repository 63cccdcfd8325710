"""``bin/mimamori sources profile --layout DOC`` (issue 21): the vendor's layout document (レイアウト定義書) gives
the fields instead of the guess — fixed-width positions and names, a headerless CSV's order — in several common
spellings (項目名/フィールド名, 開始位置/位置/開始, 桁数/長さ/バイト数/サイズ, 終了位置, 型/属性, 備考), 1- or
0-based, bytes or characters; the draft names the vendor's fields and matches them to the contract by name.
Every value here is synthetic and generated; none is printed (assertions compare booleans and positions)."""

from __future__ import annotations

import csv
import io
import random

import openpyxl
import pytest
from mimamori.ingest.registry import load_registry
from mimamori.sources.draft import best_matches
from mimamori.sources.drafttext import render_draft, render_report
from mimamori.sources.layoutdoc import LayoutDocError, read_layout
from mimamori.sources.scan import profile_with_layouts
from test_sources_cli import _run as run_sources

SURNAMES = ["山田", "佐々木", "林", "長谷川", "高橋", "伊藤"]
GIVEN = ["花子", "一", "次郎", "菜々", "翔"]
#: (name, bytes) of the synthetic 住民記録 export: the vendor's own field names.
FIELDS = [("宛名番号", 10), ("世帯番号", 10), ("漢字氏名", 20), ("性別", 1), ("生年月日", 8), ("予備", 3)]


def _pad(text: str, width: int, encoding: str) -> str:
    size = (lambda s: len(s.encode("cp932"))) if encoding == "cp932" else len
    while size(text) + size("　") <= width:
        text += "　"
    return text + " " * (width - size(text))


def _records(n: int, encoding: str = "cp932") -> tuple[list[str], list[str]]:
    """Fixed-width records (CP932 bytes, or characters) and the planted values that must never be printed."""
    rng = random.Random(21)
    lines, planted = [], []
    for i in range(n):
        atena, name = f"{7300000000 + 17 * i:010d}", rng.choice(SURNAMES) + "　" + rng.choice(GIVEN)
        lines.append(
            atena
            + f"H{2000000 + 3 * i:07d}".ljust(10)
            + _pad(name, 20, encoding)
            + rng.choice("12")
            + f"19{rng.randrange(50, 99)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
            + "   "
        )
        planted.append(atena)
    return lines, planted


def _fixed_file(tmp_path, encoding: str = "cp932"):
    folder = tmp_path / "inbox" / "jumin"
    folder.mkdir(parents=True, exist_ok=True)
    lines, planted = _records(60, encoding)
    path = folder / "JUKI_20331101.DAT"
    path.write_bytes(("\r\n".join(["HDR20331101".ljust(52), *lines, "TRL00000060".ljust(52)]) + "\r\n").encode("cp932"))
    return path, planted


def _csv_doc(path, rows: list[list], encoding: str = "cp932") -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def _xlsx_doc(path, rows: list[list]) -> None:
    book = openpyxl.Workbook()
    book.active.title = "表紙"
    book.active["A1"] = "住民記録システム 外部出力仕様"  # a cover sheet without a header row
    sheet = book.create_sheet("レイアウト")
    for r in rows:
        sheet.append(r)
    book.save(path)


def _starts() -> list[tuple[str, int, int]]:
    out, at = [], 1
    for name, n in FIELDS:
        out.append((name, at, n))
        at += n
    return out


# Several spellings of one layout, each as a department might write it.
SPELLINGS = {
    "項目名・開始位置・桁数、表題と単位": lambda: [
        ["住民記録 ファイルレイアウト"],
        ["単位：バイト"],
        [],
        ["No", "項目名", "開始位置", "桁数", "属性", "備考"],
        *[[i, n, s, k, "X", ""] for i, (n, s, k) in enumerate(_starts(), 1)],
        ["", "合計", "", 52, "", ""],
    ],
    "フィールド名・位置・長さ（バイト）・型": lambda: [
        ["フィールド名", "位置", "長さ（バイト）", "型"],
        *[[n, s, k, "N" if n == "漢字氏名" else "9"] for n, s, k in _starts()],
    ],
    "項目・開始・終了位置、0から数える（終了は含む）": lambda: [
        ["項目", "開始", "終了位置", "備考"],
        *[[n, s - 1, s + k - 2, ""] for n, s, k in _starts()],
    ],
    "項目名・開始位置（0から）・サイズ": lambda: [
        ["項目名", "開始位置（0から）", "サイズ"],
        *[[n, s - 1, k] for n, s, k in _starts()],
    ],
    "項目名・オフセット・終了位置（終了は含まない）": lambda: [
        ["項目名", "オフセット", "終了位置"],
        *[[n, s - 1, s - 1 + k] for n, s, k in _starts()],
    ],
    "データ項目名・属性が COBOL の PIC（桁数の列なし）": lambda: [
        ["項番", "データ項目名", "属性", "説明"],
        *[[i, n, f"PIC X({k})" if n != "漢字氏名" else f"N({k // 2})", ""] for i, (n, _, k) in enumerate(_starts(), 1)],
    ],
    "項目名・バイト数だけ（順に並ぶ）、区分見出しの行": lambda: [
        ["項目名", "バイト数", "属性"],
        ["【データ部】", "", ""],
        *[[n if n != "予備" else "FILLER", k, ""] for n, _, k in _starts()],
    ],
}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_a_layout_document_gives_the_fields_and_their_names(tmp_path, spelling, kind):
    path, planted = _fixed_file(tmp_path)
    doc = tmp_path / f"layout.{kind}"
    (_csv_doc if kind == "csv" else _xlsx_doc)(doc, SPELLINGS[spelling]())
    layout = read_layout(doc)
    assert [(f.name.startswith("予備"), f.start, f.length) for f in layout.fields] == [
        (n == "予備", s, k) for n, s, k in _starts()
    ]
    (profile,) = profile_with_layouts([path], [layout], quiet=True)
    assert profile.format == "fixed" and profile.layout_doc == doc.name and profile.units == "bytes"
    assert [(c.header, c.start, c.end) for c in profile.columns][:5] == [(n, s, s + k - 1) for n, s, k in _starts()][:5]
    source = load_registry(None)["jumin"]
    matched = [(profile, best_matches(profile, source))]
    draft, report = render_draft(source, matched), render_report(matched)
    layout_lines = [ln for ln in draft.splitlines() if ln.strip().startswith("- {name:")]
    assert layout_lines[0].startswith("      - {name: 宛名番号, start: 1, length: 10}")
    assert layout_lines[2].startswith("      - {name: 漢字氏名, start: 21, length: 20}")
    assert not any("TODO" in ln for ln in layout_lines), "positions from the document need no confirming"
    mapped = {ln.split(":")[0].strip(): ln for ln in draft.splitlines() if ln.startswith("      ") and ":" in ln}
    assert mapped["宛名番号"].startswith("      宛名番号: 宛名番号") and "TODO" not in mapped["宛名番号"]
    assert mapped["氏名"].startswith("      氏名: 漢字氏名"), "matched by the document's name (header_synonyms.yaml)"
    assert "{from: 生年月日, date: yyyymmdd}" in draft
    assert not any(v in draft or v in report for v in planted), "a value of the file was printed"


def test_a_document_in_characters_reads_a_file_counted_in_characters(tmp_path):
    """The vendor counts characters (a 全角 is one): the records differ in bytes, the document says 文字数."""
    folder = tmp_path / "inbox" / "jumin"
    folder.mkdir(parents=True)
    lines, _ = _records(40, "utf-8")  # padded in characters
    path = folder / "JUKI_20331101.DAT"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    doc = tmp_path / "layout.csv"
    _csv_doc(doc, [["項目名", "開始位置", "文字数"], *[[n, s, k] for n, s, k in _starts()]], "utf-8")
    (profile,) = profile_with_layouts([path], [read_layout(doc)], quiet=True)
    assert profile.units == "chars" and profile.format == "fixed"
    kinds = {c.header: c.kind for c in profile.columns}
    assert kinds["宛名番号"] == "id" and kinds["漢字氏名"] == "text" and kinds["性別"] == "code"
    assert profile.columns[4].date_style == "yyyymmdd"


def test_a_headerless_csv_takes_its_column_order_from_the_document(tmp_path):
    folder = tmp_path / "inbox" / "jumin"
    folder.mkdir(parents=True)
    rng = random.Random(4)
    rows = [
        [f"{7300000000 + 17 * i:010d}", rng.choice(SURNAMES), rng.choice("12"), f"2033{rng.randrange(1, 13):02d}01"]
        for i in range(30)
    ]
    path = folder / "JUMIN_20331101.csv"
    _csv_doc(path, rows)
    doc = tmp_path / "項目一覧.csv"
    _csv_doc(
        doc,
        [
            ["項目名", "型", "備考"],
            ["宛名番号", "数字", ""],
            ["漢字氏名", "文字", ""],
            ["性別", "数字", "1男2女"],
            ["転入年月日", "日付", ""],
        ],
    )
    (profile,) = profile_with_layouts([path], [read_layout(doc)], quiet=True)
    assert not profile.header and profile.layout_doc == "項目一覧.csv"
    source = load_registry(None)["jumin"]
    draft = render_draft(source, [(profile, best_matches(profile, source))])
    assert "    header: none" in draft
    lines = {ln.split(":")[0].strip(): ln for ln in draft.splitlines() if ln.startswith("      ")}
    assert lines["宛名番号"].startswith("      宛名番号: 1 ") and "TODO" not in lines["宛名番号"]
    assert lines["氏名"].startswith("      氏名: 2 ") and "レイアウト表の「漢字氏名」" in lines["氏名"]
    assert "{from: 4, date: yyyymmdd}" in lines["転入日"]


BAD = {
    "no header row": ([["住民記録"], ["宛名番号", "1", "10"]], None, "見出しの行が見つかりません"),
    "a length not a number": (
        [["項目名", "開始位置", "桁数"], ["宛名番号", 1, "十"]],
        2,
        "「桁数」の欄が数字ではありません",
    ),
    "overlapping fields": (
        [["項目名", "開始位置", "桁数"], ["宛名番号", 1, 10], ["世帯番号", 8, 10]],
        3,
        "重なっています",
    ),
    "start, length and end disagree": (
        [["項目名", "開始位置", "桁数", "終了位置"], ["宛名番号", 1, 10, 12]],
        2,
        "開始位置・桁数・終了位置が合いません",
    ),
    "a name twice": ([["項目名", "桁数"], ["宛名番号", 10], ["宛名番号", 10]], 3, "2行目と同じです"),
    "no length": (
        [["項目名", "開始位置", "備考"], ["宛名番号", 1, ""], ["世帯番号", 11, ""]],
        3,
        "桁数（長さ）も終了位置も",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_document_that_cannot_be_used_is_a_clear_error(tmp_path, case):
    rows, row, problem = BAD[case]
    doc = tmp_path / "layout.csv"
    _csv_doc(doc, rows)
    with pytest.raises(LayoutDocError) as err:
        read_layout(doc)
    text = str(err.value)
    assert text.startswith("レイアウト表 layout.csv") and problem in text, text
    assert (f"の {row}行目" in text) if row else "行目" not in text, text
    assert "十" not in text, "the cell's content is not quoted"


def test_a_document_that_fits_no_file_is_said_so_through_the_command(tmp_path):
    path, planted = _fixed_file(tmp_path)
    doc = tmp_path / "layout.csv"
    _csv_doc(doc, [["項目名", "開始位置", "桁数"], ["宛名番号", 1, 10], ["氏名", 11, 60]])  # runs past the 52 bytes
    done = run_sources("profile", "--source", "jumin", "--layout", doc, path.parent)
    assert done.returncode == 2
    assert "レイアウト表 layout.csv の 3行目: 項目が 70バイト目まであり" in done.stderr, done.stderr
    assert not any(v in done.stderr + done.stdout for v in planted)
    ok = tmp_path / "ok.csv"
    _csv_doc(ok, SPELLINGS["項目名・開始位置・桁数、表題と単位"]())
    done = run_sources("profile", "--source", "jumin", "--layout", ok, "--out", tmp_path / "jumin.yaml", path.parent)
    assert done.returncode == 0, done.stderr
    assert "- {name: 宛名番号, start: 1, length: 10}" in (tmp_path / "jumin.yaml").read_text(encoding="utf-8")


def test_a_document_with_positions_still_orders_a_headerless_csv(tmp_path):
    """The same document for the fixed-width export and its CSV twin: in the CSV only the order counts."""
    folder = tmp_path / "inbox" / "jumin"
    folder.mkdir(parents=True)
    rng = random.Random(8)
    rows = [
        [f"{7300000000 + 17 * i:010d}", f"H{2000000 + i:07d}", rng.choice(SURNAMES), rng.choice("12")]
        for i in range(30)
    ]
    path = folder / "JUMIN_20331101.csv"
    _csv_doc(path, [[*r, "19990101", ""] for r in rows])
    doc = tmp_path / "layout.xlsx"
    _xlsx_doc(doc, SPELLINGS["フィールド名・位置・長さ（バイト）・型"]())
    (profile,) = profile_with_layouts([path], [read_layout(doc)], quiet=True)
    assert profile.format == "csv" and not profile.header
    assert [c.header for c in profile.columns][:4] == ["宛名番号", "世帯番号", "漢字氏名", "性別"]
