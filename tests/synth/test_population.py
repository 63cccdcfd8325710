"""Population targets (scale 1 = Kaisei), age structure, households, hard cases, history."""

from __future__ import annotations

from collections import Counter
from datetime import date

from .helpers import read_csv, read_truth


def _age(birth: date, d: date) -> int:
    e = date.fromordinal(d.toordinal() + 1)
    return e.year - birth.year - ((e.month, e.day) < (birth.month, birth.day))


def _residents(out, month):
    header, rows = read_csv(out / "inbox" / month / "jumin" / "住民.csv", "cp932")
    return [dict(zip(header, r, strict=False)) for r in rows]


def _d8(text):
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def test_population_size_and_children(town):
    out, summary = town
    month = summary.months[-1]
    residents = _residents(out, month)
    assert abs(len(residents) - 18_738) / 18_738 < 0.03
    as_of = date(2026, 10, 31)
    ages = [_age(_d8(r["生年月日"]), as_of) for r in residents]
    children = sum(1 for a in ages if a <= 18)
    assert abs(children - 3_319) / 3_319 < 0.06, children
    assert summary.children_in_scope[month] == children
    old = sum(1 for a in ages if a >= 65) / len(ages)
    assert 0.20 <= old <= 0.30, old  # aging rate of a small town
    kids = [a for a in ages if a <= 18]
    share_0_5 = sum(1 for a in kids if a <= 5) / len(kids)
    assert 0.25 <= share_0_5 <= 0.36, share_0_5  # fewer young children (falling births)


def test_households(town):
    out, summary = town
    residents = _residents(out, summary.months[-1])
    sizes = Counter(r["世帯番号"] for r in residents)
    mean = len(residents) / len(sizes)
    single = sum(1 for n in sizes.values() if n == 1) / len(sizes)
    assert 2.0 <= mean <= 2.6, mean
    assert 0.25 <= single <= 0.42, single
    heads = Counter(r["世帯番号"] for r in residents if r["続柄"] == "世帯主")
    assert all(heads[s] == 1 for s in sizes), "every household has exactly one 世帯主"
    rels = Counter(r["続柄"] for r in residents)
    for rel in ("世帯主", "妻", "子", "孫", "子の妻"):
        assert rels[rel] > 0, rel
    # 世帯分離: several households at one address
    addresses = Counter(r["住所"] for r in residents if r["続柄"] == "世帯主")
    assert sum(1 for n in addresses.values() if n >= 2) >= 20
    dv = sum(1 for r in residents if r["支援措置"] == "有") / len(residents)
    assert 0.0005 <= dv <= 0.005, dv


def test_single_parents_and_three_generations(town):
    out, summary = town
    residents = _residents(out, summary.months[-1])
    by_hh: dict[str, list] = {}
    for r in residents:
        by_hh.setdefault(r["世帯番号"], []).append(r)
    with_kids = [m for m in by_hh.values() if any(x["続柄"] in ("子", "孫") and x["生年月日"] >= "20080101" for x in m)]
    single = sum(1 for m in with_kids if not any(x["続柄"] in ("妻", "夫", "子の妻") for x in m))
    three_gen = sum(1 for m in with_kids if any(x["続柄"] == "孫" for x in m))
    assert 0.05 <= single / len(with_kids) <= 0.25
    assert 0.04 <= three_gen / len(with_kids) <= 0.2


def test_twins_and_same_name_pairs(town):
    out, summary = town
    month = summary.months[-1]
    kids = read_truth(out / "truth" / month / "children.csv")
    twins = [k for k in kids if k["twin"] == "1"]
    assert len(twins) >= 20 and len(twins) % 2 == 0 or len(twins) >= 20
    pairs = [k for k in kids if k["same_name_same_birth_pair"] == "1"]
    residents = _residents(out, month)
    assert len(pairs) // 2 >= 3 * len(residents) / 10_000
    by_atena = {r["宛名番号"]: r for r in residents}
    keys = Counter((by_atena[k["atena_no"]]["氏名"], by_atena[k["atena_no"]]["生年月日"]) for k in pairs)
    assert all(n >= 2 for n in keys.values()), "each flagged child shares name and birth date with another"
    # the pair members are in different households
    for key in keys:
        hh = {r["世帯番号"] for r in residents if (r["氏名"], r["生年月日"]) == key}
        assert len(hh) >= 2
    # twins share birth date and household
    tw = Counter((by_atena[k["atena_no"]]["世帯番号"], by_atena[k["atena_no"]]["生年月日"]) for k in twins)
    assert all(n >= 2 for n in tw.values())


def test_history_across_months(town):
    out, summary = town
    m1, m2 = summary.months
    a = {r["宛名番号"]: r for r in _residents(out, m1)}
    b = {r["宛名番号"]: r for r in _residents(out, m2)}
    stay = set(a) & set(b)
    assert len(stay) / len(a) > 0.98
    assert all(a[x]["生年月日"] == b[x]["生年月日"] for x in stay), "a person keeps its 宛名番号 and birth date"
    left, new = set(a) - set(b), set(b) - set(a)
    assert left and new, "people move out, are born and move in"
    births = [x for x in new if b[x]["生年月日"][:6] == "202610"]
    moved_in = [x for x in new if b[x]["転入日"][:6] == "202610"]
    assert births and moved_in
    assert summary.events[m2]["births"] > 0 and summary.events[m2]["moved_out"] > 0
    # ages advance: someone turns a year older between the months
    as1, as2 = date(2026, 9, 30), date(2026, 10, 31)
    assert any(_age(_d8(a[x]["生年月日"]), as2) == _age(_d8(a[x]["生年月日"]), as1) + 1 for x in stay)


def test_prevalences(town):
    out, summary = town
    kids = read_truth(out / "truth" / summary.months[-1] / "children.csv")
    n = len(kids)
    share = {k: sum(int(c[k]) for c in kids) / n for k in kids[0] if k not in ("atena_no", "setai_no", "age")}
    targets = {  # (low, high) share of children 0–18
        "poverty": (0.07, 0.17),
        "care_need_in_household": (0.03, 0.12),
        "disability": (0.005, 0.025),
        "abuse_neglect": (0.007, 0.03),
        "school_refusal": (0.005, 0.03),
        "postpartum_depression": (0.002, 0.02),
        "developmental_disability": (0.04, 0.09),
    }
    for k, (lo, hi) in targets.items():
        assert lo <= share[k] <= hi, (k, round(share[k], 4))
