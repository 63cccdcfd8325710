"""Latent circumstances and the dated facts they make departments record.

Each circumstance raises the probability of the records it explains — never to certainty — and
every kind of record also occurs at a base rate without it. The rates below are the generator's
stated parameters (docs/synthetic-town.md lists them with measured values); tests check them.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from .dates import add_months_date, add_years, age_on, school_cohort
from .model import Fact, Household, Person
from .town import FACILITIES

# Prevalence of latent circumstances (children unless noted).
P_DEV = {1: 0.085, 2: 0.04}  # developmental disability by sex
P_DISABILITY = 0.012  # physical or intellectual disability (child)
P_ABUSE = 0.012  # abuse / neglect, multiplied below
P_REFUSAL = 0.08  # school refusal at some point during 小1–中3 (onset age drawn 7–15)
P_PPD = 0.10  # postpartum depression after a birth
P_POVERTY = {"couple": 0.06, "single_mother": 0.38, "single_father": 0.22, "adult": 0.07, "elderly_single": 0.14}
P_SMOKER = 0.03  # mothers of young children

CARE_LEVELS = ("要支援1", "要支援2", "要介護1", "要介護2", "要介護3", "要介護4", "要介護5")
CARE_LEVEL_W = (14, 14, 20, 17, 13, 12, 10)


def _uniform_date(rng: random.Random, a: date, b: date) -> date:
    if b <= a:
        return a
    return a + timedelta(days=rng.randrange((b - a).days + 1))


def _poisson_dates(rng: random.Random, rate_per_year: float, a: date, b: date) -> list[date]:
    """Event dates of a Poisson process with the given yearly rate on [a, b]."""
    out = []
    if b <= a or rate_per_year <= 0:
        return out
    span = (b - a).days
    t = 0.0
    while True:
        t += rng.expovariate(rate_per_year) * 365.25
        if t > span:
            return out
        out.append(a + timedelta(days=int(t)))


def assign_child_latent(rng: random.Random, p: Person, hh: Household) -> None:
    p.dev = rng.random() < P_DEV[p.sex]
    p.disability = rng.random() < P_DISABILITY
    m = 1.0
    if hh.poverty:
        m *= 2.6
    if hh.single_parent:
        m *= 1.5
    if p.dev or p.disability:
        m *= 1.4
    p.abuse = rng.random() < P_ABUSE * m
    r = P_REFUSAL * (2.0 if p.abuse else 1.0) * (1.6 if p.dev else 1.0) * (1.3 if hh.poverty else 1.0)
    if rng.random() < r:
        p.refusal_onset = (
            rng.choices((7.5, 9.0, 10.5, 11.5, 12.5, 13.2, 14.0, 15.0), (3, 5, 7, 9, 16, 22, 22, 16))[0] + rng.random()
        )
    p.special_class = rng.random() < (0.45 if p.dev else 0.35 if p.disability else 0.009)
    p.private_junior = rng.random() < 0.04


def child_facts(town, rng: random.Random, p: Person, hh: Household, since: date) -> None:
    """Facts about a child from `since` (birth or moving in) to the end of the horizon."""
    horizon = town.horizon
    start = max(since, p.birth)
    # 要対協
    p_reg = 0.55 if p.abuse else 0.003
    if rng.random() < p_reg:
        reg = _uniform_date(
            rng, max(start, p.birth + timedelta(days=20), town.start - timedelta(days=365 * 6)), horizon
        )
        cat = "要保護" if rng.random() < (0.35 if p.abuse else 0.2) else "要支援"
        custody = rng.random() < (0.35 if cat == "要保護" else 0.06)
        custody_on = (
            _uniform_date(rng, reg - timedelta(days=30), reg + timedelta(days=200))
            if custody and rng.random() < 0.8
            else None
        )
        if custody_on and custody_on > horizon:
            custody_on = None
        closed = reg + timedelta(days=rng.randint(300, 1500)) if rng.random() < 0.5 else None
        p.facts.append(Fact("yotaikyo", reg, closed, {"category": cat, "custody": custody, "custody_on": custody_on}))
    # 障害者手帳 / 受給者証 / 障がい者医療 (children)
    if p.disability:
        kind = "身体" if rng.random() < 0.5 else "療育"
        issued = max(start, p.birth + timedelta(days=rng.randint(90, 365 * 5)))
        grade = rng.choice(("1級", "2級", "3級", "4級")) if kind == "身体" else rng.choice(("A1", "A2", "B1", "B2"))
        p.facts.append(Fact("techo", issued, None, {"type": kind, "grade": grade, "dev": False}))
        if grade in ("1級", "2級", "A1", "A2"):
            p.facts.append(Fact("shogai_iryo", issued + timedelta(days=rng.randint(10, 60)), None, {}))
    if p.dev:
        if rng.random() < 0.12:
            p.facts.append(
                Fact(
                    "techo",
                    max(start, p.birth + timedelta(days=rng.randint(365 * 3, 365 * 8))),
                    None,
                    {"type": "療育", "grade": "B2", "dev": False},
                )
            )
        if rng.random() < 0.10:
            p.facts.append(
                Fact(
                    "techo",
                    max(start, p.birth + timedelta(days=rng.randint(365 * 6, 365 * 14))),
                    None,
                    {"type": "精神", "grade": rng.choice(("2級", "3級")), "dev": True},
                )
            )
    p_jukyu = 0.33 if p.dev else 0.5 if p.disability else 0.004
    if rng.random() < p_jukyu:
        first = max(start, p.birth + timedelta(days=rng.randint(365 * 2, 365 * 9)))
        issued = first
        while issued <= horizon and age_on(p.birth, issued) < 18:
            p.facts.append(Fact("jukyu", issued, issued + timedelta(days=364), {"no": town.next_no("jukyu")}))
            issued = issued + timedelta(days=365)
    # 保育所・幼稚園
    _childcare(town, rng, p, hh, start)


def _childcare(town, rng: random.Random, p: Person, hh: Household, start: date) -> None:
    cohort = school_cohort(p.birth)
    leave = date(cohort + 7, 3, 31)
    if leave < town.start - timedelta(days=365 * 2):
        return
    never = 0.16 if (p.abuse or hh.poverty) else 0.045
    x = rng.random()
    if x < never:
        return
    plans = ((0.15, "age0"), (0.47, "age1"), (0.62, "age2"), (1.0, "age3"))
    y = rng.random()
    plan = next(name for cut, name in plans if y <= cut)
    if plan == "age0":
        entry = add_months_date(p.birth, rng.randint(3, 11))
        entry = entry.replace(day=1)
    else:
        years = {"age1": 1, "age2": 2, "age3": 3}[plan]
        entry = date(cohort + years + 1, 4, 1)
    if entry < start:
        entry = add_months_date(start, 1).replace(day=1)
    if entry >= leave:
        return
    if plan == "age3":
        fac = rng.choice([f for f in FACILITIES if f[1] in ("幼稚園", "認定こども園", "保育所")])
    else:
        fac = rng.choice([f for f in FACILITIES if f[1] != "幼稚園"])
    if fac[1] == "地域型保育":  # small-scale care ends at age 3: transfer in April
        switch = date(cohort + 4, 4, 1)
        if switch > entry:
            p.facts.append(Fact("hoiku", entry, switch - timedelta(days=1), {"facility": fac[0], "type": fac[1]}))
            entry = switch
            fac = rng.choice([f for f in FACILITIES if f[1] in ("保育所", "認定こども園")])
    end = leave if rng.random() < 0.93 else _uniform_date(rng, entry + timedelta(days=60), leave)
    p.facts.append(Fact("hoiku", entry, end, {"facility": fac[0], "type": fac[1]}))


CHECKUPS = (("4か月", 4), ("1歳6か月", 18), ("3歳", 42))


def birth_facts(town, rng: random.Random, child: Person, mother: Person | None, hh: Household, since: date) -> None:
    """Infant checkups, vaccinations and (born here to a resident mother) the maternity record."""
    poverty = hh.poverty
    smoker = bool(mother and mother.smoker)
    for label, months in CHECKUPS:
        due = add_months_date(child.birth.replace(day=1), months)
        if due < since.replace(day=1) or due > town.horizon:
            continue
        p_att = 0.72 if child.abuse else 0.93 if poverty else 0.965
        attended = rng.random() < p_att
        data = {"checkup": label, "due": due}
        if attended:
            data["on"] = _uniform_date(rng, due, min(add_months_date(due, 1), due + timedelta(days=45)))
            concern = 0.01
            if child.dev and months >= 18:
                concern = 0.30
            if child.abuse:
                concern = max(concern, 0.30)
            if child.ppd and months == 4:
                concern = max(concern, 0.35)
            data["concern"] = rng.random() < concern
            if months == 4:
                caries = 0
            elif months == 18:
                caries = 0 if rng.random() < 0.98 else rng.randint(1, 3)
            else:
                p4 = 0.20 if child.abuse else 0.09 if poverty else 0.03
                caries = rng.randint(4, 10) if rng.random() < p4 else (rng.randint(1, 3) if rng.random() < 0.09 else 0)
            data["caries"] = caries
            data["smoke"] = smoker
            f = 0.06 + (0.45 if child.dev and months >= 18 else 0) + (0.35 if child.abuse else 0)
            data["follow"] = rng.random() < f
        else:
            data["on"] = None
            data["follow"] = rng.random() < 0.5
        child.facts.append(Fact("checkup", due, None, data))
    _vaccines(town, rng, child, since, poverty)
    if mother is not None and since == child.birth:
        young = age_on(mother.birth, child.birth) < 20
        late = 0.02 + (0.06 if poverty else 0) + (0.08 if child.abuse else 0) + (0.10 if young else 0)
        week = rng.randint(20, 30) if rng.random() < late else rng.choice((6, 7, 8, 8, 9, 9, 9, 10, 10, 11, 12, 14, 16))
        if child.ppd:
            epds = rng.randint(9, 22) if rng.random() < 0.85 else rng.randint(5, 8)
        else:
            epds = rng.randint(9, 12) if rng.random() < 0.03 else min(8, int(rng.expovariate(0.35)))
        epds_done = rng.random() < 0.95
        visit_refused = rng.random() < (0.2 if child.abuse else 0.03)
        child.facts.append(
            Fact(
                "maternity",
                child.birth,
                None,
                {
                    "mother": mother.atena,
                    "week": week,
                    "epds": epds if epds_done else None,
                    "epds_on": child.birth + timedelta(days=rng.randint(14, 35)),
                    "visit_on": None if visit_refused else child.birth + timedelta(days=rng.randint(25, 120)),
                },
            )
        )
        # 特定妊婦 registration of the mother before this birth
        p_tokutei = 0.008 + (0.05 if poverty else 0) + (0.15 if young else 0) + (0.2 if child.abuse else 0)
        if rng.random() < p_tokutei:
            reg = child.birth - timedelta(days=rng.randint(40, 250))
            mother.facts.append(
                Fact(
                    "yotaikyo",
                    reg,
                    child.birth + timedelta(days=rng.randint(60, 400)),
                    {"category": "特定妊婦", "custody": False, "custody_on": None},
                )
            )


def _vaccine_schedule(birth: date) -> list[tuple[str, int, int]]:
    five = birth >= date(2024, 2, 1)
    dtp = "五種混合" if five else "四種混合"
    sched = [("BCG", 5, 12), ("B型肝炎 1回目", 2, 12), ("B型肝炎 2回目", 3, 12), ("B型肝炎 3回目", 7, 12)]
    for n, m in ((1, 2), (2, 3), (3, 4), (4, 12)):
        sched.append((f"小児用肺炎球菌 {n}回目", m, 60))
        sched.append((f"{dtp} {n}回目", m, 90))
        if not five:
            sched.append((f"ヒブ {n}回目", m, 60))
    sched += [("MR 1期", 12, 24), ("水痘 1回目", 12, 36), ("水痘 2回目", 18, 36)]
    return sched


def _vaccines(town, rng: random.Random, child: Person, since: date, poverty: bool) -> None:
    if child.birth < town.start - timedelta(days=365 * 9):
        return
    p_on_time = 0.72 if child.abuse else 0.93 if poverty else 0.975
    sched = _vaccine_schedule(child.birth)
    cohort = school_cohort(child.birth)
    for name, start_m, end_m in sched:
        start = add_months_date(child.birth, start_m)
        if start < since or start > town.horizon:
            continue
        due = add_months_date(child.birth, end_m) - timedelta(days=1)
        given = None
        if rng.random() < p_on_time:
            given = min(due, start + timedelta(days=int(rng.expovariate(1 / 25))))
        elif rng.random() < 0.5:
            given = due + timedelta(days=rng.randint(10, 200))  # late: after the deadline
        child.facts.append(Fact("vaccine", start, due, {"vaccine": name, "given": given}))
    start = date(cohort + 6, 4, 1)
    if since <= start <= town.horizon:
        due = date(cohort + 7, 3, 31)
        given = start + timedelta(days=rng.randint(5, 300)) if rng.random() < p_on_time else None
        child.facts.append(Fact("vaccine", start, due, {"vaccine": "MR 2期", "given": given}))


def adult_facts(town, rng: random.Random, p: Person, hh: Household, since: date, as_of: date) -> None:
    """Certificates and care-need certifications of an adult (ages as on `as_of`)."""
    age = age_on(p.birth, as_of)
    back = lambda years: max(since, p.birth + timedelta(days=365 * 18), as_of - timedelta(days=int(365 * years)))  # noqa: E731
    p_body = 0.003 if age < 40 else 0.012 if age < 65 else 0.075 if age < 75 else 0.12
    if rng.random() < p_body:
        grade = rng.choices(("1級", "2級", "3級", "4級", "5級", "6級"), (25, 15, 18, 25, 9, 8))[0]
        issued = _uniform_date(rng, back(15), town.horizon)
        p.facts.append(Fact("techo", issued, None, {"type": "身体", "grade": grade, "dev": False}))
        if grade in ("1級", "2級"):
            p.facts.append(Fact("shogai_iryo", issued + timedelta(days=rng.randint(10, 60)), None, {}))
    if rng.random() < 0.006:
        grade = rng.choice(("A1", "A2", "B1", "B2"))
        issued = _uniform_date(rng, back(20), town.horizon)
        p.facts.append(Fact("techo", issued, None, {"type": "療育", "grade": grade, "dev": False}))
        if grade in ("A1", "A2"):
            p.facts.append(Fact("shogai_iryo", issued + timedelta(days=rng.randint(10, 60)), None, {}))
    if rng.random() < (0.013 if 18 <= age < 65 else 0.005):
        dev = rng.random() < 0.22
        grade = rng.choices(("1級", "2級", "3級"), (10, 55, 35))[0]
        issued = _uniform_date(rng, back(8), town.horizon)
        p.facts.append(Fact("techo", issued, None, {"type": "精神", "grade": grade, "dev": dev}))
        if grade == "1級":
            p.facts.append(Fact("shogai_iryo", issued + timedelta(days=rng.randint(10, 60)), None, {}))
    p_care = 0.0 if age < 40 else 0.004 if age < 65 else 0.04 if age < 75 else 0.19 if age < 85 else 0.5
    if rng.random() < p_care:
        level = rng.choices(CARE_LEVELS, CARE_LEVEL_W)[0]
        cert = _uniform_date(rng, max(since, as_of - timedelta(days=700)), as_of)
        i = CARE_LEVELS.index(level)
        while cert <= town.horizon:
            valid_to = add_months_date(cert, rng.choice((12, 24, 36))) - timedelta(days=1)
            p.facts.append(Fact("kaigo", cert, valid_to, {"level": CARE_LEVELS[i]}))
            cert = valid_to + timedelta(days=1)
            i = min(6, i + (1 if rng.random() < 0.3 else 0))


def household_facts(town, rng: random.Random, hh: Household, since: date) -> None:
    """Household-level facts: public assistance, allowances for single parents, consultations."""
    members = [town.persons[a] for a in hh.members]
    horizon = town.horizon
    as_of = since
    kids = [m for m in members if age_on(m.birth, as_of) <= 18]
    elderly = [m for m in members if age_on(m.birth, as_of) >= 65]
    window = max(since, town.start - timedelta(days=365 * 5))
    if hh.moved_in_on is None:
        window = town.start - timedelta(days=365 * 5)
    # 生活保護 (one row per assisted member; the 保護世帯 may leave out 世帯分離-like members)
    p_hogo = (0.11 if kids else 0.22 if (elderly and len(members) == 1) else 0.06) if hh.poverty else 0.0015
    if rng.random() < p_hogo:
        start = _uniform_date(rng, window, horizon)
        end = start + timedelta(days=rng.randint(200, 2000)) if rng.random() < 0.25 else None
        covered = [m.atena for m in members if not (kids and m.rel in ("父", "母", "妻の父", "妻の母"))]
        hh.facts.append(Fact("hogo", start, end, {"case": town.next_no("hogo"), "members": covered}))
    # ひとり親: 児童扶養手当 (recipient = the parent) and ひとり親医療 (parent and children)
    if hh.single_parent and kids:
        parent = next((m for m in members if m.rel == "世帯主" and age_on(m.birth, as_of) >= 18), None) or next(
            (m for m in members if age_on(m.birth, as_of) >= 18 and m.rel != "孫"), None
        )
        if parent is not None:
            add_single_parent_facts(town, rng, hh, parent, kids, window)
    # 児童相談記録 (こども支援班) and 相談記録 (福祉班)
    has_dis = any(m.disability or m.dev or any(f.kind == "techo" for f in m.facts) for m in members)
    abuse = any(m.abuse for m in kids)
    refusal = any(m.refusal_onset is not None and m.refusal_onset <= (as_of - m.birth).days / 365.25 + 1 for m in kids)
    care = any(f.kind == "kaigo" and f.data["level"].startswith("要介護") for m in members for f in m.facts)
    rates_shien = {
        "生活困窮": 0.03 if hh.poverty else 0.0015,
        "障がい者": (0.03 if has_dis and kids else 0.01 if has_dis else 0.001),
        "その他": 0.015 if kids else 0.002,
    }
    for cat, rate in rates_shien.items():
        for d in _poisson_dates(rng, rate, window, horizon):
            _consult(town, rng, hh, "consult_shien", d, {"category": cat}, members, kids)
    rates_fukushi = {
        ("児童福祉", "児童虐待相談"): 0.2 if abuse else 0.0008 if kids else 0,
        ("児童福祉", "児童相談"): (0.05 if (refusal or abuse) else 0.0018) if kids else 0,
        ("児童福祉", "養護相談"): (0.08 if abuse else 0.006 if (care and kids) else 0.0006) if kids else 0,
        ("障害福祉", "その他"): 0.05 if has_dis else 0.002,
        ("高齢福祉", "その他"): 0.06 if elderly else 0.0,
        ("生活困窮", "その他"): 0.04 if hh.poverty else 0.002,
    }
    for (fieldname, kind), rate in rates_fukushi.items():
        for d in _poisson_dates(rng, rate, window, horizon):
            _consult(town, rng, hh, "consult_fukushi", d, {"field": fieldname, "kind": kind}, members, kids)


def add_single_parent_facts(town, rng, hh: Household, parent: Person, kids: list, since: date) -> None:
    youngest = max(k.birth for k in kids)
    end_allow = date(add_years(youngest, 18).year + (1 if (youngest.month, youngest.day) > (3, 31) else 0), 3, 31)
    p_allow = 0.85 if hh.poverty else 0.4
    if rng.random() < p_allow:
        start = (
            since + timedelta(days=rng.randint(20, 100))
            if since >= town.start - timedelta(days=31)
            else _uniform_date(rng, since, town.start)
        )
        end = end_allow if end_allow <= town.horizon else None
        if rng.random() < 0.07:  # income over the limit
            end = start + timedelta(days=rng.randint(200, 1500))
        duplicate = any(
            f.kind == "jifu" and f.start == start and f.data.get("recipient") == parent.atena for f in hh.facts
        )
        if (end is None or end > start) and not duplicate:
            hh.facts.append(Fact("jifu", start, end, {"recipient": parent.atena}))
    if rng.random() < 0.82:
        start = (
            since + timedelta(days=rng.randint(20, 80))
            if since >= town.start - timedelta(days=31)
            else _uniform_date(rng, since, town.start)
        )
        seen = set()
        for m in [parent] + kids:
            # One certificate per person and start date (the register's key): a parent who is
            # also under 19, or a second call on the same day, must not yield a duplicate row.
            if m.atena in seen or any(f.kind == "hitorioya" and f.start == start for f in m.facts):
                continue
            seen.add(m.atena)
            m.facts.append(Fact("hitorioya", start, end_allow if end_allow <= town.horizon else None, {}))


def _consult(town, rng, hh: Household, kind: str, d: date, data: dict, members: list, kids: list) -> None:
    who = None
    x = rng.random()
    if x < 0.72:
        pool = kids if (kids and rng.random() < 0.6) else members
        who = pool[rng.randrange(len(pool))].atena
    hh.facts.append(
        Fact(
            kind, d, None, dict(data, no=town.next_no(kind), atena=who, with_setai=(who is None or rng.random() < 0.8))
        )
    )
