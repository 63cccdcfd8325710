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


def test_a_longer_run_continues_the_same_town(tmp_path):
    """`make town MONTHS=3 MONTH=<the demo's end + 1>` is the demo's town with one more month: the
    months both runs generate are byte-identical (inbox and truth), the new month follows on."""
    import json

    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, seed=3, scale=0.2, months=2, end_month="2026-05")
    generate(b, seed=3, scale=0.2, months=3, end_month="2026-06")
    da, db = _digest(a), _digest(b)
    shared = [k for k in da if k.startswith(("inbox/", "truth/"))]
    assert len(shared) >= 2 * 20 and all(k in db for k in shared)
    assert [k for k in shared if da[k] != db[k]] == []
    assert any(k.startswith("inbox/2026-06/") for k in db)
    manifest = json.loads((b / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["horizon_month"] == json.loads((a / "manifest.json").read_text(encoding="utf-8"))["horizon_month"]
    from mimamori.synth.generate import HORIZON_MONTHS

    assert HORIZON_MONTHS >= 3
