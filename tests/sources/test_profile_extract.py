"""``sources profile`` finds cells of a code and its label ("1:要保護", "1：要保護", "1 要保護", "1　要保護",
"要保護（1）") and drafts ``extract:`` — the label when the labels are the contract's values (no TODO), the code and a
code table otherwise, the label with a TODO 確認 for a text column (学校: one school, one string in every file). No
label is printed or drafted; codes may be. Small synthetic files written here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mimamori.sources.draft import best_matches
from mimamori.sources.drafttext import render_draft, render_report
from mimamori.sources.mapping import EXTRACT_SHORTCUTS, extract_part
from mimamori.sources.scan import profile_file

SHAPES = {
    "colon": "{code}:{label}",
    "fullwidth_colon": "{code}：{label}",
    "space": "{code} {label}",
    "fullwidth_space": "{code}\u3000{label}",
    "brackets": "{label}（{code}）",
}
CATEGORIES = (("1", "要保護"), ("2", "要支援"), ("3", "特定妊婦"))


def _write(path: Path, rows: list[list[str]]) -> Path:
    path.write_bytes(("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("cp932"))
    return path


def _yotai(shape: str, categories=CATEGORIES, n: int = 40, odd: int = 0) -> list[list[str]]:
    rows = [["宛名番号", "区分", "登録日", "終結日", "一時保護歴", "一時保護日", "抽出日"]]
    for i in range(n):
        code, label = categories[i % len(categories)]
        cell = SHAPES[shape].format(code=code, label=label) if i >= odd else label
        rows.append(
            [f"31{i:08d}", cell, f"2024{1 + i % 12:02d}{1 + i % 27:02d}", "", "有" if i % 2 else "無", "", "20261105"]
        )
    return rows


def _draft(tmp_path: Path, registry, source: str, name: str, rows) -> tuple[str, str]:
    profile = profile_file(_write(tmp_path / name, rows), quiet=True)
    matched = [(profile, best_matches(profile, registry[source]))]
    return render_draft(registry[source], matched), render_report(matched)


def _lines(text: str, key: str) -> list[str]:
    i = next(n for n, t in enumerate(text.splitlines()) if t.strip().startswith(f"{key}:"))
    out = [text.splitlines()[i]]
    for t in text.splitlines()[i + 1 :]:
        if not t.startswith(" " * (len(out[0]) - len(out[0].lstrip()) + 2)):
            break
        out.append(t)
    return out


@pytest.mark.parametrize("shape", SHAPES)
def test_labels_that_are_contract_values_are_extracted_without_a_todo(shape, tmp_path, registry):
    draft, report = _draft(tmp_path, registry, "kodomo_shien", "YOTAI_20261105.csv", _yotai(shape))
    line = _lines(draft, "区分")
    assert len(line) == 1 and "{from: 区分, extract: label}" in line[0], line
    assert "TODO" not in line[0] and "40/40件" in line[0]
    # what is drafted reads every delivered value as a contract value
    for row in _yotai(shape)[1:]:
        assert extract_part(tuple(re.compile(p) for p in EXTRACT_SHORTCUTS["label"]), row[1]) in (
            "要保護",
            "要支援",
            "特定妊婦",
        )
    assert "（コード＋名称）" in report


@pytest.mark.parametrize("shape", ["colon", "space", "brackets"])
def test_labels_of_another_wording_give_the_code_and_a_code_table(shape, tmp_path, registry):
    other = (("1", "要保護児童"), ("2", "要支援児童"), ("3", "特定妊婦等"))
    draft, report = _draft(tmp_path, registry, "kodomo_shien", "YOTAI_20261105.csv", _yotai(shape, other))
    block = "\n".join(_lines(draft, "区分"))
    assert "extract: code" in block and "codes:" in block
    assert all(f'"{c}":' in block for c, _ in other) and block.count("TODO 契約の値を書く") == 3
    for _, label in other:  # labels are never shown, in the draft or on screen
        assert label not in draft and label not in report


def test_too_few_of_the_shape_is_no_extract(tmp_path, registry):
    draft, _ = _draft(tmp_path, registry, "kodomo_shien", "YOTAI_20261105.csv", _yotai("colon", odd=4))  # 90 %
    assert "extract" not in "\n".join(_lines(draft, "区分"))


def test_a_school_is_its_label_with_a_todo_to_confirm(tmp_path, registry):
    schools = (("101", "見守第一小学校"), ("102", "見守第二小学校"), ("201", "見守中学校"), ("901", "私立架空学園"))
    rows = [["児童生徒番号", "氏名", "カナ氏名", "生年月日", "性別", "住所", "学校", "学年", "特別支援学級", "抽出日"]]
    for i in range(60):
        code, school = schools[i % 4]
        rows.append([f"S{i:06d}", f"見守　{'一二三四五'[i % 5]}郎", "ミモリ　タロウ", f"2015-0{1 + i % 9}-1{i % 9}",
                     str(1 + i % 2), f"見守町{i}丁目", f"{code}:{school}", str(1 + i % 6), "無", "2026-11-05"])  # fmt: skip
    draft, report = _draft(tmp_path, registry, "gakko", "学齢簿_202610.csv", rows)
    line = _lines(draft, "学校")
    assert len(line) == 1 and "{from: 学校, extract: label}" in line[0]
    assert "TODO 確認" in line[0] and "コードを外して" in line[0] and "docs/contract/values.md" in line[0]
    assert "同じ文字列" in line[0]
    for code, school in schools:
        assert school not in draft and school not in report
        assert f"{code}:" not in draft and f"{code}:" not in report
