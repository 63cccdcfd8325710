"""``year:`` — an integer contract column of years delivered as 和暦 (認定年度 ``R7``, ``令和7年度``, ``H31``) or with
年度 (``2025年度``): the mapping turns it into the Gregorian year (the year a fiscal year starts), a value in another
form is a dry-run error naming the file, row and column (never the value), and profile proposes the style for such
a column. Unlike a ``codes:`` map of the years seen, the style reads next year's R8 without a change."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from mimamori.ingest.limits import Limits
from mimamori.ingest.parse import ParseError
from mimamori.sources.apply import read_mapped_source
from mimamori.sources.dates import StyleError, parse_styled_year
from mimamori.sources.mapping import MappingError, parse_mapping
from test_sources_cli import _run as run_sources

LIMITS = Limits(max_file_bytes=1 << 24, max_rows=100_000, max_line_bytes=65536, max_field_chars=4096)

MAPPING = """\
source: gakko
inputs:
  - name: aid
    files: "SHUEN_*.csv"
    encoding: cp932
outputs:
  - file: 就学援助.csv
    from: aid
    columns:
      児童生徒番号: 学籍番号
      氏名: 氏名
      生年月日: {from: 生年月日, date: yyyymmdd}
      認定年度: {from: 認定年度, year: wareki}
      抽出日: {from: 出力日, date: yyyymmdd}
"""


@pytest.mark.parametrize(
    ("style", "value", "year"),
    [
        ("wareki", "R7", 2025),
        ("wareki", "R07", 2025),
        ("wareki", "Ｒ７", 2025),
        ("wareki", "令和7", 2025),
        ("wareki", "令7", 2025),
        ("wareki", "令和7年", 2025),
        ("wareki", "令和7年度", 2025),
        ("wareki", "令和元年度", 2019),
        ("wareki", "H31", 2019),
        ("wareki", "平成31年度", 2019),
        ("wareki", "S64", 1989),
        ("seireki", "2025年度", 2025),
        ("seireki", "2025", 2025),
        ("seireki", 2025, 2025),
        ("seireki", 2025.0, 2025),
    ],
)
def test_each_year_style_reads_its_forms(style, value, year):
    assert parse_styled_year(value, style) == year


@pytest.mark.parametrize(
    ("style", "value"),
    [("wareki", "2025年度"), ("wareki", "7"), ("wareki", 7), ("wareki", "R7.4"), ("seireki", "R7"), ("seireki", "25")],
)
def test_a_year_in_another_form_is_a_style_problem(style, value):
    with pytest.raises(StyleError):
        parse_styled_year(value, style)


@pytest.mark.parametrize("value", ["H32", "R0", "S65"])
def test_a_year_its_era_does_not_have_is_the_datas_problem(value):
    with pytest.raises(ParseError) as exc:
        parse_styled_year(value, "wareki")
    assert exc.value.reason == "era_out_of_range"


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("year: wareki}", "year: japanese}", ["japanese", "使えない", "wareki, seireki"]),
        ("{from: 出力日, date: yyyymmdd}", "{from: 出力日, year: wareki}", ["整数の列ではない", "year"]),
        ("year: wareki}", 'year: wareki, codes: {R7: "2025"}}', ["year と codes"]),
    ],
)
def test_a_year_mistake_names_its_line(registry, old, new, words):
    text = MAPPING.replace(old, new)
    assert text != MAPPING
    with pytest.raises(MappingError) as exc:
        parse_mapping(text, Path("gakko.yaml"), registry)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if new.split("}")[0] in ln)
    hits = [p for p in exc.value.problems if p.line == line]
    assert hits and all(w in hits[0].message_ja for w in words), [str(p) for p in exc.value.problems]


def _deliver(folder: Path, years: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["学籍番号", "氏名", "生年月日", "認定年度", "出力日"])
    for i, y in enumerate(years):
        w.writerow([f"E{2200000 + i}", "見守　花子", "20160228", y, "20261105"])
    path = folder / "SHUEN_202611.csv"
    path.write_bytes(buf.getvalue().encode("cp932"))
    return path


def test_the_mapping_makes_the_gregorian_year_next_year_too(registry, tmp_path):
    """R7 and next year's R8 (and 令和8年度 from a new release of the vendor's system) read without a change."""
    folder = tmp_path / "gakko"
    _deliver(folder, ["R7", "R8", "令和8年度", "Ｒ７"])
    mapping = parse_mapping(MAPPING, Path("gakko.yaml"), registry)
    (parsed,) = [p for p in read_mapped_source(mapping, registry["gakko"], folder, "2026-10", LIMITS) if p.rows]
    assert not parsed.rejections, [r.message_en for r in parsed.rejections]
    i = [c.column for c in parsed.spec.columns].index("fiscal_year")
    assert [row[i] for row in parsed.rows] == [2025, 2026, 2026, 2025]


def test_a_year_not_in_the_style_is_a_dry_run_error_naming_file_row_and_column(tmp_path):
    folder = tmp_path / "gakko"
    _deliver(folder, ["R7", "2025年度", "R7", "第七"])
    mapping = tmp_path / "gakko.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    done = run_sources("check", "--month", "2026-10", mapping, folder)
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "date_style" in out and "年の書き方「和暦の年（R7・令和7年度など）」ではありません" in out, out
    assert "SHUEN_202611.csv" in out and "認定年度" in out and "3行目" in out and "5行目" in out, out
    assert "2025年度" not in out and "第七" not in out and "見守" not in out, "no value on screen"


def test_profile_proposes_the_year_style_for_an_era_year_column(tmp_path):
    folder = tmp_path / "inbox" / "gakko"
    path = _deliver(folder, ["R7"] * 6 + ["R8"] * 6)
    out = tmp_path / "gakko.yaml"
    done = run_sources("profile", "--quiet", "--source", "gakko", "--out", out, path)
    assert done.returncode == 0, done.stderr
    (line,) = [ln for ln in out.read_text(encoding="utf-8").splitlines() if ln.strip().startswith("認定年度:")]
    assert "{from: 認定年度, year: wareki}" in line and "TODO" not in line, line
    assert "コード（和暦）" in done.stdout and "見守" not in done.stdout + done.stderr
