"""``profile --codes`` on the independent town's two vendor families (issue 21): the departments' code tables
(``generate.py --vendor-layout a|b`` writes them to ``vendor/docs/コード表_<課>.csv``) fill the code maps, so that
fewer lines are left for a person to write — measured against the mappings the two blind trials wrote by hand
(``towns/indep-trial/``, ``towns/indep-trial-b/``): per source, the lines of the finished mapping the draft does
not already hold (difflib over the mapping's leaves ``path = value``, so that a map written in flow style
``{…}`` counts as its entries)."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_sources_cli import _run as run_sources

REPO = Path(__file__).resolve().parents[2]
SOURCES = {
    "jumin": "住民課",
    "kodomo_shien": "こども支援班",
    "kodomo_katei": "こども家庭班",
    "fukushi": "福祉班",
    "gakko": "学校教育課",
}
TRIALS = {"a": REPO / "towns" / "indep-trial" / "sources", "b": REPO / "towns" / "indep-trial-b" / "sources"}
MONTH = "2026-10"


def leaves(text: str) -> list[str]:
    """A mapping as its leaves, ``path = value``; outputs keyed by file, inputs by name, lists by position."""

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, f"{path}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                name = v.get("file") or v.get("name") or v.get("input") if isinstance(v, dict) else None
                yield from walk(v, f"{path}[{name or i}]")
        else:
            yield f"{path} = {node}"

    return sorted(walk(yaml.safe_load(text) or {}, ""))


def to_write(draft: str, final: str) -> int:
    """Leaves of ``final`` that ``draft`` does not hold (inserted or replaced, difflib)."""
    a, b = leaves(draft), leaves(final)
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    return sum(j2 - j1 for tag, _, _, j1, j2 in ops if tag in ("insert", "replace"))


def _generate(out: Path, layout: str) -> Path:
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "independent_town" / "generate.py"), "--seed", "5", "--residents", "800",
         "--months", "1", "--first-month", MONTH, "--out", str(out), "--vendor-layout", layout, "-q"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return out / "vendor"


def draft(vendor: Path, source: str, out: Path, layout: str, codes: bool) -> str:
    args = []
    if source == "jumin" and layout == "a":  # the fixed-width 住民記録: its layout document gives the fields
        args += ["--layout", vendor / "docs" / f"レイアウト定義書_{SOURCES[source]}.csv"]
    if codes:
        args += ["--codes", vendor / "docs" / f"コード表_{SOURCES[source]}.csv"]
    done = run_sources("profile", "--quiet", "--source", source, "--out", out, *args, vendor / MONTH / source)
    assert done.returncode == 0, done.stderr[-2000:]
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize("layout", ["a", "b"])
def test_code_tables_leave_fewer_lines_to_write(tmp_path, layout):
    vendor = _generate(tmp_path / "town", layout)
    counts = {}
    for source in SOURCES:
        final = (TRIALS[layout] / f"{source}.yaml").read_text(encoding="utf-8")
        before = draft(vendor, source, tmp_path / f"{source}-before.yaml", layout, codes=False)
        after = draft(vendor, source, tmp_path / f"{source}-after.yaml", layout, codes=True)
        counts[source] = (to_write(before, final), to_write(after, final))
    print(f"layout {layout}: lines to write before → after: {counts}")
    assert all(after <= before for before, after in counts.values()), counts
    total_before, total_after = (sum(c[i] for c in counts.values()) for i in (0, 1))
    assert total_after < total_before * 0.85, counts
