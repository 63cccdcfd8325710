"""Every file of the contract, for every month: headers in order, encodings, CRLF, 抽出日."""

from __future__ import annotations

import re
from datetime import date

import openpyxl
import pytest

from .conftest import contract_files
from .helpers import read_csv

FILES = contract_files()


def test_contract_copy_matches_shared():
    from pathlib import Path

    shared = Path("/work/shared/contract/extracts.csv")
    if not shared.exists():
        pytest.skip("shared contract not on this machine")
    from .conftest import CONTRACT

    assert CONTRACT.read_bytes() == shared.read_bytes()


@pytest.mark.parametrize("key", sorted(FILES), ids=lambda k: f"{k[0]}/{k[1]}")
def test_headers_and_encoding(town, key):
    out, summary = town
    source, file = key
    spec = FILES[key]
    for month in summary.months:
        path = out / "inbox" / month / source / file
        assert path.is_file(), f"missing {path.relative_to(out)}"
        if spec["encoding"] == "xlsx":
            wb = openpyxl.load_workbook(path, read_only=True)
            ws = wb.worksheets[0]
            header = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]
            assert header == spec["headers"]
            n = sum(1 for _ in ws.iter_rows(min_row=2))
            assert n == summary.rows[month][f"{source}/{file}"]
            continue
        raw = path.read_bytes()
        if spec["encoding"] == "utf-8-sig":
            assert raw.startswith(b"\xef\xbb\xbf")
        else:
            assert not raw.startswith(b"\xef\xbb\xbf")
            raw.decode("cp932")  # raises if not cp932
        assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n"), "CRLF line ends only"
        header, rows = read_csv(path, spec["encoding"])
        assert header == spec["headers"]
        assert all(len(r) == len(header) for r in rows)
        assert len(rows) == summary.rows[month][f"{source}/{file}"]


def _parse_any(text: str) -> date:
    m = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", text)
    if m:
        return date(*map(int, m.groups()))
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if m:
        return date(*map(int, m.groups()))
    eras = {"令和": 2018, "平成": 1988, "R": 2018, "H": 1988}
    m = re.fullmatch(r"(令和|平成)(元|\d+)年(\d+)月(\d+)日", text) or re.fullmatch(
        r"([RH])(\d+)[./](\d+)[./](\d+)", text
    )
    if m:
        y = 1 if m.group(2) == "元" else int(m.group(2))
        return date(eras[m.group(1)] + y, int(m.group(3)), int(m.group(4)))
    raise AssertionError("unparsed date format")


def test_extraction_dates_in_window(town):
    out, summary = town
    for month in summary.months:
        y, m = map(int, month.split("-"))
        for (source, file), spec in FILES.items():
            path = out / "inbox" / month / source / file
            if spec["encoding"] == "xlsx":
                ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
                values = {r[-1].value.date() for r in ws.iter_rows(min_row=2)}
            else:
                _, rows = read_csv(path, spec["encoding"])
                values = {_parse_any(r[-1]) for r in rows}
            if not values:
                continue
            assert len(values) == 1, f"{file}: one 抽出日 per file"
            d = values.pop()
            ny, nm = (y + (m == 12), m % 12 + 1)
            assert (d.year, d.month) == (ny, nm) and d.day <= 10 or (d.year, d.month) == (y, m) and d.day >= 28


def test_keys_unique(town):
    out, summary = town
    for (source, file), spec in FILES.items():
        if not spec["keys"] or spec["encoding"] == "xlsx":
            continue
        header, rows = read_csv(out / "inbox" / summary.months[-1] / source / file, spec["encoding"])
        idx = [header.index(k) for k in spec["keys"]]
        keys = [tuple(r[i] for i in idx) for r in rows]
        assert len(keys) == len(set(keys)), f"duplicate key in {file}"
