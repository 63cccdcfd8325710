"""Build the town's households and people, and move them through the months.

Scale 1 targets Kaisei (domain.md §7): 18,738 residents, 3,319 children aged 0–18. Families with
children are built first until the child target is met, then adult-only households fill the
population up to the resident target. Monthly events: deaths, moving out, divorces (a child's
surname may change, a parent and the children may form a new household), births (≈1% twins),
moving in, adult children leaving home.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from . import circumstances as circ
from .dates import add_years, first_day, last_day, parse_month
from .model import Household, Person
from .names import name_pool
from .rand import u
from .town import AddressBook

RESIDENTS = 18_738
CHILDREN = 3_319
TWIN_RATE = 0.01
SAME_NAME_PAIRS_PER_10K = 4.0
DV_SHARE = 0.002

# Monthly rates (per household or person).
MOVE_OUT_FAMILY = 0.0022
MOVE_OUT_ADULT = 0.0032
DIVORCE = 0.0009  # couples with a child aged 0–18
LEAVE_HOME = 0.004  # adult children aged 19–34


def _rand_date_in_year_before(rng: random.Random, ref: date, age: int) -> date:
    """A birth date giving exactly `age` on `ref` (legal age rule)."""
    latest = add_years(ref + timedelta(days=1), -age)  # born on or before this → age ≥ `age`
    earliest = add_years(ref + timedelta(days=1), -(age + 1)) + timedelta(days=1)
    return earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))


class Town:
    """The whole simulated town with its history up to the current month."""

    def __init__(self, seed: int, scale: float, start_month: str, end_month: str):
        self.seed = seed
        self.scale = scale
        self.start = first_day(*parse_month(start_month))
        self.horizon = last_day(*parse_month(end_month))
        self.pool = name_pool()
        self.persons: dict[str, Person] = {}
        self.households: dict[str, Household] = {}
        self._atena = 100_000
        self._setai = 700_000
        self._counters: dict[str, int] = {}
        rng = random.Random(f"{seed}|init")
        self.rng = rng
        self.addresses = AddressBook(random.Random(f"{seed}|addr"))
        self.births_per_month = 0.0
        self.school_cache: dict = {}

    def rng_flag(self, key: str, p: float) -> bool:
        """A stable yes/no for `key` (same answer every month)."""
        return u(self.seed, key) < p

    # --- ids -----------------------------------------------------------------------------
    def new_atena(self) -> str:
        self._atena += self.rng.randint(1, 9)
        return f"{self._atena:010d}"

    def new_setai(self) -> str:
        self._setai += self.rng.randint(1, 5)
        return f"{self._setai:010d}"

    def next_no(self, kind: str) -> str:
        n = self._counters.get(kind, 0) + 1
        self._counters[kind] = n
        prefix = {"hogo": "HG", "jukyu": "JK", "consult_shien": "KS", "consult_fukushi": "FS", "student": ""}.get(
            kind, ""
        )
        return f"{prefix}{n:06d}"

    # --- people ------------------------------------------------------------------------------
    def _person(
        self,
        rng,
        hh: Household,
        sex: int,
        birth: date,
        surname: tuple[str, str],
        rel: str,
        since: date,
        moved_in: date | None,
        given: tuple[str, str] | None = None,
    ) -> Person:
        g_kanji, g_kana = given or self.pool.given_name(rng, sex, birth.year)
        p = Person(
            atena=self.new_atena(),
            sex=sex,
            birth=birth,
            surname=surname[0],
            surname_kana=surname[1],
            given=g_kanji,
            given_kana=g_kana,
            setai=hh.setai,
            rel=rel,
            resident_since=max(since, birth),
            moved_in_on=moved_in if (moved_in and moved_in >= birth) else None,
        )
        if p.moved_in_on is None and since > birth:
            p.resident_since = since
        self.persons[p.atena] = p
        hh.members.append(p.atena)
        return p

    def _household(self, moved_in: date | None, address=None) -> Household:
        hh = Household(setai=self.new_setai(), address=address or self.addresses.new(), moved_in_on=moved_in)
        self.households[hh.setai] = hh
        return hh

    def _registry_surname(self, rng) -> tuple[str, str]:
        s, k = self.pool.surname(rng)
        if rng.random() < 0.10 and ("高" in s or "崎" in s):  # registered in the old form (髙橋, 山﨑)
            s = s.replace("高", "髙").replace("崎", "﨑")
        return s, k

    # --- families with children -------------------------------------------------------------
    def add_family(self, rng, ref: date, moved_in: date | None, youngest_age: int | None = None) -> Household:
        """A household with children; `ref` is the date the ages refer to.

        The steps draw from `rng` in a fixed order (a seed must give the same town): shape, household,
        surnames, grandparents, parents, children, the separate grandparents' household, the latents."""
        kind, ages, mother_age, father_age = self._family_shape(rng, youngest_age)
        hh = self._household(moved_in)
        hh.single_parent = kind != "couple"
        hh.poverty = rng.random() < circ.P_POVERTY[kind] + (0.1 if mother_age - ages[-1] < 23 else 0)
        since = moved_in or date(1900, 1, 1)

        three_gen = rng.random() < (0.09 if kind == "couple" else 0.30)
        paternal = kind != "single_mother" and rng.random() < 0.7
        fam_surname = self._registry_surname(rng)
        mother_maiden = self._registry_surname(rng)
        rel_parent, rel_kid, grand = _grandparents(
            rng, kind, three_gen, paternal, father_age, mother_age, fam_surname, mother_maiden
        )
        mother, father = self._adults(
            rng,
            hh,
            ref,
            kind,
            paternal,
            grand,
            (father_age, mother_age),
            (fam_surname, mother_maiden),
            rel_parent,
            since,
            moved_in,
        )
        kid_surname, divorced_on = _kid_surname(rng, kind, ref, ages, fam_surname, mother)
        kids = self._children(
            rng, hh, ref, ages, (kid_surname, fam_surname), rel_kid, (since, moved_in), (mother, father), divorced_on
        )
        if mother:
            mother.smoker = rng.random() < circ.P_SMOKER * (2.4 if hh.poverty else 1.0)
        # 世帯分離: grandparents at the same address in their own household
        if not three_gen and rng.random() < 0.05:
            self._separate_grandparents(
                rng, hh, ref, father, (father_age, mother_age), (fam_surname, mother_maiden), since, moved_in
            )
        # DV 支援措置 for a small share of single-mother households
        if kind == "single_mother" and rng.random() < DV_SHARE * 25:
            for a in hh.members:
                self.persons[a].dv = True
        for kid in kids:
            circ.assign_child_latent(rng, kid, hh)
            if kid.age(ref) <= 1:
                kid.ppd = rng.random() < circ.P_PPD * (1.5 if hh.poverty else 1.0)
        self._finish_household(rng, hh, ref)
        return hh

    def _family_shape(self, rng, youngest_age: int | None) -> tuple[str, list[int], int, int]:
        """The family kind, the children's ages (eldest first) and the parents' ages."""
        kind = rng.choices(("couple", "single_mother", "single_father"), (91, 7.6, 1.4))[0]
        n_births = rng.choices((1, 2, 3, 4), (47, 46, 6.3, 0.7))[0]
        if youngest_age is None:
            youngest_age = rng.choices(range(19), [1.3 - 0.035 * a for a in range(19)])[0]
        gaps = [rng.choices((1, 2, 3, 4, 5, 6), (8, 30, 30, 17, 9, 6))[0] for _ in range(n_births - 1)]
        ages = [youngest_age]
        for g in gaps:
            ages.append(ages[-1] + g)
        ages.reverse()  # eldest first
        mother_age_first = min(
            44, max(17, rng.gauss(30.2, 4.6) - (4 if kind == "single_mother" and rng.random() < 0.3 else 0))
        )
        mother_age = int(mother_age_first + ages[0])
        if mother_age - ages[-1] > 46:
            mother_age = 46 + ages[-1]
        father_age = max(18, int(mother_age + rng.gauss(2.0, 3.0)))
        return kind, ages, mother_age, father_age

    def _adults(
        self, rng, hh, ref, kind, paternal, grand, parent_ages, surnames, rel_parent, since, moved_in
    ) -> tuple[Person | None, Person | None]:
        """The household's grandparents and parents, in household order; returns (mother, father)."""
        father_age, mother_age = parent_ages
        fam_surname, mother_maiden = surnames
        mother = father = None
        gp_rel_head = paternal or kind == "single_mother"
        # grandparents first when they head the household
        gps = []
        if grand and gp_rel_head:
            for i, (sex, age, sn) in enumerate(grand):
                rel = "世帯主" if i == 0 else "妻"
                gps.append(
                    self._person(rng, hh, sex, _rand_date_in_year_before(rng, ref, age), sn, rel, since, moved_in)
                )
        if kind in ("couple", "single_father"):
            father = self._person(
                rng, hh, 1, _rand_date_in_year_before(rng, ref, father_age), fam_surname, rel_parent, since, moved_in
            )
        if kind in ("couple", "single_mother"):
            if kind == "couple":
                m_rel = "妻" if rel_parent == "世帯主" else "子の妻"
                m_surname = fam_surname
            else:
                m_rel = rel_parent
                m_surname = mother_maiden
            mother = self._person(
                rng, hh, 2, _rand_date_in_year_before(rng, ref, mother_age), m_surname, m_rel, since, moved_in
            )
            if kind == "couple":
                mother.maiden = mother_maiden
        if father and mother:
            father.spouse, mother.spouse = mother.atena, father.atena
            if rng.random() < 0.04:  # the wife heads the household
                father.rel, mother.rel = ("夫", "世帯主") if father.rel == "世帯主" else (father.rel, mother.rel)
        if grand and not gp_rel_head:
            for sex, age, sn in grand:
                gps.append(
                    self._person(
                        rng,
                        hh,
                        sex,
                        _rand_date_in_year_before(rng, ref, age),
                        sn,
                        "妻の父" if sex == 1 else "妻の母",
                        since,
                        moved_in,
                    )
                )
        if len(gps) == 2:
            gps[0].spouse, gps[1].spouse = gps[1].atena, gps[0].atena
        return mother, father

    def _children(self, rng, hh, ref, ages, surnames, rel_kid, arrival, parents, divorced_on) -> list[Person]:
        """The children by age (twins drawn per birth; grown-up ones may have left home), their school surnames."""
        kid_surname, fam_surname = surnames
        since, moved_in = arrival
        mother, father = parents
        born_here_cut = moved_in  # children born after moving in were born here
        prev_given = None
        kids = []
        for a in ages:
            birth = _rand_date_in_year_before(rng, ref, a)
            twin = rng.random() < TWIN_RATE
            for t in range(2 if twin else 1):
                sex = rng.choice((1, 2))
                given = None
                if prev_given and rng.random() < (0.5 if t else 0.12):
                    given = self.pool.similar_given_name(rng, sex, prev_given)
                if a >= 19 and rng.random() > (0.6 if a <= 22 else 0.3):
                    continue  # grown-up child has left home
                kid = self._person(
                    rng,
                    hh,
                    sex,
                    birth,
                    kid_surname,
                    rel_kid,
                    since,
                    moved_in if (born_here_cut and birth < born_here_cut) else None,
                    given,
                )
                if born_here_cut and birth >= born_here_cut:
                    kid.resident_since, kid.moved_in_on = birth, None
                kid.twin = twin
                kid.mother = mother.atena if mother else None
                kid.father = father.atena if father else None
                prev_given = kid.given
                if divorced_on and kid.surname != fam_surname[0] and birth < divorced_on:
                    kid.former.append((fam_surname[0], fam_surname[1], divorced_on))
                kids.append(kid)
        by_birth: dict[date, list] = {}
        for k in kids:
            if k.twin:
                by_birth.setdefault(k.birth, []).append(k)
        for group in by_birth.values():
            if len(group) < 2:
                for k in group:
                    k.twin = False
        for k in kids:
            if k.former:
                k.school_old_surname = tuple(
                    f
                    for f in ("学齢簿.csv", "出欠.xlsx", "学校健診.csv", "就学援助.csv", "給食費.csv")
                    if rng.random() < (0.3 if f == "学齢簿.csv" else 0.6)
                )
        return kids

    def _separate_grandparents(self, rng, hh, ref, father, parent_ages, surnames, since, moved_in) -> None:
        """世帯分離: grandparents at the same address in their own household."""
        father_age, mother_age = parent_ages
        fam_surname, mother_maiden = surnames
        gp_age = (father_age if father else mother_age) + int(rng.gauss(30, 3))
        g_hh = self._household(moved_in, address=hh.address)
        g_hh.poverty = rng.random() < 0.05
        n = rng.choice((1, 2))
        sn = fam_surname if father else mother_maiden
        g1 = self._person(
            rng,
            g_hh,
            1 if n == 2 else rng.choice((1, 2)),
            _rand_date_in_year_before(rng, ref, gp_age),
            sn,
            "世帯主",
            since,
            moved_in,
        )
        if n == 2:
            g2 = self._person(rng, g_hh, 2, _rand_date_in_year_before(rng, ref, gp_age - 2), sn, "妻", since, moved_in)
            g1.spouse, g2.spouse = g2.atena, g1.atena
        self._finish_household(rng, g_hh, ref)

    def _finish_household(self, rng, hh: Household, ref: date) -> None:
        """Generate the facts of every member and the household, from their arrival on."""
        for a in hh.members:
            p = self.persons[a]
            since = p.resident_since
            if p.age(ref) <= 18 or p.rel in ("子", "孫") and p.age(ref) <= 24:
                circ.child_facts(self, rng, p, hh, since)
                mother = self.persons.get(p.mother) if p.mother else None
                if mother is not None and not mother.present(p.birth):
                    mother = None
                circ.birth_facts(self, rng, p, mother, hh, since)
            if p.age(ref) >= 18:
                circ.adult_facts(self, rng, p, hh, since, ref)
        circ.household_facts(self, rng, hh, hh.moved_in_on or ref)

    # --- adult-only households -------------------------------------------------------------
    def add_adults(self, rng, ref: date, moved_in: date | None) -> Household:
        kind = rng.choices(("single", "couple", "couple_adult_kids", "parent_adult_kid"), (28, 42, 17, 13))[0]
        if moved_in:  # people moving in are younger
            kind = rng.choices(("single", "couple"), (65, 35))[0]
        hh = self._household(moved_in)
        since = moved_in or date(1900, 1, 1)

        def old_age():
            return min(100, 65 + int(rng.expovariate(1 / 11.5)))

        if kind == "single":
            band = rng.choices(("young", "mid", "old"), (16, 20, 64) if not moved_in else (70, 25, 5))[0]
            age = rng.randint(19, 39) if band == "young" else rng.randint(40, 64) if band == "mid" else old_age()
            sex = rng.choice((1, 2)) if age < 75 else rng.choices((1, 2), (35, 65))[0]
            self._person(
                rng,
                hh,
                sex,
                _rand_date_in_year_before(rng, ref, age),
                self._registry_surname(rng),
                "世帯主",
                since,
                moved_in,
            )
            hh.poverty = rng.random() < (circ.P_POVERTY["elderly_single"] if age >= 65 else circ.P_POVERTY["adult"])
        else:
            band = rng.choices(("young", "mid", "old"), (4, 18, 78) if not moved_in else (60, 35, 5))[0]
            h_age = rng.randint(24, 39) if band == "young" else rng.randint(40, 64) if band == "mid" else old_age()
            if kind == "couple_adult_kids":
                h_age = rng.randint(48, 82)
            if kind == "parent_adult_kid":
                h_age = rng.randint(60, 92)
            sn = self._registry_surname(rng)
            hh.poverty = rng.random() < circ.P_POVERTY["adult"]
            if kind == "parent_adult_kid":
                sex = rng.choices((1, 2), (30, 70))[0]
                self._person(rng, hh, sex, _rand_date_in_year_before(rng, ref, h_age), sn, "世帯主", since, moved_in)
            else:
                h = self._person(rng, hh, 1, _rand_date_in_year_before(rng, ref, h_age), sn, "世帯主", since, moved_in)
                w = self._person(
                    rng,
                    hh,
                    2,
                    _rand_date_in_year_before(rng, ref, max(19, h_age - max(-3, int(rng.gauss(2, 3))))),
                    sn,
                    "妻",
                    since,
                    moved_in,
                )
                w.maiden = self._registry_surname(rng)
                h.spouse, w.spouse = w.atena, h.atena
            if kind in ("couple_adult_kids", "parent_adult_kid"):
                for _ in range(rng.choice((1, 1, 2))):
                    age = max(19, min(h_age - 22, rng.randint(19, 45)))
                    self._person(
                        rng, hh, rng.choice((1, 2)), _rand_date_in_year_before(rng, ref, age), sn, "子", since, moved_in
                    )
        self._finish_household(rng, hh, ref)
        return hh

    # --- the initial town ------------------------------------------------------------------------
    def build(self) -> None:
        rng = self.rng
        ref = self.start - timedelta(days=1)
        target_children = round(CHILDREN * self.scale)
        target_residents = round(RESIDENTS * self.scale)
        children = 0
        while children < target_children:
            moved = _past_move_in(rng, ref)
            hh = self.add_family(rng, ref, moved)
            children += sum(1 for a in hh.members if self.persons[a].age(ref) <= 18)
        residents = self.resident_count(ref)
        while residents < target_residents:
            hh = self.add_adults(rng, ref, _past_move_in(rng, ref, adults=True))
            residents += len(hh.members)
        self._same_name_pairs(rng, ref)
        age0 = sum(1 for p in self.persons.values() if p.present(ref) and p.age(ref) == 0)
        self.births_per_month = age0 / 12.0

    def resident_count(self, d: date) -> int:
        return sum(1 for p in self.persons.values() if p.present(d))

    def _same_name_pairs(self, rng, ref: date) -> None:
        """Unrelated children sharing name and birth date (≥3 pairs per 10,000 residents).

        Two children of the same age and sex in different households get a frequent surname
        (their whole surname line in the household with them) and the same given name; the
        second takes the first's birth date and its child facts are regenerated for that date.
        """
        n_pairs = max(1, round(SAME_NAME_PAIRS_PER_10K * self.resident_count(ref) / 10_000))
        groups: dict[tuple[int, int], list[Person]] = {}
        for p in self.persons.values():
            if p.present(ref) and 3 <= p.age(ref) <= 14 and not p.twin and p.moved_in_on is None:
                groups.setdefault((p.age(ref), p.sex), []).append(p)
        keys = sorted(groups)
        used_hh: set[str] = set()
        made = 0
        tries = 0
        while made < n_pairs and tries < 10_000:
            tries += 1
            pool = groups[keys[rng.randrange(len(keys))]]
            if len(pool) < 2:
                continue
            a, b = rng.sample(pool, 2)
            if a.setai == b.setai or a.setai in used_hh or b.setai in used_hh:
                continue
            used_hh.update((a.setai, b.setai))
            common = self.pool.surnames[rng.randrange(8)]  # among the most frequent surnames
            for p in (a, b):
                old = p.surname
                for m in self.households[p.setai].members:
                    q = self.persons[m]
                    if q.surname == old:
                        q.surname, q.surname_kana = common
                    q.protected = True
            b.given, b.given_kana = a.given, a.given_kana
            b.birth = a.birth
            b.resident_since = b.birth
            b.facts = []
            hh = self.households[b.setai]
            circ.child_facts(self, rng, b, hh, b.birth)
            mother = self.persons.get(b.mother) if b.mother else None
            circ.birth_facts(self, rng, b, mother if (mother and mother.present(b.birth)) else None, hh, b.birth)
            a.same_name_pair = b.same_name_pair = True
            made += 1
        self.same_name_pairs = made

    # --- monthly events ----------------------------------------------------------------------
    def advance(self, month: str) -> dict:
        """Apply the events of `month` (dated within it); returns counts of each event kind."""
        y, m = parse_month(month)
        lo, hi = first_day(y, m), last_day(y, m)
        rng = random.Random(f"{self.seed}|month|{month}")
        counts = {
            "births": 0,
            "twin_births": 0,
            "deaths": 0,
            "moved_out": 0,
            "moved_in": 0,
            "divorces": 0,
            "left_home": 0,
        }

        def day():
            return lo + timedelta(days=rng.randrange((hi - lo).days + 1))

        current = [p for p in self.persons.values() if p.present(lo)]
        # deaths
        for p in current:
            a = p.age(lo)
            if a >= 60 and not p.protected:
                q = min(0.35, 0.006 * 2 ** ((a - 60) / 7.5))
                if rng.random() < q / 12:
                    self._leave(p, day())
                    counts["deaths"] += 1
        # households moving out
        for hh in list(self.households.values()):
            if hh.gone_on or not hh.members:
                continue
            members = [self.persons[a] for a in hh.members]
            if any(p.protected for p in members):
                continue
            has_kids = any(p.age(lo) <= 18 for p in members)
            if rng.random() < (MOVE_OUT_FAMILY if has_kids else MOVE_OUT_ADULT):
                d = day()
                for p in members:
                    self._leave(p, d)
                    counts["moved_out"] += 1
                hh.gone_on = d
        # adult children leaving home (out of town 70%, own household in town 30%)
        for p in current:
            if p.left_on or p.rel not in ("子", "孫") or not (19 <= p.age(lo) <= 34) or p.protected:
                continue
            if rng.random() < LEAVE_HOME:
                d = day()
                if rng.random() < 0.7:
                    self._leave(p, d)
                else:
                    self._rehouse([p], d, rng)
                counts["left_home"] += 1
        # divorces
        for hh in list(self.households.values()):
            if hh.gone_on or hh.single_parent:
                continue
            members = [self.persons[a] for a in hh.members]
            kids = [k for k in members if k.age(lo) <= 18 and k.rel in ("子", "孫")]
            if not kids:
                continue
            mothers = [k for k in members if k.sex == 2 and k.spouse and any(c.mother == k.atena for c in kids)]
            if not mothers or any(p.protected for p in members):
                continue
            if rng.random() < DIVORCE:
                self._divorce(rng, hh, mothers[0], kids, day())
                counts["divorces"] += 1
        # births
        n_births = _poisson(rng, self.births_per_month)
        candidates = [
            p
            for p in self.persons.values()
            if p.present(lo)
            and p.sex == 2
            and 19 <= p.age(lo) <= 44
            and p.rel in ("世帯主", "妻", "子の妻", "子")
            and (p.spouse or rng.random() < 0.1)
        ]
        weights = [max(0.01, 1.0 - abs(p.age(lo) - 32) / 13) for p in candidates]
        for _ in range(n_births):
            if not candidates:
                break
            mother = rng.choices(candidates, weights)[0]
            twins = rng.random() < TWIN_RATE
            self._birth(rng, mother, day(), twins)
            counts["births"] += 2 if twins else 1
            counts["twin_births"] += 1 if twins else 0
        # moving in: about as many people as moved out, mostly young families and singles
        target_in = counts["moved_out"] + counts["left_home"] * 0.7 + counts["deaths"] * 0.3
        moved_in = 0
        while moved_in < target_in:
            d = day()
            if rng.random() < 0.45:
                hh = self.add_family(rng, d, d, youngest_age=rng.choices(range(16), [16 - a for a in range(16)])[0])
            else:
                hh = self.add_adults(rng, d, d)
            moved_in += len(hh.members)
            counts["moved_in"] += len(hh.members)
        return counts

    def _leave(self, p: Person, d: date) -> None:
        if p.left_on is not None:
            return
        p.left_on = d
        self._take_out(p, d)
        if p.spouse and p.spouse in self.persons and self.persons[p.spouse].spouse == p.atena:
            self.persons[p.spouse].spouse = None

    def _take_out(self, p: Person, d: date) -> None:
        """Take `p` out of their household: a new head if they headed it, gone on `d` if it empties."""
        hh = self.households.get(p.setai)
        if hh and p.atena in hh.members:
            hh.members.remove(p.atena)
            if p.rel == "世帯主":
                self._new_head(hh)
            if not hh.members:
                hh.gone_on = d

    def _new_head(self, hh: Household) -> None:
        members = [self.persons[a] for a in hh.members]
        if not members:
            return
        for rel in ("妻", "夫"):
            for q in members:
                if q.rel == rel:
                    q.rel = "世帯主"
                    return
        adults = sorted((q for q in members if q.rel != "孫"), key=lambda q: q.birth) or sorted(
            members, key=lambda q: q.birth
        )
        head = adults[0]
        relabel = (
            {"子": "子", "孫": "子", "子の妻": "妻", "妻の父": "妻の父", "妻の母": "妻の母"} if head.rel == "子" else {}
        )
        for q in members:
            if q is head:
                continue
            if q.atena == head.spouse:
                q.rel = "妻" if q.sex == 2 else "夫"
            elif relabel:
                q.rel = relabel.get(q.rel, q.rel)
        head.rel = "世帯主"

    def _rehouse(self, people: list, d: date, rng, heads_rel: str = "世帯主") -> Household:
        """Move residents to a new household at a new address within the town (転居)."""
        new = self._household(None)
        new.moved_in_on = None
        for i, p in enumerate(people):
            self._take_out(p, d)
            p.setai = new.setai
            new.members.append(p.atena)
            p.rel = heads_rel if i == 0 else "子"
        return new

    def _divorce(self, rng, hh: Household, mother: Person, kids: list, d: date) -> None:
        father = self.persons.get(mother.spouse)
        mother.spouse = None
        if father:
            father.spouse = None
        own_kids = [k for k in kids if k.mother == mother.atena]
        if mother.rel in ("妻", "世帯主") and (rng.random() < 0.5 or father is None):
            # father leaves: out of town, or his own household in town
            if father:
                if rng.random() < 0.6:
                    self._leave(father, d)
                else:
                    self._rehouse([father], d, rng)
            new = hh
            if mother.rel != "世帯主" and mother.rel == "妻":
                mother.rel = "世帯主"
                for k in own_kids:
                    k.rel = "子"
        else:
            new = self._rehouse([mother] + own_kids, d, rng)
        new.single_parent = True
        if not new.poverty:
            new.poverty = rng.random() < 0.35
        if mother.maiden and rng.random() < 0.65:
            mother.former.append((mother.surname, mother.surname_kana, d))
            mother.surname, mother.surname_kana = mother.maiden
            for k in own_kids:
                if rng.random() < 0.85:
                    k.former.append((k.surname, k.surname_kana, d))
                    k.surname, k.surname_kana = mother.surname, mother.surname_kana
                    k.school_old_surname = tuple(
                        f
                        for f in ("学齢簿.csv", "出欠.xlsx", "学校健診.csv", "就学援助.csv", "給食費.csv")
                        if rng.random() < (0.3 if f == "学齢簿.csv" else 0.6)
                    )
        members = [self.persons[a] for a in new.members]
        circ.add_single_parent_facts(self, rng, new, mother, [k for k in members if k.age(d) <= 18], d)
        if new.poverty:
            for dd in circ._poisson_dates(rng, 0.3, d, self.horizon):
                circ._consult(self, rng, new, "consult_shien", dd, {"category": "生活困窮"}, members, own_kids)

    def _birth(self, rng, mother: Person, d: date, twins: bool) -> None:
        hh = self.households[mother.setai]
        father = self.persons.get(mother.spouse) if mother.spouse else None
        rel = "孫" if mother.rel in ("子", "子の妻") else "子"
        if mother.rel == "子" and father is None:
            rel = "孫"
        prev = None
        for _ in range(2 if twins else 1):
            sex = rng.choice((1, 2))
            given = self.pool.similar_given_name(rng, sex, prev) if (prev and rng.random() < 0.5) else None
            kid = self._person(rng, hh, sex, d, (mother.surname, mother.surname_kana), rel, d, None, given)
            kid.mother, kid.father, kid.twin = mother.atena, father.atena if father else None, twins
            prev = kid.given
            circ.assign_child_latent(rng, kid, hh)
            kid.ppd = rng.random() < circ.P_PPD * (1.5 if hh.poverty else 1.0)
            circ.child_facts(self, rng, kid, hh, d)
            circ.birth_facts(self, rng, kid, mother, hh, d)
        if twins:
            a, b = [self.persons[x] for x in hh.members[-2:]]
            b.ppd = a.ppd


def _grandparents(rng, kind, three_gen, paternal, father_age, mother_age, fam_surname, mother_maiden):
    """Grandparents living with the family, as (sex, age, surname), and the relations that follow."""
    rel_parent, rel_kid = "世帯主", "子"
    grand = []
    if three_gen:
        gp_age = (father_age if paternal else mother_age) + int(rng.gauss(30, 3))
        which = rng.choices(("both", "gm", "gf"), (60, 30, 10))[0]
        gp_surname = fam_surname if (paternal or kind == "single_mother") else mother_maiden
        if kind == "single_mother":
            gp_surname = mother_maiden
        if paternal or kind == "single_mother":
            rel_parent, rel_kid = "子", "孫"
        for sex, present in ((1, which in ("both", "gf")), (2, which in ("both", "gm"))):
            if present:
                grand.append((sex, gp_age + (0 if sex == 1 else -2), gp_surname))
    return rel_parent, rel_kid, grand


def _kid_surname(rng, kind, ref, ages, fam_surname, mother):
    """The children's surname and, for a divorced single mother, the divorce date (her surname follows it)."""
    kid_surname = fam_surname
    divorced_on = None
    if kind == "single_mother":
        divorced = rng.random() < 0.78
        if divorced:
            divorced_on = _rand_between(rng, ref - timedelta(days=365 * ages[-1]), ref - timedelta(days=20))
            ex_surname = fam_surname
            if rng.random() < 0.35:  # 婚氏続称: she keeps the married surname
                mother.surname, mother.surname_kana = ex_surname
            else:
                mother.former.append((ex_surname[0], ex_surname[1], divorced_on))
            kid_surname = (mother.surname, mother.surname_kana)
        else:
            kid_surname = (mother.surname, mother.surname_kana)
    return kid_surname, divorced_on


def _rand_between(rng, a: date, b: date) -> date:
    if b <= a:
        return a
    return a + timedelta(days=rng.randrange((b - a).days + 1))


def _past_move_in(rng, ref: date, adults: bool = False) -> date | None:
    """Most households have lived here long; some moved in during the last years."""
    x = rng.random()
    if x < (0.62 if adults else 0.68):
        return None  # long-standing residents: born here or arrived before records matter
    years = rng.expovariate(1 / 9.0)
    if years > 30:
        return None
    return ref - timedelta(days=int(years * 365.25) + 1)


def _poisson(rng, lam: float) -> int:
    # Knuth; lam is small (births per month at scale ≤ 10 is < 150 → use normal approx above 50)
    if lam > 50:
        return max(0, round(rng.gauss(lam, lam**0.5)))
    import math

    L, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= L:
            return k
        k += 1
