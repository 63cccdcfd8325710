"""The independent town generator (tools/independent_town) writes what the input contract says.

A tiny town (two months, one of them April, with --vendor-layout) is generated in a subprocess;
every contract file of docs/contract/extracts.csv must be there with exactly its headers in order
and its encoding (CP932 with CRLF, UTF-8 with BOM, xlsx with the header in row 1), required values
present, codes from the contract's lists, event dates not after the file's 抽出日; nothing else in
the inbox. The truth has one row per resident aged 0–18 and 0/1 latent columns, and latent_map.csv
has the format of seeds/evaluation/type_latents.csv, naming truth columns, for every rule type.
No pipeline run (tools/independent_town/run_pipeline.py does that)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MONTHS = ["2026-03", "2026-04"]


def _contract() -> dict[tuple[str, str], dict]:
    files: dict[tuple[str, str], dict] = {}
    with (REPO / "docs" / "contract" / "extracts.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            spec = files.setdefault((r["source"], r["file"]), {"encoding": r["encoding"], "columns": []})
            spec["columns"].append(r)
    for spec in files.values():
        spec["columns"].sort(key=lambda c: int(c["position"]))
    return files


@pytest.fixture(scope="module")
def town(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("independent") / "town"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "independent_town" / "generate.py"),
            "--seed",
            "5",
            "--residents",
            "900",
            "--months",
            "2",
            "--first-month",
            MONTHS[0],
            "--out",
            str(out),
            "--vendor-layout",
            "-q",
        ],
        check=True,
        timeout=300,
    )
    return out


def _parse_date(text: str) -> date:
    text = text.strip()
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    m = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", text)
    assert m, f"not a contract date form: {text!r}"
    return date(*map(int, m.groups()))


def _rows(path: Path, encoding: str) -> tuple[list[str], list[list[str]]]:
    if encoding == "xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True).worksheets[0]
        values = [["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)]
        header = [str(v) for v in values[0]]
        body = [[v.strftime("%Y-%m-%d") if isinstance(v, date) else str(v) for v in row] for row in values[1:]]
        return header, body
    raw = path.read_bytes()
    if encoding == "utf-8-sig":
        assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: no BOM"
    else:
        assert not raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: a BOM in a CP932 file"
    text = raw.decode(encoding)  # strict: a byte outside the encoding fails here
    assert "\r\n" in text and "\n" not in text.replace("\r\n", ""), f"{path.name}: not CRLF"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def test_every_contract_file_with_its_columns_and_encoding(town):
    contract = _contract()
    for month in MONTHS:
        inbox = town / "inbox" / month
        delivered = {(p.parent.name, p.name) for p in inbox.glob("*/*")}
        assert delivered == set(contract), f"{month}: files differ from the contract"
        for (source, file), spec in contract.items():
            header, body = _rows(inbox / source / file, spec["encoding"])
            assert header == [c["header"] for c in spec["columns"]], f"{month} {file}: headers"
            assert body, f"{month} {file}: no data rows (an empty file is rejected)"
            cols = spec["columns"]
            ex_idx = next(i for i, c in enumerate(cols) if c["column"] == "extracted_on")
            keys = [i for i, c in enumerate(cols) if c["key"] == "key"]
            seen = set()
            for n, row in enumerate(body, start=2):
                assert len(row) == len(cols), f"{month} {file}:{n}: field count"
                extracted = _parse_date(row[ex_idx])
                assert (
                    date.fromisoformat(month + "-01")
                    < extracted
                    <= date.fromisoformat(month + "-01") + timedelta(days=46)
                )
                for c, value in zip(cols, row, strict=True):
                    where = f"{month} {file}:{n} {c['header']}"
                    if c["required"] == "yes":
                        assert value.strip() != "", f"{where}: required"
                    if not value.strip():
                        continue
                    kind = c["type"]
                    if kind.startswith("code:"):
                        allowed = {v.split("=")[0] for v in kind[5:].split(",")}
                        assert value in allowed, f"{where}: code"
                    elif kind.startswith("flag:"):
                        assert value in ("有", "無"), f"{where}: flag"
                    elif kind == "int":
                        assert re.fullmatch(r"\d+", value), f"{where}: int"
                    elif kind == "month":
                        assert re.fullmatch(r"\d{4}-\d{2}", value), f"{where}: month"
                    elif kind == "date":
                        assert date(1900, 1, 1) <= _parse_date(value) <= extracted, f"{where}: event date"
                    elif kind == "date_end":
                        _parse_date(value)
                if keys:
                    key = tuple(row[i] for i in keys)
                    assert key not in seen, f"{month} {file}:{n}: duplicated key"
                    seen.add(key)


def test_truth_and_latent_map(town):
    with (REPO / "dbt_project" / "seeds" / "rules" / "types.csv").open(encoding="utf-8", newline="") as f:
        types = {r["type_code"] for r in csv.DictReader(f)}
    with (REPO / "dbt_project" / "seeds" / "evaluation" / "type_latents.csv").open(encoding="utf-8", newline="") as f:
        seed_header = next(csv.reader(f))
    with (town / "latent_map.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == seed_header
        latent_map = list(reader)
    assert {r["type_code"] for r in latent_map} == types
    for month in MONTHS:
        with (town / "truth" / month / "children.csv").open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            truth = list(reader)
            columns = reader.fieldnames
        assert columns[0] == "atena_no"
        assert {r["latent_column"] for r in latent_map} <= set(columns[1:])
        assert all(r[c] in ("0", "1") for r in truth for c in columns[1:])
        with (town / "inbox" / month / "jumin" / "住民.csv").open(encoding="cp932", newline="") as f:
            residents = {r["宛名番号"]: _parse_date(r["生年月日"]) for r in csv.DictReader(f)}
        end = date.fromisoformat(month + "-01").replace(day=28) + timedelta(days=4)
        as_of = end - timedelta(days=end.day)
        d1 = as_of + timedelta(days=1)
        children = {a for a, b in residents.items() if d1.year - b.year - ((d1.month, d1.day) < (b.month, b.day)) <= 18}
        assert [r["atena_no"] for r in truth] and {r["atena_no"] for r in truth} == children
        for r in latent_map:
            assert sum(int(t[r["latent_column"]]) for t in truth) < len(truth)  # a latent, not everyone


def test_vendor_layout_is_the_towns_own(town):
    contract_names = {file for _source, file in _contract()}
    readme = (town / "vendor" / "README.txt").read_bytes().decode("cp932")
    for month in MONTHS:
        files = [p for p in (town / "vendor" / month).rglob("*") if p.is_file()]
        assert {p.parent.name for p in files} == {source for source, _file in _contract()}
        assert not contract_names & {p.name for p in files}, "a vendor file under a contract name"
        for p in files:
            assert p.name.replace(month.replace("-", ""), "<年月>") in readme, f"{p.name} not in README.txt"
    assert not list(town.rglob("*.yaml")), "no mapping is written"
