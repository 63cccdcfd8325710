"""What the blind re-trial of layout c (towns/indep-retry-c/README.md) found the drafts still did wrong, each a class:

1. A header of two rows with the department's layout document given (``--layout``): the document's names are the
   last header row, so the file has a header — the draft said ``header: none`` with no TODO and read both header
   rows as data.
2. Two files of one export in parts (the same headers) merged into one contract file while another contract file of
   the source that no file becomes fits them nearly as well: the merge got no ``TODO 確認``.
3. The comment of a code map filled from a code table used the word TODO as an explanation; ``check`` counts every
   TODO, so a line with nothing to fix stopped it.
Small files written here; no value is printed."""

from __future__ import annotations

import re
from pathlib import Path

from mimamori.sources.draft import best_matches, choose_source
from mimamori.sources.drafttext import render_draft
from mimamori.sources.layoutdoc import read_layouts
from mimamori.sources.scan import profile_with_layouts
from test_profile_header_rows import _CHILD, _PARENT, _allowance_rows, _write


def _draft(files: list[Path], registry, source: str, docs=()) -> str:
    profiles = profile_with_layouts(files, list(docs), quiet=True)
    src = choose_source(profiles, registry, source)
    return render_draft(src, [(p, best_matches(p, src)) for p in profiles])


def test_a_two_row_header_is_a_header_when_the_layout_document_names_its_last_row(tmp_path, registry):
    export = _write(tmp_path / "児扶手_202609.csv", [_PARENT, _CHILD, *_allowance_rows()])
    doc = tmp_path / "レイアウト定義書.csv"
    rows = [["項番", "項目名", "型", "桁数", "開始位置", "備考"]]
    rows += [[str(i), name, "文字", "", "", ""] for i, name in enumerate(_CHILD, 1)]
    doc.write_bytes(("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("cp932"))
    text = _draft([export], registry, "kodomo_shien", read_layouts(doc))
    assert re.search(r"(?m)^    header: 2 ", text), text
    assert "受給者宛名番号: 受給者宛名番号" in text


def test_a_merge_of_one_export_in_parts_is_doubted_when_a_contract_file_is_left_without_a_file(tmp_path, registry):
    header = ["宛名番号", "開始日", "終了日", "基準日"]  # as fit for ひとり親医療 as, nearly, for 児童扶養手当
    rows = [[f"31{i:08d}", f"2024/{1 + i % 12}/1", "", "2026/10/01"] for i in range(30)]
    files = [_write(tmp_path / f"{name}_202610.csv", [header, *rows]) for name in ("資格A", "資格B")]
    text = _draft(files, registry, "kodomo_shien")
    merged = [line for line in text.splitlines() if line.strip().startswith("- input:")]
    assert len(merged) == 2, text
    assert all("TODO 確認" in line and "どのファイルからも作っていない" in line for line in merged), merged


def test_a_code_map_filled_from_a_table_says_todo_only_where_there_is_something_to_do(tmp_path, registry):
    from mimamori.sources.codemap import attach
    from mimamori.sources.codetable import read_code_documents

    header = [
        "児童生徒番号",
        "宛名番号",
        "氏名",
        "カナ氏名",
        "生年月日",
        "性別",
        "住所",
        "学校",
        "学年",
        "特別支援学級",
        "抽出日",
    ]
    rows = [
        [
            f"2020{i:04d}",
            f"31{i:08d}",
            "ー" * 3,
            "ア" * 3,
            "2015/4/1",
            "MF"[i % 2],
            "ー" * 5,
            "第一小",
            "3",
            "無",
            "2026/10/01",
        ]
        for i in range(30)
    ]
    export = _write(tmp_path / "学齢簿_202610.csv", [header, *rows])
    table = tmp_path / "コード表.csv"
    table.write_bytes("コード表名,コード,名称\r\n性別,M,男\r\n性別,F,女\r\n".encode("cp932"))
    profiles = profile_with_layouts([export], [], quiet=True)
    src = choose_source(profiles, registry, "gakko")
    matched = [(p, best_matches(p, src)) for p in profiles]
    tables, _ = read_code_documents([table])
    attach(matched, tables)
    text = render_draft(src, matched)
    lines = text.splitlines()
    at = next(k for k, line in enumerate(lines) if line.strip().startswith("性別:"))
    block = lines[at + 2 : at + 5]  # from:, then codes: and its two codes
    assert block[0].strip().startswith("codes:") and [x.split(":")[0].strip() for x in block[1:]] == ['"M"', '"F"'], (
        block
    )
    assert not any("TODO" in line for line in block), block  # nothing to do there: the table gave every code
