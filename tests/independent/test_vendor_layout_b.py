"""The independent town's vendor deliveries (tools/independent_town, --vendor-layout a|b|c).

Layouts b and c are mapped blind (issue #21): this test knows nothing of its files but what the delivery's
own documents say (vendor/docs: ファイル一覧, レイアウト定義書, コード表 per department), and checks
that those documents carry a person — every delivered file is listed, decodes as its listed
encoding, has exactly the fields its layout document names (in order, each record as many as
there are; for fixed width the positions tile the record and every line has the listed length and
record type), and every coded field has a code table holding each value the file uses (a "code:label" cell: its code
in the table and its label the table's). The same holds for layout a's documents. Layouts b and c
are deterministic per seed (another seed gives other files), their documents lie outside the month
folders the pipeline reads, their contract delivery is the one layout b writes for that seed, and
each delivery holds, per department and month, as many records as the contract delivery. Failures name files, fields
and counts, never a value.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MONTHS = ["2026-03", "2026-04"]
CODEC = {"Shift_JIS（CP932）": "cp932", "UTF-8（BOM付き）": "utf-8-sig", "UTF-8（BOMなし）": "utf-8"}
BLANK = "（空欄）"
CODE_LABEL = "コード＋名称"  # 型 of a cell holding a code and its label


def _generate(out: Path, seed: int, layout: str = "b") -> Path:
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "independent_town" / "generate.py"), "--seed", str(seed),
         "--residents", "900", "--months", "2", "--first-month", MONTHS[0], "--out", str(out),
         "--vendor-layout", layout, "-q"],
        check=True, timeout=300,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module", params=["b", "c"])
def towns(request, tmp_path_factory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp(f"layout_{request.param}")
    return tuple(_generate(base / d, s, request.param) for d, s in (("one", 5), ("again", 5), ("other", 6)))


@pytest.fixture(scope="module")
def town_b(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory.mktemp("layout_b1") / "town", 5, "b")


@pytest.fixture(scope="module")
def town_c(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory.mktemp("layout_c1") / "town", 5, "c")


@pytest.fixture(scope="module")
def town_a(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory.mktemp("layout_a") / "town", 5, "a")


@pytest.fixture(params=["a", "b", "c"])
def delivered_town(request) -> Path:
    return request.getfixturevalue(f"town_{request.param}")


def _cells(path: Path) -> list:
    from openpyxl import load_workbook

    return [[list(r) for r in ws.iter_rows(values_only=True)] for ws in load_workbook(path).worksheets]


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="cp932", newline="") as f:
        return list(csv.DictReader(f))


def _docs(vendor: Path) -> dict[str, dict]:
    """department → {"files": ファイル一覧 rows, "fields": {file: [レイアウト rows]}, "codes": {table: {code: 内容}}}."""
    out = {}
    for listing in sorted((vendor / "docs").glob("ファイル一覧_*.csv")):
        dept = listing.stem.split("_", 1)[1]
        fields = defaultdict(list)
        for r in _read_csv(vendor / "docs" / f"レイアウト定義書_{dept}.csv"):
            if r["項目名"]:
                fields[r["ファイル名"]].append(r)
        codes = defaultdict(dict)
        for r in _read_csv(vendor / "docs" / f"コード表_{dept}.csv"):
            codes[r["コード表名"]][r["コード"]] = r["内容"]
        out[dept] = {"files": _read_csv(listing), "fields": fields, "codes": codes}
    return out


def _pattern(name: str) -> re.Pattern:
    rx = re.escape(name).replace(re.escape("<年月日>"), r"\d{8}").replace(re.escape("<年月>"), r"\d{6}")
    rx = rx.replace(re.escape("<和暦年月日>"), r"[MTSHR]\d{6}")
    return re.compile(rx + "$")


def _delivered(vendor: Path, month: str) -> list[Path]:
    return sorted(p for p in (vendor / month).rglob("*") if p.is_file())


def _records(path: Path, spec: dict, fields: list[dict]) -> tuple[list[str] | None, list[list[str]]]:
    """(the header as delivered, the data records cut into fields), as the file list says."""
    header_row = None if spec["項目名の行"] == "なし" else int(spec["項目名の行"])
    first, tail = int(spec["データ開始行"]), int(spec["末尾の集計行数"])
    if spec["形式"] == "Excel":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        ws = wb[spec["シート"].split("（")[0]]
        lines = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    else:
        raw = path.read_bytes()
        codec = CODEC[spec["文字コード"]]
        assert raw.startswith(b"\xef\xbb\xbf") == (codec == "utf-8-sig"), f"{path.name}: BOM as listed"
        text = raw.decode(codec)  # strict: a byte outside the listed encoding fails here
        if spec["形式"] == "固定長":
            length = int(spec["レコード長（バイト）"])
            raw_lines = text.removeprefix("\ufeff").split("\r\n")
            assert raw_lines[-1] == "", f"{path.name}: CRLF after every record"
            raw_lines = raw_lines[:-1]
            assert all(len(x.encode(codec)) == length for x in raw_lines), f"{path.name}: record length"
            lines = []
            for x in raw_lines:
                b = x.encode(codec)
                cells = []
                for f in fields:
                    start, width = int(f["開始位置"]), int(f["桁数（バイト）"])
                    cells.append(b[start - 1 : start - 1 + width].decode(codec).strip(" \u3000"))
                lines.append(cells)
        else:
            delimiter = {"カンマ": ",", "タブ": "\t"}[spec["区切り文字"]]
            lines = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=delimiter))
    header = lines[header_row - 1] if header_row else None
    data = lines[first - 1 : len(lines) - tail]
    return header, data


def test_every_file_is_listed_and_described_and_every_code_has_a_table(delivered_town):
    vendor = delivered_town / "vendor"
    docs = _docs(vendor)
    assert docs, "no ファイル一覧 in vendor/docs"
    listed = {
        (dept, spec["ファイル名"]): spec for dept, d in docs.items() for spec in d["files"]
    }  # every listed file has a layout
    for (dept, name), _spec in listed.items():
        assert docs[dept]["fields"].get(name), f"{dept} {name}: no fields in レイアウト定義書"
    for month in MONTHS:
        seen = set()
        for path in _delivered(vendor, month):
            hits = [k for k in listed if _pattern(k[1]).match(path.name)]
            assert len(hits) == 1, f"{month} {path.name}: matches {len(hits)} entries of the file lists"
            dept, name = hits[0]
            seen.add(hits[0])
            spec, fields, codes = listed[hits[0]], docs[dept]["fields"][name], docs[dept]["codes"]
            header, data = _records(path, spec, fields)
            assert data, f"{month} {path.name}: no data records"
            names = [f["項目名"] for f in fields]
            if header is not None:
                assert [h.strip() for h in header if h.strip()] == names, f"{path.name}: header ≠ レイアウト定義書"
            if spec["形式"] in ("CSV", "TSV"):
                bad = sum(len(r) != len(names) for r in data)
                assert not bad, f"{month} {path.name}: {bad} record(s) with another number of fields"
            if spec["形式"] == "固定長":  # the fields tile the record, data records carry the listed type
                pos = 1
                for f in fields:
                    assert int(f["開始位置"]) == pos, f"{name} {f['項目名']}: start"
                    pos += int(f["桁数（バイト）"])
                assert pos - 1 == int(spec["レコード長（バイト）"]), f"{name}: fields ≠ record length"
                assert {r[0] for r in data} == {fields[0]["レコード区分"]}, f"{path.name}: data record type"
            for i, f in enumerate(fields):
                assert f["型"], f"{name} {f['項目名']}: no type"
                if f["型"] not in ("コード", CODE_LABEL):
                    continue
                table = codes.get(f["コード表"])
                assert table, f"{name} {f['項目名']}: code table {f['コード表']!r} missing from コード表_{dept}.csv"
                values = {r[i].strip() for r in data if i < len(r)}
                if f["型"] == CODE_LABEL:  # "1:男", "1 要保護": the code and the table's label for it
                    allowed = {f"{c}{sep}{label}" for c, label in table.items() for sep in ": "}
                else:
                    allowed = {c for c in table if c != BLANK} | ({""} if BLANK in table else set())
                unknown = values - allowed
                assert not unknown, f"{month} {path.name} {f['項目名']}: {len(unknown)} value(s) not in {f['コード表']}"
        assert seen == set(listed), f"{month}: {len(set(listed) - seen)} listed file(s) not delivered"


def test_layouts_b_and_c_are_deterministic_per_seed_and_outside_the_inbox(towns, town_b):
    one, again, other = (t / "vendor" for t in towns)
    files = [p.relative_to(one) for p in sorted(one.rglob("*")) if p.is_file()]
    assert files == [p.relative_to(again) for p in sorted(again.rglob("*")) if p.is_file()]
    differ = 0
    for rel in files:
        a, b = one / rel, again / rel
        if rel.suffix == ".xlsx":  # the workbook's zip carries a save time: compare the cells
            assert _cells(a) == _cells(b), f"{rel}: differs between two runs of one seed"
        else:
            assert a.read_bytes() == b.read_bytes(), f"{rel}: differs between two runs of one seed"
        o = other / rel
        differ += not o.exists() or (rel.suffix != ".xlsx" and o.read_bytes() != a.read_bytes())
    assert differ > len(files) // 2, "another seed should give other files"
    for month in MONTHS:
        assert not (one / month / "docs").exists()
        assert all(p.parent.parent.name == month for p in _delivered(one, month)), "month/<source>/<file> only"
    assert {p.parent.name for p in (one / "docs").iterdir()} == {"docs"}
    assert not list(towns[0].rglob("*.yaml")), "no mapping is written"
    inbox, inbox_b = towns[0] / "inbox", town_b / "inbox"
    contract = sorted(p.relative_to(inbox) for p in inbox.rglob("*") if p.is_file())
    assert contract == sorted(p.relative_to(inbox_b) for p in inbox_b.rglob("*") if p.is_file())
    for rel in contract:
        same = _cells(inbox / rel) == _cells(inbox_b / rel) if rel.suffix == ".xlsx" else None
        same = (inbox / rel).read_bytes() == (inbox_b / rel).read_bytes() if same is None else same
        assert same, f"{rel}: contract delivery ≠ layout b's"


def test_the_vendor_delivery_holds_the_contract_deliverys_records(delivered_town):
    """Per department and month, the data records of the vendor files = the rows of the contract files."""
    town = delivered_town
    docs = _docs(town / "vendor")
    listed = {spec["ファイル名"]: (dept, spec) for dept, d in docs.items() for spec in d["files"]}
    for month in MONTHS:
        contract = defaultdict(int)
        for path in (town / "inbox" / month).glob("*/*"):
            if path.suffix == ".xlsx":
                from openpyxl import load_workbook

                contract[path.parent.name] += load_workbook(path, read_only=True).worksheets[0].max_row - 1
            else:
                enc = "utf-8-sig" if path.read_bytes().startswith(b"\xef\xbb\xbf") else "cp932"
                contract[path.parent.name] += len(list(csv.reader(io.StringIO(path.read_text(enc), newline="")))) - 1
        vendor = defaultdict(int)
        for path in _delivered(town / "vendor", month):
            name = next(n for n in listed if _pattern(n).match(path.name))
            dept, spec = listed[name]
            vendor[path.parent.name] += len(_records(path, spec, docs[dept]["fields"][name])[1])
        assert dict(vendor) == dict(contract), f"{month}: records per department differ"
