"""The pool export (docs/evaluation.md): counts only, and no suppressed cell can be recovered.

An outcome history of 13 judged months (small, so suppression is exercised) is exported for two
periods; the public report's outcome series for the same months is protected as the report
protects it (mimamori.report_protection.series_model). An attacker written apart from
mimamori.pool — on the exact export format, reusing tests/disclosure's equation system — reads
only the export files and the report's cells and bounds every hidden count by integer
programming: each must keep at least the threshold's width. Two controls show the test can fail:
the same exports with primary suppression only, and an overlapping period exported without
telling the export what was released before, are both narrowed.
"""

from __future__ import annotations

import json
import math
import random

import pytest
from disclosure.attacker import System
from mimamori import sdc

from learning.helpers import exact_bounds as _exact_bounds

THRESHOLD = 5
MONTHS = [f"2025-{m:02d}" for m in range(6, 13)] + [f"2026-{m:02d}" for m in range(1, 7)]  # 13 months
OUTCOMES = ("要支援", "調査継続", "経過観察", "支援不要")


@pytest.fixture(scope="module")
def rules():
    from mimamori.learning.rules import RuleSet

    return RuleSet.load()


@pytest.fixture(scope="module")
def history(rules):
    import pandas as pd

    rng = random.Random(23)
    items = sorted({ti.item_code for ti in rules.type_items})
    rows = []
    for m in MONTHS:
        for _ in range(rng.randint(3, 7)):
            age = rng.choice([0, 0, 1, 3, 5, 7, 8, 9, 11, 12, 13, 14, 15, 16])
            its = tuple(sorted(i for i in items if rng.random() < 0.12))
            outcome = rng.choices(OUTCOMES, (20, 10, 15, 55))[0]
            rows.append({"judged_run_month": m, "outcome": outcome, "age": age, "items": its})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def report_cells(history):
    """The public report's outcome series, month by month, as report_protection decides it."""
    from mimamori.report_protection import series_model

    released: dict[tuple, tuple[int, bool]] = {}
    for month in MONTHS:
        for o in OUTCOMES:
            name = f"outcome:{o}"
            per_month = history[history["outcome"] == o].groupby("judged_run_month").size().to_dict()
            per_month = {m: int(v) for m, v in per_month.items() if m <= month}
            space, qs, earlier = series_model(name, per_month, month, released)
            p = sdc.protect(space, qs, THRESHOLD, released=earlier)
            for q in qs:
                released[q.key] = (q.value, p.decisions[q.key].shown)
    return released


# --- the attacker: only the files and the report -----------------------------------------------


def _segments(types: list[dict]) -> list[tuple[int, int]]:
    edges = sorted({0, 19, *(t["min_age"] for t in types), *(t["max_age"] + 1 for t in types)})
    return [(a, b - 1) for a, b in zip(edges, edges[1:], strict=False) if a <= 18]


def attack(documents: list[dict], report: dict[tuple, tuple[int, bool]], *, first_narrow: bool = False):
    """Bounds of every hidden count of the documents and the report (label → (lower, upper)).
    ``first_narrow``: stop at the first count whose linear relaxation (an outer bound: narrow
    there is narrow for sure) is narrower than the threshold — enough for a control."""
    types = documents[0]["types"]
    segs = _segments(types)
    months = sorted({m for d in documents for m in d["period"]["months"]} | {k[2] for k in report})
    s = System()
    feature_items = {}
    for t in types:
        for f in t["features"]:
            feature_items[(t["type_code"], f["feature"])] = tuple(f["items"])

    def covers(seg, t):
        return t["min_age"] <= seg[0] and seg[1] <= t["max_age"]

    def total_var(m, seg, o):
        return s.var("T", m, seg, o)

    def feature_var(m, seg, items, c):
        v = s.var("A", m, seg, items, c)
        if ("linked", v) not in s.names:
            s.var("linked", v)
            outs = ["要支援"] if c == "要支援" else [o for o in OUTCOMES if o != "要支援"]
            s.add({v: 1.0, **{total_var(m, seg, o): -1.0 for o in outs}}, -math.inf, 0)
        return v

    hidden = []
    for d in documents:
        tmap = {t["type_code"]: t for t in d["types"]}
        pm = d["period"]["months"]
        for c in d["cells"]:
            t = tmap[c["type_code"]]
            form = {}
            for m in pm:
                for seg in segs:
                    if not covers(seg, t):
                        continue
                    if c["feature"] == "_total":
                        outs = ["要支援"] if c["outcome_class"] == "要支援" else [o for o in OUTCOMES if o != "要支援"]
                        for o in outs:
                            form[total_var(m, seg, o)] = 1.0
                    else:
                        form[feature_var(m, seg, feature_items[(t["type_code"], c["feature"])], c["outcome_class"])] = (
                            1.0
                        )
            value = c["value"] if c["value"] is not None else "hidden"
            s.observe(form, value)
            if value == "hidden":
                hidden.append((f"{d['period']['start']} {c['type_code']} {c['feature']} {c['outcome_class']}", form))
    for (name, kind, m), (value, shown) in report.items():
        o = name.split(":", 1)[1]
        ms = [m] if kind == "month" else [x for x in months if x <= m]
        form = {total_var(x, seg, o): 1.0 for x in ms for seg in segs}
        s.observe(form, value if shown else "hidden")
        if not shown:
            hidden.append((f"report {name} {kind} {m}", form))
    if first_narrow:
        for label, form in hidden:
            lo, hi, _ = s.bounds(form, integer=False)
            if hi - lo < THRESHOLD:
                return {label: (lo, hi)}
        return {}
    return {label: _exact_bounds(s, form) for label, form in hidden}


@pytest.fixture(scope="module")
def first(rules, history, report_cells):
    """The first period's export (12 judged months)."""
    from mimamori import pool

    return pool.export_margins(history, rules, MONTHS[:12], threshold=THRESHOLD, town="t", report_cells=report_cells)


def test_the_export_holds_counts_only_and_no_hidden_count_is_recovered(rules, history, report_cells, first):
    """Two periods (the 12 months, then the next one) and the report's series, attacked together."""
    from mimamori import pool

    decided = [(q.key, q.value, first.protection.decisions[q.key].shown) for q in first.quantities]
    second = pool.export_margins(
        history,
        rules,
        MONTHS[12:],
        threshold=THRESHOLD,
        town="t",
        report_cells=report_cells,
        earlier=[(MONTHS[:12], decided)],
    )
    documents = [first.document, second.document]
    for d in documents:
        assert set(d) == {
            "format",
            "town",
            "period",
            "threshold",
            "outcome_classes",
            "population",
            "types",
            "cells",
            "suppressed",
        }
        for c in d["cells"]:
            assert set(c) == {"type_code", "feature", "outcome_class", "value", "display"}
            assert c["value"] is None or (isinstance(c["value"], int) and c["value"] >= 0)
            assert c["display"] == (sdc.SUPPRESSED if c["value"] is None else f"{c['value']:,}")
        assert d["suppressed"] > 0, "the test data must exercise suppression"
    bounds = attack(documents, report_cells)
    narrow = {k: v for k, v in bounds.items() if v[1] - v[0] < THRESHOLD}
    assert bounds and not narrow, f"{len(narrow)} of {len(bounds)} hidden counts narrowed: {sorted(narrow)[:5]}"


def test_the_attacker_narrows_what_is_not_protected(rules, history, report_cells, first):
    """Controls: primary suppression alone, and an overlapping period exported without the first
    export as released, both give cells away — so the test above can fail."""
    from mimamori import pool

    doc = json.loads(json.dumps(first.document))
    for cell, (_, q) in zip(doc["cells"], first.cells, strict=True):
        if cell["value"] is None and first.protection.decisions[q.key].reason == "complementary":
            cell["value"] = q.value
    narrow_primary = attack([doc], report_cells, first_narrow=True)
    overlapping = pool.export_margins(
        history, rules, MONTHS[:13], threshold=THRESHOLD, town="t", report_cells=report_cells
    )
    narrow_overlap = attack([first.document, overlapping.document], report_cells, first_narrow=True)
    assert narrow_primary, "primary suppression alone should leave a count the attacker narrows"
    assert narrow_overlap, "an overlapping period not checked against the first export should give cells away"
