"""``extract:`` — a part of a cell ("1:男", "101 見守第一小学校", "さくら保育園（P01）"): a regular expression with one
group, or ``code`` / ``label``. Its mistakes are the mapping file's (named by line); a value it does not match is
``extract_mismatch`` for IT, named by the delivered file, row and column, never by the value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from kodomo_shien_town import deliver, extraction, mapping_text, write
from mimamori.ingest.limits import Limits
from mimamori.ingest.validate import IT_RULES
from mimamori.sources.apply import read_mapped_source
from mimamori.sources.mapping import MappingError, parse_mapping
from test_sources_cli import _run

MONTH = "2034-03"
LIMITS = Limits(max_file_bytes=1 << 24, max_rows=100_000, max_line_bytes=65536, max_field_chars=4096)

#: the worked kodomo_shien mapping with 施設 as "P01:さくら保育所", 種別 as "1:保育所" and 要対協's 区分 as "A 要保護"
OLD_FACILITY = "      施設名: 施設\n"
NEW_FACILITY = "      施設名: {from: 施設, extract: '^P\\d+:(.*)$'}\n"
OLD_TYPE = '施設種別: {from: 種別, codes: {"1": 保育所, "2": 認定こども園, "3": 幼稚園}}'
NEW_TYPE = '施設種別: {from: 種別, extract: code, codes: {"1": 保育所, "2": 認定こども園, "3": 幼稚園}}'
OLD_CATEGORY = "区分: {from: 2, codes: {A: 要保護, B: 要支援, C: 特定妊婦}}"
NEW_CATEGORY = "区分: {from: 2, extract: label}"


def _text(month: str = MONTH) -> str:
    text = mapping_text(month)
    for old, new in ((OLD_FACILITY, NEW_FACILITY), (OLD_TYPE, NEW_TYPE), (OLD_CATEGORY, NEW_CATEGORY)):
        assert old in text
        text = text.replace(old, new)
    return text


def _deliver(folder: Path, month: str = MONTH, facility3: str = "ほしのこ園") -> Path:
    deliver(folder, month)
    write(folder, "認可保育.tsv", [
        "児童コード\t施設\t種別\t入所\t退所",
        "0000100010\tP01:さくら保育所\t1:保育所\t45383\t",
        f"0000100011\tP02:{facility3}\t２：認定こども園\t45017\t45747",
        "合計\t2",
    ], "utf-8-sig")  # fmt: skip
    write(
        folder,
        "地域型.csv",
        ["地域型保育の入所者一覧", "児童コード,施設,入所,退所", "0000100012,P09:ぽっけ,45383,"],
        "utf-8",
    )
    slash = extraction(month).strftime("%Y/%m/%d")
    write(folder, "YOTAI.csv", [
        f"0000100020,A 要保護,20240401,,○,20240402,{slash}",
        f"0000100021,C\u3000特定妊婦,20230115,20240101,,,{slash}",
    ])  # fmt: skip
    return folder


def _problems(text: str, registry) -> list:
    with pytest.raises(MappingError) as exc:
        parse_mapping(text, Path("kodomo_shien.yaml"), registry)
    return exc.value.problems


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _col(parsed, name):
    i = [c.column for c in parsed.spec.columns].index(name)
    return [row[i] for row in parsed.rows]


def test_the_key_reads_as_a_regex_or_a_name(registry):
    m = parse_mapping(_text(), Path("kodomo_shien.yaml"), registry)
    care = m.output("保育所入所.csv")
    assert care.columns["facility"].extract[0].pattern == "^P\\d+:(.*)$"
    assert care.columns["facility"].extract_line == _line_of(_text(), "施設名:")
    assert care.parts[0].columns["facility_type"].extract is not None
    assert m.output("要対協.csv").columns["category"].extract is not None
    assert m.output("児童扶養手当.csv").columns["recipient_atena_no"].extract is None


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("{from: 施設, extract: '^P(\\d+:(.*)$'}", ["extract", "正規表現が不正"]),  # unbalanced bracket
        ("{from: 施設, extract: '^P\\d+:.*$'}", ["extract", "1組", "0組"]),  # no group
        ("{from: 施設, extract: '^(P\\d+):(.*)$'}", ["extract", "1組", "2組"]),  # two groups
        ("{constant: さくら, extract: label}", ["extract", "from"]),  # nothing to take a part of
        ("{from: 施設, extrakt: label}", ["extrakt", "書けません", "extract"]),  # unknown keys still named
    ],
)
def test_each_extract_mistake_names_the_mapping_file_and_line(registry, rule, words):
    text = _text().replace(NEW_FACILITY, f"      施設名: {rule}\n")
    problems = _problems(text, registry)
    assert len(problems) == 1, [str(p) for p in problems]
    p = problems[0]
    assert p.path == "kodomo_shien.yaml" and p.line == _line_of(text, "施設名:")
    for w in words:
        assert w in p.message_ja, p.message_ja


def test_applied_the_parts_become_contract_values(registry, tmp_path):
    folder = _deliver(tmp_path / MONTH / "kodomo_shien")
    mapping = parse_mapping(_text(), Path("kodomo_shien.yaml"), registry)
    got = {p.spec.file: p for p in read_mapped_source(mapping, registry["kodomo_shien"], folder, MONTH, LIMITS)}
    assert not [r.message_ja for p in got.values() for r in p.rejections]
    care = got["保育所入所.csv"]
    assert _col(care, "facility") == ["さくら保育所", "ほしのこ園", "ぽっけ"]
    assert _col(care, "facility_type") == ["保育所", "認定こども園", "地域型保育"]  # ２：… full-width: the code is ２
    assert _col(care, "enrolled_on")[0] == dt.date(2024, 4, 1)
    assert _col(got["要対協.csv"], "category") == ["要保護", "特定妊婦"]


def test_a_value_the_extract_does_not_match_is_its_own_rule_for_it(registry, tmp_path):
    folder = _deliver(tmp_path / MONTH / "kodomo_shien", facility3="")
    write(folder, "認可保育.tsv", [
        "児童コード\t施設\t種別\t入所\t退所",
        "0000100010\tP01:さくら保育所\t1:保育所\t45383\t",
        "0000100011\tみなみ保育園\t2:認定こども園\t45017\t45747",   # no code: the extract does not match
        "0000100012\tＰ03：きた保育園\t3:幼稚園\t45017\t",          # full-width: '^P\\d+:' does not match either
        "0000100013\t\t1:保育所\t45017\t",                      # blank: the contract's required_blank, not the extract's
        "合計\t4",
    ], "utf-8-sig")  # fmt: skip
    mapping = parse_mapping(_text(), Path("kodomo_shien.yaml"), registry)
    parsed = read_mapped_source(mapping, registry["kodomo_shien"], folder, MONTH, LIMITS)
    rejections = [r for p in parsed for r in p.rejections]
    mismatch = [r for r in rejections if r.rule == "extract_mismatch"]
    assert len(mismatch) == 1, [(r.rule, r.message_ja) for r in rejections]
    r = mismatch[0]
    assert "extract_mismatch" in IT_RULES and r.for_it
    assert (r.file, r.rows, r.column) == ("認可保育.tsv", [3, 4], "施設")
    line = _line_of(_text(), "施設名:")
    assert f"対応表{line}行目の extract に合わない値が2種類" in r.message_ja
    for value in ("みなみ", "きた", "P03", "Ｐ03", "0000100011"):
        assert value not in r.message_ja and value not in r.message_en
    blank = [x for x in rejections if x.rule == "required_blank"]
    assert [(x.file, x.rows, x.for_it) for x in blank] == [("認可保育.tsv", [5], False)]


def test_the_dry_run_names_it_and_writes_nothing(registry, tmp_path, wh_conn):
    mapping = tmp_path / "town" / "sources" / "kodomo_shien.yaml"
    mapping.parent.mkdir(parents=True)
    mapping.write_text(_text(), encoding="utf-8")
    folder = _deliver(tmp_path / "inbox" / MONTH / "kodomo_shien")
    good = _run("check", mapping, folder)
    assert good.returncode == 0, good.stdout + good.stderr
    slash = extraction(MONTH).strftime("%Y/%m/%d")
    write(folder, "YOTAI.csv", [f"0000100020,要保護,20240401,,○,20240402,{slash}"])  # the code left out
    done = _run("check", "--month", MONTH, mapping, folder)
    assert done.returncode == 1
    out = done.stdout
    line = _line_of(_text(), "区分: {from: 2, extract: label}")
    assert "YOTAI.csv・1行目・列「2列目」" in out and "[extract_mismatch]" in out
    assert f"対応表{line}行目の extract に合わない値が1種類" in out
    assert "情報システム担当が対応表を直してください" in out
    assert "要保護" not in out.replace("A: 要保護", "") and "0000100020" not in out
    mapping.write_text(_text().replace(NEW_CATEGORY, "区分: {from: 2, extract: '^[A-Z] (.*'}"), encoding="utf-8")
    bad = _run("check", mapping, folder)
    assert bad.returncode == 1
    assert f"{mapping}:{line}: " in bad.stdout and "extract" in bad.stdout
    if wh_conn.execute("select to_regclass('raw.kodomo_shien__yotaikyo')").fetchone()[0]:
        n = wh_conn.execute("select count(*) from raw.kodomo_shien__yotaikyo where run_month = %s", (MONTH,))
        assert n.fetchone() == (0,)
