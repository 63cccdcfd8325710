"""Every fault class of the synthetic-town generator is rejected under the rule it stands for.

Checks only (no database): the loading side of a rejection is covered by test_load.py.
Skipped while the generator (mimamori.synth) is not there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mimamori.ingest.parse import read_file
from mimamori.ingest.validate import check_file

MONTH = "2030-10"
REPO = Path(__file__).resolve().parents[2]
PERSONAL = {"氏名", "カナ氏名", "住所", "生年月日", "宛名番号"}

#: generator fault kind → the rule that must reject it
FAULT_RULE = {
    "wrong_encoding": "encoding",
    "missing_column": "missing_column",
    "renamed_column": "renamed_column",
    "duplicate_key": "duplicate_key",
    "future_birth_date": "impossible_date",
    "bad_era_date": "bad_value",
    "empty_file": "empty_file",
    "header_only": "empty_file",
    "other_month": "other_month",
    "truncated_xlsx": "truncated_xlsx",
    "missing_source": "missing_file",
}
ROW_RULES = {"duplicate_key", "impossible_date", "bad_value", "other_month"}

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mimamori.synth.__main__") is None, reason="generator not available"
)


def generate(out: Path, scale: str, faults: list[str]) -> dict:
    cmd = [sys.executable, "-m", "mimamori.synth", "--out", str(out), "--seed", "42", "--scale", scale,
           "--months", "1", "--end-month", MONTH]  # fmt: skip
    for fault in faults:
        cmd += ["--fault", fault]
    env = {**os.environ, "PYTHONPATH": str(REPO / "include")}
    subprocess.run(cmd, check=True, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """Two small towns: every fault but missing_source (one per file), and missing_source alone."""
    a = tmp_path_factory.mktemp("faults")
    b = tmp_path_factory.mktemp("missing")
    kinds = [k for k in FAULT_RULE if k != "missing_source"]
    return [(a, generate(a, "0.3", kinds)), (b, generate(b, "0.1", ["missing_source"]))]


def test_every_fault_class_is_rejected_as_specified(faulty, registry):
    seen = set()
    for out, manifest in faulty:
        inbox = out / "inbox"
        by_file: dict[tuple[str, str], list] = {}
        for name, src in registry.items():
            for spec in src.files:
                path = inbox / MONTH / name / spec.file
                by_file[(name, spec.file)] = (check_file(src, spec, path, MONTH).rejections, spec, path)
        for fault in manifest["faults"]:
            rule = FAULT_RULE[fault["kind"]]
            source, _, fname = fault["file"].partition("/")
            targets = [fname] if fname else [s.file for s in registry[source].files]
            for target in targets:
                rejections, spec, path = by_file[(source, target)]
                hits = [r for r in rejections if r.rule == rule]
                assert hits, f"{fault['kind']} on {source}/{target}: got {[r.rule for r in rejections]}"
                if rule in ROW_RULES:
                    flagged = {n for r in hits for n in r.rows}
                    assert set(fault["rows"]) <= flagged, fault["kind"]
                    # The rejected rows' personal values never reach a message.
                    table, _ = read_file(path, spec.encoding)
                    cols = [i for i, h in enumerate(table.header) if h in PERSONAL]
                    values = {
                        str(rec[i]).strip()
                        for rec, n in zip(table.records, table.row_numbers, strict=True)
                        if n in flagged
                        for i in cols
                        if i < len(rec) and len(str(rec[i]).strip()) >= 4
                    }
                    for r in rejections:
                        assert not any(v in r.message_ja or v in r.message_en for v in values), fault["kind"]
            seen.add(fault["kind"])
    assert seen == set(FAULT_RULE)
