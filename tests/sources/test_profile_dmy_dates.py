"""Day-first and month-first dates (31/08/2022, 1/8/2022, 31.08.2022, 08/31/2022) and English headers in exports never
seen (issue 21, blind trial C): the profile tells the style from the values — the order from a value above 12 — and
drafts it as ``{format: …}``; when every value reads both ways it drafts one with a TODO naming both readings.
The drafted style is applied by the mapping's own parser. Small files written here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mimamori.sources.dates import DateStyle, parse_styled_date
from mimamori.sources.draft import best_matches, choose_source
from mimamori.sources.drafttext import render_draft
from mimamori.sources.scan import profile_file


def _write(path: Path, rows: list[list[str]]) -> Path:
    path.write_bytes(("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("cp932"))
    return path


STYLES = {
    "dd/mm/yyyy": ("%d/%m/%Y", lambda d, m, y: f"{d:02d}/{m:02d}/{y}"),
    "d/m/yyyy": ("%d/%m/%Y", lambda d, m, y: f"{d}/{m}/{y}"),
    "dd.mm.yyyy": ("%d.%m.%Y", lambda d, m, y: f"{d:02d}.{m:02d}.{y}"),
    "dd-mm-yyyy": ("%d-%m-%Y", lambda d, m, y: f"{d:02d}-{m:02d}-{y}"),
    "mm/dd/yyyy": ("%m/%d/%Y", lambda d, m, y: f"{m:02d}/{d:02d}/{y}"),
}

HEADERS = ["PersonID", "CertType", "Grade", "DevDisability", "IssueDate", "ExtractDate"]


def _rows(write, n: int = 30, day=lambda i: 1 + i % 28) -> list[list[str]]:
    return [
        [
            f"31{i:08d}",
            ["1", "2", "3"][i % 3],
            f"{1 + i % 6}",
            "NY"[i % 2],
            write(day(i), 1 + i % 12, 2022),
            write(7, 10, 2026),
        ]
        for i in range(n)
    ]


def _draft(path: Path, registry) -> str:
    profile = profile_file(path, quiet=True)
    src = choose_source([profile], registry, "fukushi")
    return render_draft(src, [(profile, best_matches(profile, src))])


@pytest.mark.parametrize("kind", STYLES)
def test_a_day_first_or_month_first_date_is_drafted_as_its_format(tmp_path, registry, kind):
    pattern, write = STYLES[kind]
    path = _write(tmp_path / "TECHO_202609.csv", [HEADERS, *_rows(write)])
    profile = profile_file(path, quiet=True)
    issued = profile.columns[4]
    assert issued.kind == "date", (kind, issued.kind)
    text = _draft(path, registry)
    line = re.search(r"^      交付日: \{from: IssueDate, date: \{format: \"([^\"]+)\"\}\}(.*)$", text, re.M)
    assert line, (kind, text)
    assert line[1] == pattern and "TODO" not in line[2], (kind, line[0])
    # the drafted pattern reads the values the file holds, as the mapping will
    assert parse_styled_date(write(31, 8, 2022), DateStyle("format", line[1])).isoformat() == "2022-08-31"
    assert re.search(r"^      抽出日: \{from: ExtractDate, date: \{format:", text, re.M), kind


def test_a_day_month_order_no_value_tells_is_drafted_with_a_todo_naming_both(tmp_path, registry):
    pattern, write = STYLES["dd/mm/yyyy"]
    path = _write(tmp_path / "TECHO_202609.csv", [HEADERS, *_rows(write, day=lambda i: 1 + i % 12)])
    text = _draft(path, registry)
    line = re.search(r"^      交付日: \{from: IssueDate, date: \{format: \"([^\"]+)\"\}\}\s+#(.*)$", text, re.M)
    assert line, text
    assert "TODO 確認" in line[2] and "%d/%m/%Y" in line[2] and "%m/%d/%Y" in line[2], line[0]


def test_english_headers_match_by_their_names(tmp_path, registry):
    pattern, write = STYLES["dd/mm/yyyy"]
    path = _write(tmp_path / "TECHO_202609.csv", [HEADERS, *_rows(write)])
    (m, *_) = best_matches(profile_file(path, quiet=True), registry["fukushi"])
    assert m.spec.file == "障害者手帳.csv"
    got = {a.column.header: (a.source.header if a.source else None, a.score) for a in m.assigns}
    for contract, delivered in {
        "宛名番号": "PersonID",
        "手帳種別": "CertType",
        "等級": "Grade",
        "発達障害": "DevDisability",
        "交付日": "IssueDate",
        "抽出日": "ExtractDate",
    }.items():
        assert got[contract][0] == delivered and got[contract][1] >= 0.85, (contract, got[contract])
