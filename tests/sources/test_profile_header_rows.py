"""Two- and three-row headers (a 親見出し row over a 子見出し row, blank where a group spans) in exports never
seen (issue 21, blind trial C): the profile takes the last header row as the header — the mapping's ``header:``
names one row and reads none above it — matches on the child names (parent + child when a child name is in the
file twice), and never says "no header, 信頼度 高" when the first rows are labels. Small files written here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mimamori.sources.draft import best_matches, choose_source
from mimamori.sources.drafttext import render_draft
from mimamori.sources.scan import profile_file


def _write(path: Path, rows: list[list[str]], delimiter: str = ",", encoding: str = "cp932") -> Path:
    path.write_bytes(("\r\n".join(delimiter.join(r) for r in rows) + "\r\n").encode(encoding))
    return path


def _xlsx(path: Path, rows: list[list[str]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    for r in rows:
        book.active.append([v if v != "" else None for v in r])
    book.save(path)
    return path


def _allowance_rows(n: int = 30) -> list[list[str]]:
    return [
        [f"31{i:08d}", f"4{i:07d}" if i % 3 else "", f"2020年{1 + i % 12}月{1 + i % 27}日", "", "2026年10月1日"]
        for i in range(n)
    ]


_PARENT = ["受給者", "", "資格", "", "抽出"]
_CHILD = ["受給者宛名番号", "世帯番号", "認定日", "喪失日", "抽出日"]


def _draft(path: Path, registry, source: str) -> str:
    profile = profile_file(path, quiet=True)
    src = choose_source([profile], registry, source)
    return render_draft(src, [(profile, best_matches(profile, src))])


VARIANTS = {
    "csv": lambda p: _write(p.with_suffix(".csv"), [_PARENT, _CHILD, *_allowance_rows()]),
    "tsv": lambda p: _write(p.with_suffix(".tsv"), [_PARENT, _CHILD, *_allowance_rows()], "\t"),
    "utf8 csv": lambda p: _write(p.with_suffix(".csv"), [_PARENT, _CHILD, *_allowance_rows()], encoding="utf-8"),
    "xlsx": lambda p: _xlsx(p.with_suffix(".xlsx"), [_PARENT, _CHILD, *_allowance_rows()]),
    "csv, title above": lambda p: _write(
        p.with_suffix(".csv"), [["児童扶養手当 受給者一覧"], _PARENT, _CHILD, *_allowance_rows()]
    ),
    "xlsx, title above": lambda p: _xlsx(
        p.with_suffix(".xlsx"), [["児童扶養手当 受給者一覧", "", "", "", ""], _PARENT, _CHILD, *_allowance_rows()]
    ),
    "three rows": lambda p: _write(
        p.with_suffix(".csv"), [["手当", "", "", "", "その他"], _PARENT, _CHILD, *_allowance_rows()]
    ),
}


@pytest.mark.parametrize("kind", VARIANTS)
def test_the_last_row_of_a_header_block_is_the_header(tmp_path, registry, kind):
    path = VARIANTS[kind](tmp_path / "児扶手_資格_202609")
    profile = profile_file(path, quiet=True)
    assert profile.header, (kind, "a two-row header was read as no header")
    assert [c.header for c in profile.columns] == _CHILD, kind
    assert profile.records == 30, (kind, profile.records)
    assert profile.columns[2].kind == "date", (kind, "the header rows were counted as values")
    text = _draft(path, registry, "kodomo_shien")
    header = int(re.search(r"^    header: (\d+)", text, re.M)[1])
    lines = path.read_bytes().count(b"\n") if path.suffix != ".xlsx" else None
    assert header == (3 if kind in ("csv, title above", "xlsx, title above", "three rows") else 2), (kind, header)
    assert lines is None or lines == 30 + header
    assert "- file: 児童扶養手当.csv" in text, kind
    assert re.search(r"^      受給者宛名番号: 受給者宛名番号 ", text, re.M), kind
    assert re.search(r"^      認定日: \{from: 認定日, date: ymd\}", text, re.M), kind


@pytest.mark.parametrize("first", ["資格", "受給"])
def test_a_child_name_twice_is_told_apart_by_its_parent_and_drafted_by_position(tmp_path, registry, first):
    other = "受給" if first == "資格" else "資格"
    parent = ["宛名番号", first, "", other, "", "抽出日"]
    child = ["", "開始日", "終了日", "開始日", "終了日", ""]
    rows = [[f"31{i:08d}", f"2021/4/{1 + i % 27}", "", f"2022/5/{1 + i % 27}", "", "2026/10/01"] for i in range(30)]
    # a parent row that names some columns itself (宛名番号, 抽出日) over a child row blank there: one header each
    path = _write(tmp_path / "ひとり親医療_資格_202609.csv", [parent, child, *rows])
    profile = profile_file(path, quiet=True)
    assert profile.header and profile.records == 30
    assert [c.header for c in profile.columns] == ["宛名番号", "開始日", "終了日", "開始日", "終了日", "抽出日"]
    assert [c.parent for c in profile.columns][1:5] == [first, first, other, other]
    text = _draft(path, registry, "kodomo_shien")
    # 資格取得日 is the 開始日 under 資格: a duplicated header is drafted by its position, the parent named
    m = re.search(r"^      資格取得日: \{from: (\d+), date: ymd\}\s+#(.*)$", text, re.M)
    assert m and m[1] == ("2" if first == "資格" else "4"), text
    assert "資格" in m[2] and "開始日" in m[2]


LABEL_ROWS = {
    "blank cell in a one-row header": [["宛名番号", "", "登録日", "終結日", "抽出日"]],
    "a header of repeated labels": [["番号", "番号", "日付", "日付", "日付"]],
}


@pytest.mark.parametrize("kind", LABEL_ROWS)
def test_no_header_is_never_sure_when_the_first_row_is_labels(tmp_path, registry, kind):
    rows = [[f"31{i:08d}", "1", f"2024/4/{1 + i % 27}", "", "2026/10/01"] for i in range(30)]
    path = _write(tmp_path / "YOTAI_202609.csv", [*LABEL_ROWS[kind], *rows])
    text = _draft(path, registry, "kodomo_shien")
    line = re.search(r"^    header: .*$", text, re.M)[0]
    # either the row is read as the header, or "no header" is said to be unsure, with a TODO
    assert re.match(r"    header: 1\b", line) or ("none" in line and "信頼度 低" in line and "TODO 確認" in line), (
        kind,
        line,
    )
