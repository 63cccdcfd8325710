"""mimamori.sdc on small tables whose answers are worked out by hand (real HiGHS, no database)."""

from __future__ import annotations

import itertools
import random

import pandas as pd
import pytest
from mimamori import sdc


def _table(rows: dict[tuple[str, str], int]) -> pd.DataFrame:
    return pd.DataFrame([{"r": r, "c": c, "n": n} for (r, c), n in rows.items()])


def test_a_lone_small_cell_with_its_totals_is_protected_by_a_rectangle():
    # A×x = 2 alone would be 16 − 8 − 6 from the column total: its row and column need partners
    t = _table({("A", "x"): 2, ("A", "y"): 10, ("A", "z"): 7, ("B", "x"): 8, ("B", "y"): 9, ("B", "z"): 12,
                ("C", "x"): 6, ("C", "y"): 11, ("C", "z"): 20})  # fmt: skip
    cells, protection = sdc.protect_table(t, ["r", "c"], "n", 5)
    hidden = cells[~cells["shown"]]
    assert ("A", "x") in set(zip(hidden["r"], hidden["c"], strict=True))
    assert len(hidden) >= 4  # a rectangle at least
    for d in protection.suppressed:
        assert d.upper - d.lower >= 5, d.label
        assert d.exact
    # every row and column with a hidden cell has a second one (else it is a subtraction)
    interior = hidden[(hidden["r"] != "*") & (hidden["c"] != "*")]
    for dim in ("r", "c"):
        assert (interior.groupby(dim).size() >= 2).all()
    assert cells.loc[(cells["r"] == "A") & (cells["c"] == "x"), "display"].item() == sdc.SUPPRESSED
    assert cells.loc[(cells["r"] == "*") & (cells["c"] == "*"), "display"].item() == "85"


def test_zeros_and_large_counts_are_shown_and_zeros_never_hidden():
    t = _table({("A", "x"): 0, ("A", "y"): 12, ("B", "x"): 7, ("B", "y"): 30})
    cells, protection = sdc.protect_table(t, ["r", "c"], "n", 5)
    assert cells["shown"].all()
    assert protection.counts() == {"zero": 1, "shown": 8}


def test_threshold_zero_shows_everything():
    t = _table({("A", "x"): 1, ("A", "y"): 2, ("B", "x"): 3, ("B", "y"): 4})
    cells, _ = sdc.protect_table(t, ["r", "c"], "n", 0)
    assert cells["shown"].all()


def test_a_running_total_hides_this_month_when_last_month_was_shown():
    # month 1: 6 (shown, total 6 shown); month 2: 2 → the total (8) would give 8 − 6 = 2
    space = sdc.Space(2)
    month2 = sdc.Quantity(("m", "2"), frozenset({1}), 2, "month 2")
    total2 = sdc.Quantity(("t", "2"), frozenset({0, 1}), 8, "total 2")
    released = [
        sdc.Released(sdc.Quantity(("m", "1"), frozenset({0}), 6, "month 1"), True),
        sdc.Released(sdc.Quantity(("t", "1"), frozenset({0}), 6, "total 1"), True),
    ]
    protection = sdc.protect(space, [month2, total2], 5, released=released)
    assert not protection.is_shown(("m", "2"))
    assert not protection.is_shown(("t", "2"))
    assert protection.decisions[("t", "2")].reason == "complementary"
    # and next month, a shown total would give the hidden one back: it stays hidden
    released2 = [*released, sdc.Released(month2, False), sdc.Released(total2, False)]
    month3 = sdc.Quantity(("m", "3"), frozenset({2}), 0, "month 3")
    total3 = sdc.Quantity(("t", "3"), frozenset({0, 1, 2}), 8, "total 3")
    protection3 = sdc.protect(sdc.Space(3), [month3, total3], 5, released=released2)
    assert protection3.is_shown(("m", "3"))
    assert not protection3.is_shown(("t", "3"))
    assert protection3.released[("m", "2")].upper - protection3.released[("m", "2")].lower >= 5


def test_a_count_pinned_by_what_the_audience_already_knows_cannot_be_protected():
    space = sdc.Space(2)
    small = sdc.Quantity(("a",), frozenset({0}), 3, "a")
    total = sdc.Quantity(("t",), frozenset({0, 1}), 20, "t")
    other = sdc.Quantity(("b",), frozenset({1}), 17, "b")
    with pytest.raises(sdc.SDCError):
        sdc.protect(space, [small], 5, known=[total, other])


def test_the_attacker_bound_is_the_integer_one():
    # x + y = 3 (shown), x, y hidden, each ≥ 1: the relaxation and the integers agree on [1, 2]
    space = sdc.Space(2)
    quantities = [sdc.Quantity(("s",), frozenset({0, 1}), 3)]
    attacker = sdc.Attacker(space, [*quantities, sdc.Quantity(("x",), frozenset({0}), 1)])
    b = attacker.bounds(("x",), {("s",): 3}, [("x",)], integer=True)
    assert (b.lower, b.upper, b.exact) == (1, 3, True)


def _random_children(rng, n, bands, areas, types, flag_share):
    """``n`` children (band, area, types in age range, types flagged), each flag with ``flag_share``."""
    children = []
    for _ in range(n):
        band = rng.choice(bands)
        age = rng.randint(band["min_age"], band["max_age"])
        in_range = {t["type_code"] for t in types if t["min_age"] <= age <= t["max_age"]}
        flags = {t for t in in_range if rng.random() < flag_share}
        children.append((band["age_band"], rng.choice(areas), in_range, flags))
    return children


def _cells_from_children(children, bands, areas, types):
    """The report's cell model values from a list of children (band, area, in-range set, flag set)."""
    rows = []
    for b, r in itertools.product(bands, areas):
        group = [c for c in children if c[0] == b and c[1] == r]
        rows.append({"age_band": b, "area": r, "type_code": "_any", "children_in_age_range": len(group),
                     "flagged_count": sum(1 for c in group if c[3])})  # fmt: skip
        for t in types:
            rows.append({"age_band": b, "area": r, "type_code": t["type_code"],
                         "children_in_age_range": sum(1 for c in group if t["type_code"] in c[2]),
                         "flagged_count": sum(1 for c in group if t["type_code"] in c[3])})  # fmt: skip
    return rows


def test_the_reports_cell_model_gives_the_same_bounds_as_the_full_joint_table():
    """The report's disclosure control models age band × area cells (C, A, F, I with F ≤ I ≤ C,
    F ≤ A ≤ ΣF); the full joint over each child's in-range and flag pattern is the exact model.
    On a small random town both give every hidden count the same integer bounds."""
    from mimamori.report_protection import flag_model

    rng = random.Random(18)
    bands = [{"age_band": "0-2", "min_age": 0, "max_age": 2}, {"age_band": "3-9", "min_age": 3, "max_age": 9}]
    types = [{"type_code": "p", "min_age": 0, "max_age": 9}, {"type_code": "q", "min_age": 2, "max_age": 9}]
    areas = ["A", "B", "C"]
    children = _random_children(rng, 60, bands, areas, types, 0.15)
    space, quantities = flag_model(_cells_from_children(children, [b["age_band"] for b in bands], areas, types),
                                   types, bands, None)  # fmt: skip
    protection = sdc.protect(space, quantities, 3)
    hidden = [d.key for d in protection.suppressed]
    assert hidden, "the random town has small cells"
    # the full joint: one atom per (band, area, q in range?, p flagged?, q flagged?)
    attrs = ["band", "area", "in_q", "fl_p", "fl_q"]
    counts: dict[tuple, int] = {}
    for b, r, in_range, flags in children:
        key = (b, r, "q" in in_range, "p" in flags, "q" in flags)
        counts[key] = counts.get(key, 0) + 1

    def possible(a):
        if a["band"] == "3-9" and not a["in_q"]:
            return False
        return not (a["fl_q"] and not a["in_q"])

    domain = {"band": ["0-2", "3-9"], "area": areas, "in_q": [False, True], "fl_p": [False, True],
              "fl_q": [False, True]}  # fmt: skip
    frame = sdc.Frame.from_counts(attrs, counts, domain=domain, possible=possible)

    def where(key):
        kind = key[0]
        if key == ("scope",):
            return lambda a: True
        if key == ("any", "flagged"):
            return lambda a: a["fl_p"] or a["fl_q"]
        if kind == "type":
            t, what = key[1], key[2]
            if what == "in_range":
                return (lambda a: True) if t == "p" else (lambda a: a["in_q"])
            return lambda a: a[f"fl_{t}"]
        dim = "band" if kind == "age_band" else "area"
        v, col = key[1], key[2]
        if col == "children":
            return lambda a: a[dim] == v
        if col == "_any":
            return lambda a: a[dim] == v and (a["fl_p"] or a["fl_q"])
        return lambda a: a[dim] == v and a[f"fl_{col}"]

    joint = [frame.quantity(q.key, where(q.key)) for q in quantities]
    assert [q.value for q in joint] == [q.value for q in quantities]
    shown = {q.key: q.value for q in quantities if protection.is_shown(q.key)}
    cell_attacker = sdc.Attacker(space, quantities)
    joint_attacker = sdc.Attacker(frame, joint)
    for key in hidden:
        a = cell_attacker.bounds(key, shown, hidden, integer=True)
        b = joint_attacker.bounds(key, shown, hidden, integer=True)
        assert (a.lower, a.upper) == (b.lower, b.upper), key


def _random_flag_model(seed: int):
    """The report's section-1 model (mimamori.report_protection.flag_model) of a random town of 400
    children in five age bands, five areas and five types (with the candidate households): its
    relaxations are often fractional, so the integer programmes matter."""
    from mimamori.report_protection import flag_model

    rng = random.Random(seed)
    bands = [{"age_band": f"{3 * i}-{3 * i + 2}", "min_age": 3 * i, "max_age": 3 * i + 2} for i in range(5)]
    types = [{"type_code": c, "min_age": lo, "max_age": hi}
             for c, lo, hi in (("p", 0, 17), ("q", 2, 10), ("r", 6, 17), ("s", 0, 5), ("u", 4, 14))]  # fmt: skip
    areas = ["A", "B", "C", "D", "E"]
    children = _random_children(rng, 400, bands, areas, types, 0.12)
    cells = _cells_from_children(children, [b["age_band"] for b in bands], areas, types)
    households = sum(1 for c in children if c[3]) * 2 // 3
    return flag_model(cells, types, bands, households)


def _outcome(protection: sdc.Protection) -> list[tuple]:
    return [
        (d.key, d.shown, d.reason, d.protects, d.lower, d.upper, d.exact)
        for d in [*protection.decisions.values(), *protection.released.values()]
    ]


def test_the_attackers_shortcuts_decide_exactly_as_solving_every_programme():
    """The attacker reuses a relaxation within one bounds call and proves an integer optimum from
    an integer point it met before (mimamori.sdc.Attacker): every decision, reason and bound is the
    one that solving every programme in full gives, and the shortcuts did save solves."""
    saved = {"lp_reused": 0, "milp_proven": 0}
    for seed, threshold in ((1, 5), (3, 5), (4, 3)):
        space, quantities = _random_flag_model(seed)
        fast = sdc.protect(space, quantities, threshold)
        full = sdc.protect(space, quantities, threshold, shortcuts=False)
        assert _outcome(fast) == _outcome(full), (seed, threshold)
        assert full.solves["lp_reused"] == full.solves["milp_proven"] == 0
        assert fast.solves["milp"] <= full.solves["milp"] and fast.solves["lp"] < full.solves["lp"]
        for k in saved:
            saved[k] += fast.solves[k]
    assert saved["lp_reused"] > 0 and saved["milp_proven"] > 0, saved


def test_an_integer_point_met_before_proves_only_the_bound_it_reaches():
    # four counts, any two of them at most 1 together (at most 1 + z, z ≤ 1): with z = 0 the
    # relaxation reaches 2 for their sum t (all ½), the integers only 1. A point kept from a system
    # where z ≥ 1 reaches 2 but breaks z = 0, and the minimum's integral vertex (t = 1) does not
    # reach 2: the integer programme has to be solved.
    pairs = itertools.combinations(range(4), 2)
    structure = [sdc.Constraint(((i, 1.0), (j, 1.0), (4, -1.0)), upper=1) for i, j in pairs]
    space = sdc.Space(5, [*structure, sdc.Constraint(((4, 1.0),), upper=1)])
    t = sdc.Quantity(("t",), frozenset(range(4)), 1)
    z = sdc.Quantity(("z",), frozenset({4}), 0)
    first = sdc.Quantity(("x1",), frozenset({0}), 0)
    for shortcuts in (True, False):
        attacker = sdc.Attacker(space, [t, z, first], shortcuts=shortcuts)
        # z hidden (≥ 1) and t = 2 shown: integral vertices with t = 2, kept
        attacker.bounds(("x1",), {("t",): 2}, [("z",)], integer=True)
        b = attacker.bounds(("t",), {("z",): 0}, [("t",)], integer=True)
        assert (b.lower, b.upper, b.exact) == (1, 1, True)
        assert attacker.solves["milp"] == 1
