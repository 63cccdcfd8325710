"""The transparency report's yield table (docs/evaluation.md §1): through mimamori.sdc, linked to
the outcome series, over several months' reports.

Months of small outcome counts are reported one after another as the report does (the series
first, then the yield with the series and the earlier yields as released). An attacker written
apart — unknowns per month for 要支援 not known / known and the three other outcomes, per type
the discussed children among each, each at most its month's total — reads every month's shown and
hidden cells (series and yield) and bounds each hidden yield count: every one keeps the
threshold's width. The control (primary suppression only) is narrowed, so the test can fail.
"""

from __future__ import annotations

import random

from disclosure.attacker import System
from mimamori import sdc

from learning.helpers import exact_bounds as _exact_bounds

THRESHOLD = 5
MONTHS = ["2026-05", "2026-06", "2026-07", "2026-08"]
TYPES = ("poverty", "abuse")
OUTCOMES = ("要支援", "調査継続", "経過観察", "支援不要")


def _history():
    rng = random.Random(7)
    rows = []
    for m in MONTHS:
        for _ in range(rng.randint(5, 8)):
            outcome = rng.choices(OUTCOMES, (30, 15, 15, 40))[0]
            rows.append(
                {
                    "month": m,
                    "outcome": outcome,
                    "known": rng.random() < 0.4,
                    "types": {t for t in TYPES if rng.random() < 0.6},
                }
            )
    return rows


def _yield_rows(history, upto):
    rows = []
    for m in [x for x in MONTHS if x <= upto]:
        for t in ("_any", *TYPES):
            sel = [r for r in history if r["month"] == m and (t == "_any" or t in r["types"])]
            rows.append(
                {
                    "type_code": t,
                    "type_label_ja": t,
                    "type_sort_order": 0,
                    "judged_run_month": m,
                    "discussed_count": len(sel),
                    "needs_support_count": sum(r["outcome"] == "要支援" for r in sel),
                    "needs_support_new_count": sum(r["outcome"] == "要支援" and not r["known"] for r in sel),
                }
            )
    return rows


def _publish(history, *, primary_only=False):
    """Every month's report cells (key → (value, shown)), decided month by month; with
    ``primary_only`` the same reports with their complementary yield cells shown again."""
    from mimamori.report_protection import protect_yield, series_model

    released: dict[tuple, tuple[int, bool]] = {}
    view: dict[tuple, tuple[int, bool]] = {}
    for month in MONTHS:
        outcomes = {
            o: {m: sum(1 for r in history if r["month"] == m and r["outcome"] == o) for m in MONTHS if m <= month}
            for o in OUTCOMES
        }
        series_now = {}
        for o in OUTCOMES:
            series_released = {k: v for k, v in released.items() if len(k) == 3}
            space, qs, earlier = series_model(f"outcome:{o}", outcomes[o], month, series_released)
            p = sdc.protect(space, qs, THRESHOLD, released=earlier)
            for q in qs:
                series_now[q.key] = (q.value, p.decisions[q.key].shown)
        released.update(series_now)
        data = {"yield": _yield_rows(history, month), "outcomes_by_month": outcomes}
        known_series = {k: v for k, v in released.items() if k[0].startswith("outcome:")}
        earlier_yield = {k: v for k, v in released.items() if k[0] == "yield"}
        decisions = protect_yield(data, month, THRESHOLD, known_series, earlier_yield)
        assert decisions is not None, f"{month}: yield withheld"
        for d in decisions:
            released[d.key] = (d.value, d.shown)
            view[d.key] = (d.value, d.value == 0 or d.value >= THRESHOLD if primary_only else d.shown)
    return {**released, **view}


def _attack(cells):
    s = System()
    n = {(m, c): s.var("N", m, c) for m in MONTHS for c in ("new", "rest", *OUTCOMES[1:])}
    x = {}
    for t in TYPES:
        for m in MONTHS:
            for k, totals in (("new", ["new"]), ("rest", ["rest"]), ("other", list(OUTCOMES[1:]))):
                x[(t, m, k)] = s.var("X", t, m, k)
                s.add({x[(t, m, k)]: 1.0, **{n[(m, c)]: -1.0 for c in totals}}, -float("inf"), 0)
    hidden = []
    for key, (value, shown) in cells.items():
        if key[0].startswith("outcome:"):
            o, kind, m = key[0].split(":", 1)[1], key[1], key[2]
            ms = [m] if kind == "month" else [mm for mm in MONTHS if mm <= m]
            cats = ("new", "rest") if o == "要支援" else (o,)
            form = {n[(mm, c)]: 1.0 for mm in ms for c in cats}
        else:
            _, t, kind, m = key
            ms = [mm for mm in MONTHS if mm <= m]
            parts = {"discussed": ("new", "rest", "other"), "needs_support": ("new", "rest"), "new": ("new",)}[kind]
            if t == "_any":
                cats = {"new": ("new",), "rest": ("rest",), "other": OUTCOMES[1:]}
                form = {n[(mm, c)]: 1.0 for mm in ms for p in parts for c in cats[p]}
            else:
                form = {x[(t, mm, p)]: 1.0 for mm in ms for p in parts}
        s.observe(form, value if shown else "hidden")
        if not shown and key[0] == "yield":
            hidden.append((key, form))
    return {key: _exact_bounds(s, form) for key, form in hidden}


def test_no_hidden_yield_count_is_recovered_from_every_months_report():
    history = _history()
    cells = _publish(history)
    bounds = _attack(cells)
    assert bounds, "the test data must hide some yield counts"
    narrow = [k for k, (lo, hi) in bounds.items() if hi - lo < THRESHOLD]
    assert not narrow, f"{len(narrow)} of {len(bounds)} hidden yield counts narrowed"


def test_primary_suppression_alone_gives_yield_counts_away():
    bounds = _attack(_publish(_history(), primary_only=True))
    assert any(hi - lo < THRESHOLD for lo, hi in bounds.values())


def test_a_proposals_fairness_figures_go_through_the_same_control():
    """The proposal's counts by age band and area join section 1's space: each hidden one keeps
    the threshold's width against everything section 1 shows, and a ratio is printed only from
    shown counts."""
    from mimamori.report import _fairness
    from mimamori.report_protection import ReportCells, flag_model

    bands = [
        {"age_band": "0-5", "label_ja": "0～5歳", "min_age": 0, "max_age": 5},
        {"age_band": "6-18", "label_ja": "6～18歳", "min_age": 6, "max_age": 18},
    ]
    types = [{"type_code": "poverty", "min_age": 0, "max_age": 18}]
    cells, proposed = [], {}
    for (band, area), (children, flagged, new) in {
        ("0-5", "東"): (40, 6, 1),
        ("0-5", "西"): (35, 2, 2),
        ("6-18", "東"): (60, 9, 8),
        ("6-18", "西"): (52, 7, 1),
    }.items():
        cells.append(
            {
                "age_band": band,
                "area": area,
                "type_code": "_any",
                "children_in_age_range": children,
                "flagged_count": flagged,
            }
        )
        cells.append(
            {
                "age_band": band,
                "area": area,
                "type_code": "poverty",
                "children_in_age_range": children,
                "flagged_count": flagged,
            }
        )
        proposed[(band, area)] = new
    space, qs = flag_model(cells, types, bands, None, proposed=proposed)
    protection = sdc.protect(space, qs, THRESHOLD)
    hidden = [d for d in protection.decisions.values() if not d.shown]
    assert any(d.key[0] == "proposed" for d in hidden), "the data must hide a proposal count"
    assert all(d.upper - d.lower >= THRESHOLD for d in hidden)
    report = ReportCells(
        THRESHOLD, {d.key: d.display for d in protection.decisions.values()}, list(protection.decisions.values())
    )
    fairness = _fairness(
        {"proposal_cells": proposed, "proposal": {"is_refused": False}, "age_bands": bands, "cells": cells}, report
    )
    assert [t["headers"][3] for t in fairness["tables"]] == ["提案", "提案"]
    ratio_row = next(r for r in fairness["ratio_rows"] if r[0] == "年齢区分")
    assert sdc.SUPPRESSED in ratio_row[1:], "a ratio over a hidden count must be hidden"
