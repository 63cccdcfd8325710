"""Rows under the header that are no data (issue 21, the layout-b trial's 出欠状況.xlsx: a units row 日/回 under the
header): one or two of them — a units row, a second header line (累計/前年度), both — are skipped
(``skip: [{first: N}]`` with a TODO to confirm), and the columns are profiled on the data rows alone. Small synthetic
files (CSV and xlsx) written here; no value is asserted or printed."""

from __future__ import annotations

import random

import openpyxl
import pytest
from mimamori.sources.scan import profile_file

HEADER = ["学籍番号", "学年", "組", "欠席日数", "遅刻早退回数", "給食費", "集計日"]
UNDER = {
    "units": [["", "", "", "日", "回", "円", ""]],
    "units and a second header line": [
        ["", "", "", "（累計）", "（累計）", "（月額）", ""],
        ["", "", "", "日", "回", "円", ""],
    ],
    "two units rows, the second sparse": [["", "", "", "日", "回", "", ""], ["", "", "", "", "", "円", ""]],
}


def _rows(under: list[list[str]], n: int = 40) -> list[list]:
    rng = random.Random(6)
    rows = [HEADER, *under]
    for i in range(n):
        rows.append([f"E{i:07d}", str(rng.randrange(1, 7)), str(rng.randrange(1, 4))]
                    + [str(rng.randrange(0, 30)), str(rng.randrange(0, 12)), str(rng.choice([0, 4500, 4800])), "20261031"])  # fmt: skip
    return rows


def _write(tmp_path, rows: list[list], kind: str):
    if kind == "csv":
        path = tmp_path / "出欠_202610.csv"
        path.write_bytes(("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("cp932"))
        return path
    path = tmp_path / "出欠_202610.xlsx"
    book = openpyxl.Workbook()
    for r in rows:
        book.active.append([int(v) if v.isdigit() and not v.startswith("0") else v for v in r])
    book.save(path)
    return path


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("case", UNDER)
def test_one_or_two_rows_under_the_header_are_skipped(tmp_path, case, kind):
    under = UNDER[case]
    profile = profile_file(_write(tmp_path, _rows(under), kind), quiet=True)
    assert profile.header and profile.rows_under_header == len(under), (case, kind, profile.rows_under_header)
    assert profile.records == 40, (case, kind)
    kinds = {c.header: c.kind for c in profile.columns}
    assert kinds["欠席日数"] != "text" and kinds["給食費"] != "text", (case, kind, kinds)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_header_with_data_right_under_it_skips_nothing(tmp_path, kind):
    profile = profile_file(_write(tmp_path, _rows([]), kind), quiet=True)
    assert profile.header and profile.rows_under_header == 0 and profile.records == 40
