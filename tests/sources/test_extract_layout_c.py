"""Vendor layout c writes "code:label" / "code label" cells (学校 101:…, 施設 P01:…, Field A:…, 区分 1 要保護). The blind
trial (towns/indep-trial-c) listed every code in ``codes:``; with ``extract:`` the same columns take the label (or the
code) instead, and the mapped rows equal the contract delivery's rows of the same town — also with a school/facility
the code list never named. No value is printed on failure: files, columns and counts only."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from mimamori.ingest.limits import Limits
from mimamori.ingest.validate import check_file
from mimamori.sources.apply import read_mapped_source
from mimamori.sources.mapping import parse_mapping

REPO = Path(__file__).resolve().parents[2]
TRIAL = REPO / "towns" / "indep-trial-c" / "sources"
MONTH = "2026-09"
LIMITS = Limits(max_file_bytes=1 << 26, max_rows=1_000_000, max_line_bytes=65536, max_field_chars=4096)

#: source → (the trial's code-list rule, the extract written instead), contract files compared
REWRITES = {
    "gakko": (
        [
            (r"      学校:  [^\n]*\n        from: 学校\n        codes: [^\n]*\n", "      学校: {from: 学校, extract: label}\n"),
            (r"      学年:  [^\n]*\n        from: 学年\n        codes: [^\n]*\n", "      学年: {from: 学年, extract: '^(\\d+)年$'}\n"),
        ],
        ["学齢簿.csv"],
    ),
    "kodomo_shien": (
        [
            (r"      施設名:  [^\n]*\n        from: 施設\n        codes: [^\n]*\n", "      施設名: {from: 施設, extract: label}\n"),
            (r"        codes: \{\"1 要保護\"[^\n]*\n", "        extract: code\n        codes: {\"1\": 要保護, \"2\": 要支援, \"3\": 特定妊婦}\n"),
        ],
        ["保育所入所.csv", "要対協.csv"],
    ),
    "fukushi": (
        [
            (r"      相談分野:  [^\n]*\n        from: Field\n        codes: [^\n]*\n", "      相談分野: {from: Field, extract: '^[A-Z]:(.+)$'}\n"),
            (r"        codes: \{\"1:身体障害者手帳\"[^\n]*\n", "        extract: label\n        codes: {身体障害者手帳: 身体, 療育手帳: 療育, 精神障害者保健福祉手帳: 精神}\n"),
        ],
        ["相談記録.csv", "障害者手帳.csv"],
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def town_c(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("extract-c") / "town"
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "independent_town" / "generate.py"), "--seed", "13", "--residents",
         "1200", "--months", "1", "--first-month", MONTH, "--vendor-layout", "c", "--out", str(out), "--quiet"],
        check=True, cwd=REPO, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return out


def _mapping_text(source: str) -> str:
    text = (TRIAL / f"{source}.yaml").read_text(encoding="utf-8")
    for pattern, new in REWRITES[source][0]:
        text, n = re.subn(pattern, lambda _m, new=new: new, text)
        assert n == 1, (source, pattern, n)
    return text


def _rows(parsed) -> Counter:
    return Counter(tuple(row) for row in parsed.rows)


@pytest.mark.parametrize("source", REWRITES)
def test_extract_gives_the_contract_deliverys_rows(source, town_c, registry):
    text = _mapping_text(source)
    assert "extract:" in text
    mapping = parse_mapping(text, Path(f"{source}.yaml"), registry)
    folder = town_c / "vendor" / MONTH / source
    mapped = {p.spec.file: p for p in read_mapped_source(mapping, registry[source], folder, MONTH, LIMITS)}
    assert not [(r.file, r.rule, r.column) for p in mapped.values() for r in p.rejections]
    for file in REWRITES[source][1]:
        spec = registry[source].file(file)
        contract = check_file(registry[source], spec, town_c / "inbox" / MONTH / source / file, MONTH, LIMITS)
        assert not contract.rejections, file
        got, want = _rows(mapped[file]), _rows(contract)
        assert sum(got.values()) == sum(want.values()) > 0, file
        diff = [
            c.header
            for i, c in enumerate(spec.columns)
            if Counter(r[i] for r in got.elements()) != Counter(r[i] for r in want.elements())
        ]
        assert got == want, (file, "columns that differ:", diff)


def test_a_school_the_code_list_never_named_is_read_with_extract(town_c, registry, tmp_path):
    """The trial's codes: stop the month at a new school (unmapped_code); the extract reads it."""
    import shutil

    folder = tmp_path / "gakko"
    shutil.copytree(town_c / "vendor" / MONTH / "gakko", folder)
    path = next(folder.glob("学齢簿_*.csv"))
    text = path.read_bytes().decode("cp932")
    assert text.count("101:") > 0
    path.write_bytes(text.replace("101:", "105:", 1).encode("cp932"))
    listed = parse_mapping((TRIAL / "gakko.yaml").read_text(encoding="utf-8"), Path("gakko.yaml"), registry)
    rules = [r.rule for p in read_mapped_source(listed, registry["gakko"], folder, MONTH, LIMITS) for r in p.rejections]
    assert "unmapped_code" in rules
    extracted = parse_mapping(_mapping_text("gakko"), Path("gakko.yaml"), registry)
    parsed = read_mapped_source(extracted, registry["gakko"], folder, MONTH, LIMITS)
    assert not [(r.file, r.rule, r.column) for p in parsed for r in p.rejections]
