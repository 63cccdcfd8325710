"""Helpers of the learning tests (imported as learning.helpers: a conftest is not importable by name)."""

from __future__ import annotations

import math


class Hidden:
    """Wraps a personal value so that a failing assertion's repr never prints it."""

    def __init__(self, value):
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Hidden) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, other) -> bool:
        return self.value < other.value


def month_from_marts(conn, month: str, truth_dir=None):
    """The judged month as the learning code reads a cached or published month."""
    import pandas as pd
    from mimamori.synth.conferences import MonthData, load_truth, load_type_latents

    cur = conn.execute(
        "select person_id, household_id, age, age_band, sex, reporting_area as area, adult_count as adults,"
        " is_already_supported from marts.evaluation_children"
    )
    children = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    cur = conn.execute("select person_id, item_code from marts.child_item_matches where is_matched")
    matches = pd.DataFrame(cur.fetchall(), columns=["person_id", "item_code"])
    truth = load_truth(truth_dir, month, load_type_latents()) if truth_dir else None
    return MonthData(month, children, matches, truth)


def exact_bounds(s, form: dict[int, float]) -> tuple[float, float]:
    """The attacker's integer bounds: the linear relaxation, whose optimum is the integer one
    when its solution is integral (these systems' vertices mostly are), else System.bounds' IP."""
    import numpy as np
    from scipy.optimize import linprog
    from scipy.sparse import vstack

    n, a, lo, hi = s._matrices()
    c = np.zeros(n)
    for j, x in form.items():
        c[j] = x
    eq = lo == hi
    blocks, rhs = [], []
    for mask, sign, bound in (((~eq) & np.isfinite(hi), 1.0, hi), ((~eq) & np.isfinite(lo), -1.0, lo)):
        if mask.any():
            blocks.append(sign * a[np.flatnonzero(mask)])
            rhs.append(sign * bound[mask])
    out = []
    for sign in (1.0, -1.0):
        res = linprog(
            sign * c,
            A_ub=vstack(blocks) if blocks else None,
            b_ub=np.concatenate(rhs) if rhs else None,
            A_eq=a[np.flatnonzero(eq)],
            b_eq=lo[eq],
            bounds=(0, None),
            method="highs",
        )
        if res.status == 3:
            out.append(-sign * math.inf)
        elif res.status == 0 and np.all(np.abs(res.x - np.round(res.x)) < 1e-7):
            out.append(round(sign * res.fun))
        else:
            lower, upper, _ = s.bounds(form, integer=True)
            return lower, upper
    return out[0], out[1]
