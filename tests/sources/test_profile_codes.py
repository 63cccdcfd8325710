"""``bin/mimamori sources profile --codes FILE_OR_DIR`` (issue 21): the department's code tables (コード表) fill the
draft's ``codes:`` maps — one table per sheet, several tables in one file by a table-name column or by title rows,
CP932 or UTF-8, full-width or zero-padded codes; a label that is no contract value, a label that only contains
one, and a delivered value the table lacks are TODOs, never guessed silently. Every value here is synthetic; the
planted ids and dates must never be printed."""

from __future__ import annotations

import random
import re

import openpyxl
import pytest
from test_sources_cli import _run as run_sources

MONTH = "20331101"


def _export(tmp_path) -> tuple:
    """A 要対協 register in the vendor's words (CP932): 登録区分 1/2/3 and one row of 9 (in no table), 一時保護 01/00."""
    folder = tmp_path / "inbox" / "kodomo_shien"
    folder.mkdir(parents=True)
    rng = random.Random(21)
    rows, planted = ["児童宛名番号,登録区分,登録年月日,終結年月日,一時保護,出力日"], []
    for i in range(40):
        atena = f"{8100000000 + 13 * i:010d}"
        start = f"R{rng.randrange(2, 7)}.{rng.randrange(1, 13)}.{rng.randrange(1, 28)}"
        kind = "9" if i == 0 else rng.choice("123")
        end = f"R6.{rng.randrange(1, 13)}.{rng.randrange(1, 28)}" if i % 3 == 0 else ""
        rows.append(f"{atena},{kind},{start},{end},{rng.choice(['01', '00'])},R15.11.1")
        planted += [atena, start] + ([end] if end else [])
    path = folder / f"要対協台帳_{MONTH}.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp932"))
    return folder, planted


#: (code, label) per table; 4's label is no contract value, 3's holds one with more words.
KINDS = [("1", "要保護"), ("2", "要支援"), ("3", "特定妊婦（妊娠中）"), ("4", "見守り")]
CUSTODY = [("01", "一時保護あり"), ("00", "一時保護なし")]


def _column_shape(tmp_path, encoding: str):
    """Several tables in one file, named in a column (the name only on each table's first row)."""
    rows = ["コード表名,コード,内容,備考"]
    for name, pairs in (("登録区分", KINDS), ("一時保護", CUSTODY), ("性別", [("1", "男"), ("2", "女")])):
        rows += [f"{name if i == 0 else ''},{c},{lab}," for i, (c, lab) in enumerate(pairs)]
    path = tmp_path / f"コード表_{encoding}.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode(encoding))
    return path


def _title_shape(tmp_path, encoding: str):
    """Tables one under another, each under a title row 「コード表: …」 and its own header; full-width codes."""
    rows = ["こども支援システム　コード一覧", ""]
    for name, pairs in (("登録区分", KINDS), ("一時保護", CUSTODY)):
        rows += [f"コード表: {name}", "値\t意味\t説明"]
        rows += [f"{c.translate(str.maketrans('0123456789', '０１２３４５６７８９'))}\t{lab}\t" for c, lab in pairs]
        rows.append("")
    path = tmp_path / "codes_titled.tsv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode(encoding))
    return path


def _sheet_shape(tmp_path):
    """One workbook, one sheet per table named by the sheet; codes as numbers (一時保護 0/1, the export 00/01)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, pairs in (("登録区分", KINDS), ("一時保護", CUSTODY)):
        ws = book.create_sheet(name)
        ws.append(["コード", "名称"])
        for c, lab in pairs:
            ws.append([int(c), lab])
    path = tmp_path / "コード表.xlsx"
    book.save(path)
    return path


SHAPES = {
    "column-cp932": lambda t: _column_shape(t, "cp932"),
    "column-utf8": lambda t: _column_shape(t, "utf-8"),
    "title-cp932": lambda t: _title_shape(t, "cp932"),
    "title-utf8": lambda t: _title_shape(t, "utf-8"),
    "sheets-xlsx": _sheet_shape,
}


def _profile(tmp_path, *codes):
    folder, planted = _export(tmp_path)
    out = tmp_path / "kodomo_shien.yaml"
    args = [a for c in codes for a in ("--codes", c)]
    done = run_sources("profile", "--quiet", "--source", "kodomo_shien", "--out", out, *args, folder)
    assert done.returncode == 0, done.stderr
    return done, out.read_text(encoding="utf-8"), planted


def _line(draft: str, key: str) -> str:
    found = [ln for ln in draft.splitlines() if ln.strip().startswith(f'"{key}":')]
    assert len(found) == 1, (key, found)
    return found[0]


@pytest.mark.parametrize("shape", SHAPES)
def test_code_tables_fill_the_maps(tmp_path, shape):
    doc = SHAPES[shape](tmp_path)
    done, draft, planted = _profile(tmp_path, doc)
    # a label that is a contract value: written, no TODO
    assert re.match(r'\s+"1": 要保護\s+# 「要保護」$', _line(draft, "1"))
    assert "TODO" not in _line(draft, "2") and " 要支援 " in _line(draft, "2")
    # a label holding a contract value with more words: proposed, to be confirmed
    assert " 特定妊婦 " in _line(draft, "3") and "TODO 確認" in _line(draft, "3")
    # a label that is no contract value: an empty target and a TODO (check fails on both)
    assert '"4": ""' in _line(draft, "4") and "TODO" in _line(draft, "4")
    # the flag from あり/なし after the words the labels share, spelled as delivered (00/01)
    assert re.match(r'\s+"01": 有\s+#', _line(draft, "01")) and re.match(r'\s+"00": 無\s+#', _line(draft, "00"))
    # 9 is delivered once and is in no table: a TODO by count, the value not shown (one row)
    assert "1種類がコード表「登録区分」にありません" in draft and '"9"' not in draft
    for text in (done.stdout, done.stderr, draft):
        assert not any(v in text for v in planted)


def test_a_folder_of_documents_uses_the_code_tables_and_passes_over_the_rest(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    _column_shape(docs, "cp932")
    (docs / "レイアウト定義書.csv").write_bytes(
        "項目名,型,コード表,備考\r\n登録区分,コード,登録区分,\r\n".encode("cp932")
    )
    done, draft, _ = _profile(tmp_path, docs)
    assert re.match(r'\s+"1": 要保護\s+#', _line(draft, "1"))
    assert "コード表でないファイル: レイアウト定義書.csv" in done.stdout
    assert "使わなかったコード表: 性別" in done.stdout


def test_a_document_without_a_table_is_a_usage_error(tmp_path):
    doc = tmp_path / "memo.csv"
    doc.write_text("担当,電話\r\n福祉班,0000\r\n", encoding="utf-8")
    folder, _ = _export(tmp_path)
    done = run_sources("profile", "--quiet", "--codes", doc, folder)
    assert done.returncode == 2
    assert "コード表 memo.csv: コード表が見つかりません" in done.stderr


def test_without_codes_the_draft_is_unchanged_by_the_option(tmp_path):
    """Sanity for the before/after: the same export without --codes leaves the maps to a person."""
    _, draft, _ = _profile(tmp_path)
    assert not re.search(r'"\d+": 要保護', draft) and "コード表「" not in draft


def test_the_filled_draft_passes_check_once_its_todos_are_done(tmp_path):
    """The proposed map is a valid mapping: a person writes the one unknown label and confirms the rest."""
    _, draft, _ = _profile(tmp_path, _column_shape(tmp_path, "cp932"))
    fixed = []
    for ln in draft.splitlines():
        if ln.strip().startswith("#") and "TODO" in ln:
            continue  # the count of values the table lacks: the person adds them (here: 9 → 要支援)
        ln = ln.replace('"4": ""', '"4": 要支援')
        fixed.append(re.sub(r"\s+#.*$", "", ln) if "TODO" in ln else ln)
        if ln.strip().startswith('"4":'):
            fixed.append(ln[: len(ln) - len(ln.lstrip())] + '"9": 要支援')
    mapping = tmp_path / "town" / "sources" / "kodomo_shien.yaml"
    mapping.parent.mkdir(parents=True)
    mapping.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    done = run_sources("check", mapping, tmp_path / "inbox" / "kodomo_shien")
    assert "TODO" not in mapping.read_text(encoding="utf-8")
    assert done.returncode == 0, done.stdout + done.stderr
