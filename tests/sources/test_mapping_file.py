"""The mapping file's own mistakes: each is found before any data is read, named by its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from mimamori.sources.mapping import MappingError, parse_mapping

GOOD = """\
source: fukushi
inputs:
  - name: techo
    files: "TECHO_*.csv"
    encoding: cp932
    skip:
      - last: 1
outputs:
  - file: 障害者手帳.csv
    from: techo
    columns:
      宛名番号: 住民コード
      手帳種別: {from: 手帳区分, codes: {"1": 身体, "2": 療育, "3": 精神}}
      等級: 障害等級
      発達障害: {from: 発達障害有無, codes: {Y: 有, N: 無}}
      交付日: {from: 交付年月日, date: wareki}
      抽出日: {from_file_name: 'TECHO_(\\d{8})\\.csv', date: yyyymmdd}
"""


def _problems(text: str, registry, name: str = "fukushi.yaml") -> list:
    with pytest.raises(MappingError) as exc:
        parse_mapping(text, Path(name), registry)
    return exc.value.problems


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_good_mapping_reads(registry):
    m = parse_mapping(GOOD, Path("fukushi.yaml"), registry)
    out = m.output("障害者手帳.csv")
    assert out is not None and [p.input for p in out.parts] == ["techo"]
    rules = out.columns
    # YAML 1.1 would make Y/N booleans and "01" the integer 1: the mapping keeps what was written
    assert rules["has_developmental_disability"].codes == {"Y": "有", "N": "無"}
    assert rules["certificate_type"].codes == {"1": "身体", "2": "療育", "3": "精神"}
    assert rules["issued_on"].date.name == "wareki"
    assert m.inputs["techo"].format == "csv" and m.inputs["techo"].encoding == "cp932"


@pytest.mark.parametrize(
    ("old", "new", "needle", "words"),
    [
        # an unknown contract column
        ("      等級: 障害等級", "      障害等級: 障害等級", "障害等級: 障害等級", ["障害等級", "契約", "ない列"]),
        # a code whose target the contract does not have
        ('"3": 精神}', '"3": 精神障害}', "手帳種別:", ["精神障害", "契約", "ない値"]),
        # a date style that does not exist
        ("date: wareki}", "date: japanese}", "交付日:", ["japanese", "使えない"]),
        # a date style on a column that is no date
        ("      等級: 障害等級", "      等級: {from: 障害等級, date: wareki}", "等級: {from", ["日付の列ではない"]),
        # a typo in a key
        ("    encoding: cp932", "    encodng: cp932", "encodng", ["encodng", "書けません"]),
        # a contract file that is not this source's
        ("  - file: 障害者手帳.csv", "  - file: 住民.csv", "file: 住民.csv", ["住民.csv", "契約"]),
        # an input that does not exist
        ("    from: techo", "    from: tecyo", "from: tecyo", ["tecyo", "inputs にありません"]),
        # an empty code map (a draft not yet filled in)
        ("codes: {Y: 有, N: 無}", "codes: {}", "発達障害:", ["コード表", "空"]),
    ],
)
def test_each_mistake_names_its_line(registry, old, new, needle, words):
    text = GOOD.replace(old, new)
    assert text != GOOD
    problems = _problems(text, registry)
    line = _line_of(text, needle)
    hits = [p for p in problems if p.line == line]
    assert hits, [str(p) for p in problems]
    assert all(w in hits[0].message_ja for w in words), hits[0].message_ja
    assert str(hits[0]).startswith(f"fukushi.yaml:{line}: ")


def test_a_required_column_left_out(registry):
    text = GOOD.replace("      宛名番号: 住民コード\n", "")
    problems = _problems(text, registry)
    assert any("宛名番号" in p.message_ja and "必須" in p.message_ja for p in problems)


def test_yaml_syntax_and_duplicate_keys(registry):
    broken = GOOD.replace("      等級: 障害等級", "      等級: [障害等級")
    problems = _problems(broken, registry)
    assert len(problems) == 1 and "YAML" in problems[0].message_ja
    dup = GOOD.replace("      等級: 障害等級", "      等級: 障害等級\n      等級: 等級")
    problems = _problems(dup, registry)
    assert problems[0].line == _line_of(dup, "等級: 等級") and "重複" in problems[0].message_ja


def test_headerless_inputs_need_positions(registry):
    text = GOOD.replace("    encoding: cp932", "    encoding: cp932\n    header: none")
    problems = _problems(text, registry)
    lines = {p.line for p in problems if "番号で書いて" in p.message_ja}
    assert _line_of(text, "宛名番号: 住民コード") in lines


def test_an_unused_input_and_the_file_name(registry):
    text = GOOD.replace("outputs:", '  - name: spare\n    files: "X.csv"\n    encoding: cp932\noutputs:')
    problems = _problems(text, registry, name="welfare.yaml")
    msgs = " / ".join(p.message_ja for p in problems)
    assert "spare" in msgs and "fukushi.yaml" in msgs


FIXED = """\
source: jumin
inputs:
  - name: juki
    files: "JUKI*.DAT"
    format: fixed
    encoding: cp932
    line_length: 40
    layout:
      - {name: 宛名番号, start: 1, length: 10}
      - {name: 世帯番号, start: 11, length: 10}
      - {name: 氏名, start: 20, length: 12}
      - {name: 性別, start: 32, length: 1}
      - {name: 住所, start: 33, end: 44}
outputs:
  - file: 住民.csv
    from: juki
    columns:
      宛名番号: 宛名番号
      世帯番号: 世帯番号
      氏名: 氏名
      カナ氏名: {constant: カナ}
      生年月日: {constant: "2000-01-01"}
      性別: 性別
      続柄: {constant: 子}
      住所: 住所
      住民となった日: {constant: "2000-01-01"}
      支援措置: {constant: 無}
      抽出日: {from_file_name: '(\\d{8})', date: yyyymmdd}
"""


def test_fixed_width_overlap_and_past_the_line(registry):
    problems = _problems(FIXED, registry, name="jumin.yaml")
    overlap = [p for p in problems if "重なって" in p.message_ja]
    assert overlap and overlap[0].line == _line_of(FIXED, "name: 氏名")
    assert "世帯番号" in overlap[0].message_ja
    past = [p for p in problems if "超えて" in p.message_ja]
    assert past and past[0].line == _line_of(FIXED, "name: 住所") and "40" in past[0].message_ja
    fixed = FIXED.replace("start: 20, length: 12", "start: 21, length: 11").replace("end: 44", "end: 40")
    assert parse_mapping(fixed, Path("jumin.yaml"), registry).inputs["juki"].layout[-1].end == 40


def test_fixed_width_refs_must_be_layout_fields(registry):
    fixed = FIXED.replace("start: 20, length: 12", "start: 21, length: 11").replace("end: 44", "end: 40")
    text = fixed.replace("      氏名: 氏名", "      氏名: 漢字氏名")
    problems = _problems(text, registry, name="jumin.yaml")
    assert problems[0].line == _line_of(text, "氏名: 漢字氏名") and "layout" in problems[0].message_ja
