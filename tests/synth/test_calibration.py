"""The reference evaluator flags 6–10% of children in the default town, each type plausibly."""

from __future__ import annotations

from .helpers import read_truth


def test_flagged_share(town):
    out, summary = town
    month = summary.months[-1]
    flags = read_truth(out / "truth" / month / "expected_flags.csv")
    kids = read_truth(out / "truth" / month / "children.csv")
    assert len(flags) == len(kids)
    n = len(flags)
    share = sum(int(f["any"]) for f in flags) / n
    assert 0.06 <= share <= 0.10, share
    per = {t: sum(int(f[t]) for f in flags) / n for t in flags[0] if t not in ("atena_no", "any")}
    assert 0.005 <= per["withdrawal"] <= 0.03
    assert 0.002 <= per["postpartum_depression"] <= 0.015
    for t in ("young_carer", "poverty", "abuse", "developmental_disability"):
        assert 0.005 <= per[t] <= 0.05, (t, per[t])
    infants = [k["atena_no"] for k in kids if k["age"] == "0"]
    pp = {f["atena_no"] for f in flags if f["postpartum_depression"] == "1"}
    assert 0.05 <= len(pp) / len(infants) <= 0.3  # ~EPDS≥9 rate plus moved-in / checkup signals
    assert summary.flagged[month]["any"] == sum(int(f["any"]) for f in flags)
