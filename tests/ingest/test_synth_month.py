"""One month of the synthetic town (scale 1) loads completely: every raw table has its file's rows.

Skipped while the generator (mimamori.synth) is not there yet.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mimamori.ingest import ingest_month

MONTH = "2030-10"  # clear of the months other suites load


def file_rows(path: Path, encoding: str) -> int:
    """Data rows of a delivered file, counted without the ingestion code."""
    if encoding == "xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        rows = [r for r in wb.worksheets[0].iter_rows(values_only=True) if any(v is not None for v in r)]
        wb.close()
        return len(rows) - 1
    text = path.read_bytes().decode(encoding)
    return sum(1 for row in csv.reader(io.StringIO(text, newline="")) if any(row)) - 1


@pytest.mark.skipif(importlib.util.find_spec("mimamori.synth.__main__") is None, reason="generator not available")
def test_generated_month_loads_completely(tmp_path, registry, loader_dsn, wh_conn):
    repo = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-m", "mimamori.synth", "--out", str(tmp_path), "--seed", "42", "--scale", "1",
         "--months", "1", "--end-month", MONTH],
        check=True, cwd=repo, env={**os.environ, "PYTHONPATH": str(repo / "include")},
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    inbox = tmp_path / "inbox"
    started = time.monotonic()
    results = ingest_month(MONTH, inbox, loader_dsn, tmp_path / "quarantine", registry=registry, log=lambda _: None)
    seconds = time.monotonic() - started
    problems = {name: [r.message_en for r in res.rejections] for name, res in results.items() if not res.ok}
    assert not problems
    for name, src in registry.items():
        for spec in src.files:
            expected = file_rows(inbox / MONTH / name / spec.file, spec.encoding)
            loaded = wh_conn.execute(
                f"select count(*) from raw.{spec.raw_table} where run_month = %s", (MONTH,)
            ).fetchone()[0]
            assert loaded == expected > 0, spec.file
    print(f"scale 1 month ingested in {seconds:.1f}s")
    assert seconds < 30
