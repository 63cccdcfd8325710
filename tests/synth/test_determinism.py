"""Same seed → byte-identical files (xlsx included); another seed → another town."""

from __future__ import annotations

import hashlib

from mimamori.synth import generate


def _digest(root):
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_identical_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, seed=3, scale=0.2, months=2, end_month="2026-05")
    generate(b, seed=3, scale=0.2, months=2, end_month="2026-05")
    generate(c, seed=4, scale=0.2, months=2, end_month="2026-05")
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert da == db
    assert any(k.endswith("出欠.xlsx") for k in da)
    assert da.keys() == dc.keys()
    differ = [k for k in da if da[k] != dc[k] and k.startswith("inbox/")]
    assert len(differ) >= 15
