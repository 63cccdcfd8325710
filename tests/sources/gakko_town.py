"""A small 学校教育課 delivered in its own layout (synthetic values only): the 学齢簿 part of a mapping, and
``bin/mimamori sources check`` run as IT runs it (a subprocess)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

REGISTER_INPUT = """\
  - name: gakurei
    files: "GAKUREI_*.csv"
    encoding: utf-8
"""

REGISTER_OUTPUT = """\
  - file: 学齢簿.csv
    from: gakurei
    columns:
      児童生徒番号: 番号
      氏名: 氏名
      カナ氏名: カナ
      生年月日: {from: 生年月日, date: ymd}
      性別: {from: 性別, codes: {"1": 男, "2": 女}}
      住所: 住所
      学校: 学校
      学年: 学年
      特別支援学級: {from: 支援, codes: {"0": 無, "1": 有}}
      抽出日: {from_file_name: '_(\\d{8})\\.csv$', date: yyyymmdd}
"""

REGISTER_HEADER = "番号,氏名,カナ,生年月日,性別,住所,学校,学年,支援"


def mapping(inputs: str = "", outputs: str = "") -> str:
    """A gakko mapping: the 学齢簿 input and output, then ``inputs`` and ``outputs`` (YAML list items)."""
    return "source: gakko\ninputs:\n" + REGISTER_INPUT + inputs + "outputs:\n" + REGISTER_OUTPUT + outputs


def run_check(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(REPO / "bin" / "mimamori"), "sources", "check", *map(str, args)],
        cwd=REPO,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def line_of(path: Path, needle: str) -> int:
    return next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in t)
