"""Two things the blind trial C found in the drafts.

- A file name whose export date is 和暦 (``JUMIN_R081006.tsv``, ``…令和8年10月6日…``) or ``2026-10-06`` kept the
  whole name in ``files:`` (next month's file would not match) and left 抽出日 without a proposal: the draft now
  puts ``*`` there and proposes ``from_file_name`` with the style the name is written in.
- The numeric-codes TODO told the person to replace 組 ``1``/``2`` with words, while docs/contract/values.md says
  組 is the bare number: which text columns hold a number comes from ``docs/contract/text_forms.csv``, beside
  values.md, and the TODO for the others points to values.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mimamori.sources.dates import DateStyle, parse_styled_date
from mimamori.sources.draft import best_matches, choose_source
from mimamori.sources.drafttext import render_draft
from mimamori.sources.scan import profile_file


def _write(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    path.write_bytes(("\r\n".join(delimiter.join(r) for r in rows) + "\r\n").encode(encoding))
    return path


def _residents(n: int = 30) -> list[list[str]]:
    header = ["宛名番号", "世帯番号", "氏名", "氏名カナ", "生年月日", "性別", "続柄", "住所", "住民となった日"]
    rows = [
        [f"{100000 + i:010d}", f"{200000 + i // 3:010d}", "ー", "ー", "20150401", str(1 + i % 2),
         f"{1 + i % 4:02d}", "ー", "20150401"]
        for i in range(n)
    ]  # fmt: skip
    return [header, *rows]


def _draft(path: Path, registry, source: str) -> str:
    profile = profile_file(path, quiet=True)
    src = choose_source([profile], registry, source)
    return render_draft(src, [(profile, best_matches(profile, src))])


@pytest.mark.parametrize(
    ("name", "pattern", "style", "date"),
    [
        ("JUMIN_R081006.tsv", "JUMIN_*.tsv", "wareki", "2026-10-06"),
        ("住民_令和8年10月6日.tsv", "住民_*.tsv", "wareki", "2026-10-06"),
        ("JUMIN_2026-10-06.tsv", "JUMIN_*.tsv", "ymd", "2026-10-06"),
        ("JUMIN_5081006.tsv", "JUMIN_*.tsv", "wareki_code", "2026-10-06"),
        ("JUMIN_20261006.tsv", "JUMIN_*.tsv", "yyyymmdd", "2026-10-06"),
    ],
)
def test_a_date_in_the_file_name_in_any_spelling_becomes_a_star_and_the_extraction_date(
    tmp_path, registry, name, pattern, style, date
):
    path = _write(tmp_path / name, _residents(), delimiter="\t")
    text = _draft(path, registry, "jumin")
    assert f'files: "{pattern}"' in text
    (line,) = [ln for ln in text.splitlines() if ln.strip().startswith("抽出日:")]
    assert f"date: {style}}}" in line and "from_file_name" in line, line
    regex = re.search(r"from_file_name: '([^']+)'", line).group(1)
    m = re.search(regex, name)
    assert m is not None, (regex, name)
    assert parse_styled_date(m.group(1), DateStyle(style)).isoformat() == date


def test_a_text_column_the_contract_keeps_as_a_number_has_no_todo_to_replace_codes(tmp_path, registry):
    header = ["学校", "学年", "組", "氏名", "生年月日", "欠席日数", "遅刻早退回数", "抽出日"]
    rows = [
        ["東小学校", str(1 + i % 6), str(1 + i % 2), "ー", "20150401", str(i % 5), str(i % 3), "20261105"]
        for i in range(30)
    ]
    text = _draft(_write(tmp_path / "出欠_202610.csv", [header, *rows]), registry, "gakko")
    (line,) = [ln for ln in text.splitlines() if ln.strip().startswith("組:")]
    assert "TODO" not in line and "codes" not in line, line
    assert "docs/contract/values.md" in line


def test_the_numeric_codes_todo_points_to_values_md(tmp_path, registry):
    text = _draft(_write(tmp_path / "住民_202610.csv", _residents(), "cp932"), registry, "jumin")
    (line,) = [ln for ln in text.splitlines() if ln.strip().startswith("続柄:")]
    assert "TODO" in line and "docs/contract/values.md" in line, line


def test_text_forms_name_text_columns_of_the_contract(registry):
    from mimamori.sources.drafttext import numbers_as_text

    columns = {(f.file, c.header): c for s in registry.values() for f in s.files for c in f.columns}
    assert numbers_as_text(), "docs/contract/text_forms.csv lists no column"
    for key in numbers_as_text():
        assert key in columns and columns[key].base_type == "text", key
