"""The independent town's latent model and population (README.md explains it).

Everything random is a keyed draw (`Town.u(*keys)`: a hash of the seed and the keys), so a
person's circumstances and their records do not depend on the order of the simulation, and the
same seed gives the same town. The simulation starts BURN_IN months before the first written
month so that histories (consultations, registrations, certificates) exist when files are first
written.
"""

from __future__ import annotations

import calendar
import hashlib
import math
import struct
from dataclasses import dataclass, field
from datetime import date, timedelta

from names import AREA_WEIGHTS, AREAS, FACILITIES, FUKUSHI_FIELDS, GIVEN_F, GIVEN_M, PREFIX, SURNAMES

BURN_IN = 36

#: base rates of the latent model (the --prevalence-scale multiplies the marked ones)
BASE = {
    "hardship_single": 0.42,  # * household hardship if a single parent
    "hardship_couple": 0.07,  # * with two parents
    "hardship_onset": 0.0015,  # * per month, households with children
    "hardship_recover": 0.012,  # per month
    "parent_mi": 0.055,  # * a parent lives with a mental illness
    "dv_couple": 0.025,  # * intimate-partner violence in a couple household
    "dv_single": 0.10,  # * a single mother who left a violent partner
    "maltreat_base": 0.018,  # * household-level neglect/abuse, before risk factors
    "neuro_boy": 0.075,  # * neurodevelopmental condition
    "neuro_girl": 0.035,  # *
    "avoid_base": 0.025,  # * school avoidance after its onset age
    "pnd_base": 0.09,  # * perinatal depression of the mother for one birth
    "carer_base": 0.25,  # * a child takes on care when someone at home needs it
}
SCALED = {
    "hardship_single",
    "hardship_couple",
    "hardship_onset",
    "parent_mi",
    "dv_couple",
    "dv_single",
    "maltreat_base",
    "neuro_boy",
    "neuro_girl",
    "avoid_base",
    "pnd_base",
    "carer_base",
}

#: vaccine dose → (first month of age it is offered, month of age by which it is due)
VACCINES = [
    ("ヒブ 1回目", 2, 7),
    ("ヒブ 2回目", 3, 8),
    ("ヒブ 3回目", 4, 9),
    ("ヒブ 追加", 12, 60),
    ("小児用肺炎球菌 1回目", 2, 7),
    ("小児用肺炎球菌 2回目", 3, 8),
    ("小児用肺炎球菌 3回目", 4, 9),
    ("小児用肺炎球菌 追加", 12, 24),
    ("B型肝炎 1回目", 2, 12),
    ("B型肝炎 2回目", 3, 12),
    ("B型肝炎 3回目", 7, 12),
    ("五種混合 1回目", 2, 90),
    ("五種混合 2回目", 3, 90),
    ("五種混合 3回目", 4, 90),
    ("五種混合 4回目", 12, 90),
    ("BCG", 5, 12),
    ("MR 1期", 12, 24),
    ("水痘 1回目", 12, 36),
    ("水痘 2回目", 18, 36),
    ("MR 2期", 60, 84),
    ("日本脳炎 1期 1回目", 36, 90),
    ("日本脳炎 1期 2回目", 37, 90),
]
CHECKUPS = [("4か月", 4), ("1歳6か月", 18), ("3歳", 36)]
CARE_LEVELS = ["要支援1", "要支援2", "要介護1", "要介護2", "要介護3", "要介護4", "要介護5"]


def given_names(sex: int, birth: date) -> list:
    """Names of the birth's generation (the lists run from recent to older fashions)."""
    names = GIVEN_M if sex == 1 else GIVEN_F
    return names[:12] if birth.year >= 1992 else names[8:]


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def month_end(m: date) -> date:
    return date(m.year, m.month, calendar.monthrange(m.year, m.month)[1])


def age_on(birth: date, d: date) -> int:
    """Full years on d (a new age is reached the day before the birthday)."""
    d1 = d + timedelta(days=1)
    return d1.year - birth.year - ((d1.month, d1.day) < (birth.month, birth.day))


def months_old(birth: date, d: date) -> int:
    return (d.year - birth.year) * 12 + d.month - birth.month - (d.day < birth.day)


def cohort(birth: date) -> int:
    """The April of the school year a child's cohort was born in (2 April – 1 April)."""
    return birth.year if (birth.month, birth.day) >= (4, 2) else birth.year - 1


def school_year(d: date) -> int:
    return d.year if d.month >= 4 else d.year - 1


@dataclass
class Person:
    pid: str
    hid: str
    surname: int
    given: tuple
    sex: int  # 1 男 2 女
    birth: date
    rel: str
    since: date
    moved_in: date | None
    resident: bool = True
    left_on: date | None = None
    mother: str | None = None
    student_no: dict = field(default_factory=dict)  # "E"/"J" → number


@dataclass
class Household:
    hid: str
    area: str
    address: str
    members: list
    single: bool = False
    hardship: bool = False
    dv: bool = False
    dv_protected: bool = False
    parent_mi: str | None = None  # the parent's pid
    maltreat_u: float = 1.0
    moved_in: date | None = None


class Town:
    def __init__(self, seed: int, residents: int, first_month: date, months: int, prevalence: float = 1.0):
        self.seed = seed
        self.target = residents
        self.first = first_month
        self.months = months
        self.rates = {k: (min(0.95, v * prevalence) if k in SCALED else v) for k, v in BASE.items()}
        self.people: dict[str, Person] = {}
        self.hh: dict[str, Household] = {}
        self._pid = 0
        self._hid = 0
        self._case = 0
        self._consult = 0
        self._student = 0
        self.pregnancies: list[tuple[str, date, str]] = []  # (mother, due date, key)
        # registers (records as departments hold them)
        self.yotaikyo: list[dict] = []
        self.allowance: list[dict] = []
        self.sp_medical: list[dict] = []
        self.childcare: list[dict] = []
        self.k_consult: list[dict] = []
        self.f_consult: list[dict] = []
        self.techo: dict[str, list] = {}
        self.service_cert: dict[str, dict] = {}
        self.care_cert: dict[str, dict] = {}
        self.assistance: list[dict] = []
        self.dis_medical: dict[str, dict] = {}
        self.maternity: dict[str, dict] = {}
        self.aid_decisions: dict = {}
        self.now = add_months(first_month, -BURN_IN)

    # ---- keyed randomness -----------------------------------------------------------------------
    def u(self, *keys) -> float:
        h = hashlib.blake2b((f"{self.seed}|" + "|".join(map(str, keys))).encode(), digest_size=8).digest()
        return struct.unpack("<Q", h)[0] / 2**64

    def pick(self, seq, *keys):
        return seq[int(self.u(*keys) * len(seq))]

    def day_in(self, m: date, *keys, last: date | None = None) -> date:
        end = month_end(m) if last is None else min(month_end(m), last)
        span = (end - m).days + 1
        return m + timedelta(days=int(self.u(*keys) * span))

    def poisson(self, lam: float, *keys) -> int:
        x, p, s, uu = 0, math.exp(-lam), math.exp(-lam), self.u(*keys)
        while uu > s and x < 40:
            x += 1
            p *= lam / x
            s += p
        return x

    # ---- population ------------------------------------------------------------------------------
    def new_pid(self) -> str:
        self._pid += 1
        # the registry's own numbering: 10 digits with a check digit (mod 11, capped at 0)
        body = f"{310000000 + self._pid * 7:09d}"
        check = sum(int(c) * (i + 2) for i, c in enumerate(reversed(body))) % 11 % 10
        return body + str(check)

    def new_hid(self) -> str:
        self._hid += 1
        return f"H{5000000 + self._hid * 3:07d}"

    def address(self, key) -> tuple[str, str]:
        r, acc = self.u("area", key), 0.0
        area = list(AREAS)[-1]
        for a, w in zip(AREAS, AREA_WEIGHTS, strict=False):
            acc += w
            if r < acc:
                area = a
                break
        chome = 1 + int(self.u("chome", key) * 4)
        ban = 1 + int(self.u("ban", key) * 30)
        go = 1 + int(self.u("go", key) * 20)
        addr = f"{PREFIX}{area}{chome}丁目{ban}番{go}号"
        if self.u("apt", key) < 0.25:
            addr += f"　しおかぜハイツ{1 + int(self.u('room', key) * 3)}0{1 + int(self.u('rn', key) * 6)}"
        return area, addr

    def add_person(
        self, h: Household, surname: int, sex: int, birth: date, rel: str, since: date, moved_in, mother=None
    ):
        pid = self.new_pid()
        given = self.pick(given_names(sex, birth), "given", pid)
        p = Person(pid, h.hid, surname, given, sex, birth, rel, since, moved_in, mother=mother)
        self.people[pid] = p
        h.members.append(pid)
        return p

    def rand_birth(self, age_lo: float, age_hi: float, ref: date, *keys) -> date:
        days = (age_lo + (age_hi - age_lo) * self.u("birth", *keys)) * 365.25
        return ref - timedelta(days=int(days))

    def make_household(self, ref: date, moved_in: date | None) -> Household:
        hid = self.new_hid()
        area, addr = self.address(hid)
        h = Household(hid, area, addr, [], moved_in=moved_in)
        self.hh[hid] = h
        kind_r = self.u("kind", hid)
        # the town's household mix (its own): young families over-represented in arrivals
        mix = [
            ("old1", 0.15),
            ("old2", 0.13),
            ("single", 0.22),
            ("couple", 0.15),
            ("family", 0.18),
            ("lone_parent", 0.045),
            ("threegen", 0.045),
            ("adult_parent", 0.08),
        ]
        if moved_in:
            mix = [
                ("old1", 0.03),
                ("old2", 0.03),
                ("single", 0.3),
                ("couple", 0.14),
                ("family", 0.38),
                ("lone_parent", 0.09),
                ("threegen", 0.02),
                ("adult_parent", 0.01),
            ]
        acc = 0.0
        kind = mix[-1][0]
        for k, w in mix:
            acc += w
            if kind_r < acc:
                kind = k
                break
        sur = int(self.u("sur", hid) * len(SURNAMES))
        since_old = lambda key: moved_in or (ref - timedelta(days=int(365 * (1 + 30 * self.u("since", hid, key)))))  # noqa: E731
        r = self.rates

        def member(sex, lo, hi, rel, key, mother=None, surname=sur):
            b = self.rand_birth(lo, hi, ref, hid, key)
            since = moved_in or (
                b
                if self.u("born_here", hid, key) < 0.5 and b > ref - timedelta(days=365 * 60)
                else max(b, since_old(key))
            )
            return self.add_person(h, surname, sex, b, rel, since, moved_in, mother)

        if kind == "old1":
            member(1 + (self.u("s", hid) < 0.7), 72, 95, "世帯主", "a")
        elif kind == "old2":
            member(1, 68, 92, "世帯主", "a")
            member(2, 66, 90, "妻", "b")
        elif kind == "single":
            member(1 + (self.u("s", hid) < 0.45), 19, 64, "世帯主", "a")
        elif kind == "couple":
            member(1, 25, 70, "世帯主", "a")
            member(2, 24, 68, "妻", "b")
        elif kind == "adult_parent":
            member(1 + (self.u("s", hid) < 0.5), 40, 65, "世帯主", "a")
            member(2, 70, 95, "母", "b")
        else:
            single = kind == "lone_parent"
            h.single = single
            oldest = 19 * self.u("oldest", hid) + (3 if kind == "threegen" else 0)
            oldest = min(oldest, 21.5)
            m_age_first = 21 + 15 * self.u("mfirst", hid) ** 1.3
            mom_age = oldest + m_age_first
            if single and self.u("father_lone", hid) < 0.12:
                head = member(1, mom_age + 0.5, mom_age + 3, "世帯主", "a")
                mother = None
            else:
                mother = member(2, mom_age, mom_age + 0.01, "世帯主" if single else "妻", "m")
                if not single:
                    head = member(1, mom_age + 0.5, mom_age + 5, "世帯主", "f")
                    h.members.remove(head.pid)
                    h.members.insert(0, head.pid)
                # a divorced mother often keeps her own surname; the children keep theirs
            nkids_r = self.u("nkids", hid)
            nkids = 1 if nkids_r < 0.42 else 2 if nkids_r < 0.85 else 3 if nkids_r < 0.97 else 4
            ages = [oldest]
            for i in range(1, nkids):
                gap = 1.2 + 4 * self.u("gap", hid, i)
                if ages[-1] - gap < 0:
                    break
                ages.append(ages[-1] - gap)
            for i, a in enumerate(ages):
                k = member(
                    1 + (self.u("ksex", hid, i) < 0.49),
                    a,
                    a + 0.002,
                    "子",
                    f"k{i}",
                    mother=mother.pid if mother else None,
                )
                if self.u("twin", hid, i) < 0.015 and a < 18:
                    t = self.add_person(
                        h, sur, 1 + (self.u("tsex", hid, i) < 0.5), k.birth, "子", k.since, moved_in, k.mother
                    )
                    pool = [g for g in given_names(t.sex, t.birth) if g != k.given]
                    t.given = self.pick(pool, "tgiven", hid, i)
            if kind == "threegen":
                member(1, mom_age + 24, mom_age + 32, "父", "gf")
                member(2, mom_age + 22, mom_age + 30, "母", "gm")
            h.hardship = self.u("hardship", hid) < (r["hardship_single"] if single else r["hardship_couple"]) * (
                1.4 if m_age_first < 23 else 1.0
            ) * (1.3 if nkids >= 3 else 1.0)
            if self.u("mi", hid) < r["parent_mi"] * (1.8 if single else 1.0) * (1.4 if h.hardship else 1.0):
                h.parent_mi = (mother or head).pid
            h.dv = self.u("dv", hid) < (r["dv_single"] if single and mother else r["dv_couple"])
            h.dv_protected = h.dv and single and self.u("dvp", hid) < 0.45
            h.maltreat_u = self.u("maltreat", hid)
        return h

    def hh_has_kids(self, h: Household, d: date) -> bool:
        return any(age_on(self.people[m].birth, d) < 18 for m in h.members)

    def adults(self, h: Household, d: date) -> list[Person]:
        return [self.people[m] for m in h.members if age_on(self.people[m].birth, d) >= 18]

    def kids(self, h: Household, d: date) -> list[Person]:
        return [self.people[m] for m in h.members if age_on(self.people[m].birth, d) < 18]

    # ---- latent states -----------------------------------------------------------------------------
    def maltreat(self, h: Household) -> bool:
        r = self.rates["maltreat_base"]
        p = r * (1 + 3.0 * h.hardship + 3.5 * bool(h.parent_mi) + 4.0 * h.dv + 1.0 * h.single)
        return h.maltreat_u < min(p, 0.6)

    def maltreated(self, p: Person, d: date) -> bool:
        h = self.hh[p.hid]
        return age_on(p.birth, d) < 18 and self.maltreat(h) and self.u("mt_child", p.pid) < 0.85

    def neuro(self, p: Person) -> bool:
        return self.u("neuro", p.pid) < self.rates["neuro_boy" if p.sex == 1 else "neuro_girl"]

    def severe_child_disability(self, p: Person) -> bool:
        return self.u("sevdis", p.pid) < 0.006

    def mental_illness(self, p: Person) -> bool:
        h = self.hh[p.hid]
        return h.parent_mi == p.pid or (self.u("mi_adult", p.pid) < 0.025)

    def frail(self, p: Person, d: date) -> bool:
        a = age_on(p.birth, d)
        return a >= 65 and self.u("frail", p.pid) < min(0.65, 0.025 * math.exp((a - 65) * 0.12))

    def adult_disabled(self, p: Person, d: date) -> bool:
        a = age_on(p.birth, d)
        return 18 <= a < 65 and self.u("adis", p.pid) < 0.009

    def needs_care(self, p: Person, d: date) -> bool:
        a = age_on(p.birth, d)
        if a >= 65:
            return self.frail(p, d)
        if a >= 18:
            return self.adult_disabled(p, d) or (self.mental_illness(p) and self.u("mi_severe", p.pid) < 0.4)
        return self.severe_child_disability(p)

    def avoiding(self, p: Person, d: date) -> bool:
        a = age_on(p.birth, d)
        onset = 8 + 7 * self.u("av_onset", p.pid)
        if a < 6 or a >= 19 or a < onset:
            return False
        h = self.hh[p.hid]
        prob = self.rates["avoid_base"] * (1 + 2.5 * self.neuro(p) + 2.0 * self.maltreated(p, d) + 0.8 * h.hardship)
        # most episodes last: a small share recovers (keyed by school year)
        if self.u("av_recover", p.pid, school_year(d)) < 0.15 and self.u("av", p.pid) < prob:
            return False
        return self.u("av", p.pid) < prob

    def carer(self, p: Person, d: date) -> bool:
        a = age_on(p.birth, d)
        if a < 7 or a >= 19:
            return False
        h = self.hh[p.hid]
        needing = [self.people[m] for m in h.members if m != p.pid and self.needs_care(self.people[m], d)]
        if not needing:
            # looking after small siblings in place of a lone parent who works or is unwell
            small = [self.people[m] for m in h.members if age_on(self.people[m].birth, d) < 7]
            if a >= 10 and h.single and small and (h.hardship or h.parent_mi):
                return self.u("carer_sib", p.pid) < min(0.9, self.rates["carer_base"] * 0.8)
            return False
        adults_fit = [x for x in self.adults(h, d) if x not in needing]
        prob = self.rates["carer_base"] * (1 + 1.2 * (len(adults_fit) <= 1) + 0.6 * h.hardship + 0.5 * (a >= 12))
        return self.u("carer", p.pid) < min(prob, 0.9)

    def pnd(self, child: Person) -> bool:
        if not child.mother or child.mother not in self.people:
            return False
        h = self.hh[child.hid]
        mom = self.people[child.mother]
        prob = self.rates["pnd_base"] * (
            1
            + 1.0 * h.hardship
            + 2.5 * self.mental_illness(mom)
            + 1.2 * h.dv
            + 0.6 * (age_on(mom.birth, child.birth) < 22)
        )
        return self.u("pnd", child.pid) < min(prob, 0.8)

    # ---- simulation --------------------------------------------------------------------------------
    def populate(self):
        ref = self.now
        target = self.target * 0.985 ** (BURN_IN / 12)  # the town grows a little, as Kaisei does
        while len(self.people) < target:
            self.make_household(ref, None)
        for h in list(self.hh.values()):
            self.init_records(h, ref)

    def residents(self):
        return [p for p in self.people.values() if p.resident]

    def leave(self, p: Person, d: date):
        p.resident = False
        p.left_on = d
        h = self.hh[p.hid]
        if p.pid in h.members:
            h.members.remove(p.pid)

    def step(self, m: date):
        """Advance the town through month m (first day)."""
        end = month_end(m)
        self.now = m
        # births
        for mom, due, key in [x for x in self.pregnancies if x[1] <= end and x[1] >= m]:
            self.pregnancies.remove((mom, due, key))
            mp = self.people.get(mom)
            if not mp or not mp.resident:
                continue
            h = self.hh[mp.hid]
            father = next(
                (self.people[x] for x in h.members if self.people[x].rel == "世帯主" and self.people[x].sex == 1), None
            )
            sur = father.surname if father else mp.surname
            kid = self.add_person(h, sur, 1 + (self.u("bsex", key) < 0.49), due, "子", due, None, mother=mom)
            self.on_birth(kid, key)
        # conceptions (birth 9 months later): women 20–44 living with children or a partner
        for h in list(self.hh.values()):
            if not h.members:
                continue
            for pid in list(h.members):
                p = self.people[pid]
                a = age_on(p.birth, m)
                if p.sex != 2 or not 19 <= a <= 44 or any(x[0] == pid for x in self.pregnancies):
                    continue
                partnered = p.rel in ("妻",) or (p.rel == "世帯主" and not h.single and len(self.adults(h, m)) >= 2)
                rate = (0.0085 if partnered else 0.0008) * (1.6 if a < 35 else 0.4)
                if self.u("conceive", pid, m) < rate:
                    due = self.day_in(add_months(m, 9), "due", pid, m)
                    self.pregnancies.append((pid, due, f"{pid}-{m}"))
                    self.on_pregnancy(p, due, f"{pid}-{m}")
        # deaths, moves
        for p in list(self.residents()):
            a = age_on(p.birth, m)
            if a >= 70 and self.u("death", p.pid, m) < 0.0009 * math.exp((a - 70) * 0.09):
                self.leave(p, self.day_in(m, "dday", p.pid))
            elif 19 <= a <= 28 and p.rel == "子" and self.u("leavehome", p.pid, m) < 0.006:
                self.leave(p, self.day_in(m, "lday", p.pid))
        for h in list(self.hh.values()):
            if not h.members:
                continue
            if self.u("moveout", h.hid, m) < (0.0045 if h.moved_in else 0.0028):
                day = self.day_in(m, "oday", h.hid)
                for pid in list(h.members):
                    self.leave(self.people[pid], day)
            elif not h.single and self.hh_has_kids(h, m) and self.u("split", h.hid, m) < 0.0012:
                # separation: the father leaves town; hardship and the allowance may follow
                dad = next(
                    (self.people[x] for x in h.members if self.people[x].sex == 1 and self.people[x].rel == "世帯主"),
                    None,
                )
                mom = next((self.people[x] for x in h.members if self.people[x].rel == "妻"), None)
                if dad and mom:
                    self.leave(dad, self.day_in(m, "sday", h.hid))
                    mom.rel = "世帯主"
                    h.single = True
                    h.single_since = self.day_in(m, "sday", h.hid)
                    if self.u("split_hard", h.hid) < self.rates["hardship_single"]:
                        h.hardship = True
        # arrivals keep the town growing slowly (about 1.5 % a year net)
        want = self.target * 0.985 ** (max(0, (self.first.year - m.year) * 12 + self.first.month - m.month) / 12)
        n = 0
        while len(self.residents()) < want and n < 200:
            n += 1
            day = self.day_in(m, "iday", self._hid)
            h = self.make_household(end, day)
            self.init_records(h, day)
        # hardship comes and goes
        for h in self.hh.values():
            if not h.members or not self.hh_has_kids(h, m):
                continue
            if h.hardship and self.u("recover", h.hid, m) < self.rates["hardship_recover"]:
                h.hardship = False
            elif not h.hardship and self.u("onset", h.hid, m) < self.rates["hardship_onset"] * (3 if h.single else 1):
                h.hardship = True
        self.monthly_records(m)

    # ---- records -----------------------------------------------------------------------------------
    def next_case(self, prefix: str) -> str:
        self._case += 1
        return f"{prefix}{self._case:06d}"

    def consult_no(self, prefix: str, d: date) -> str:
        self._consult += 1
        return f"{prefix}{d.year}-{self._consult:05d}"

    def past(self, ref: date, years: float, *keys) -> date:
        return ref - timedelta(days=int(365 * years * self.u("past", *keys)) + 1)

    def init_records(self, h: Household, ref: date):
        """State-held records at the start (or on arrival: certificates come with the family)."""
        arrival = h.moved_in is not None
        for pid in h.members:
            p = self.people[pid]
            self.state_records(p, ref, first=True, arrival=arrival)
        self.household_state_records(h, ref, first=True)
        if not arrival:
            # earlier events of the town's own registers (before the simulated years)
            for p in self.kids(h, ref):
                if self.maltreated(p, ref) and self.u("yt_old", p.pid) < 0.35:
                    self.register_yotaikyo(p, self.past(ref, 4, "yt", p.pid), old=True)
            for k in self.kids(h, ref):
                if months_old(k.birth, ref) < 60 and k.since == k.birth:
                    self.on_birth(k, f"init-{k.pid}", at=ref)

    def register_yotaikyo(self, p: Person, d: date, old=False, category=None):
        if any(r["pid"] == p.pid and r["closed_on"] is None for r in self.yotaikyo):
            return
        cat = category or ("要保護" if self.u("ytcat", p.pid, d) < 0.3 else "要支援")
        custody = cat == "要保護" and self.u("custody", p.pid) < 0.4
        c_on = None
        if custody and self.u("custody_known", p.pid) < 0.85:
            c_on = d + timedelta(days=int(60 * self.u("cday", p.pid)))
        rec = dict(pid=p.pid, category=cat, registered_on=d, closed_on=None, custody=custody, custody_on=c_on)
        if old and self.u("yt_closed", p.pid) < 0.5:
            rec["closed_on"] = d + timedelta(days=int(200 + 500 * self.u("yt_cl", p.pid)))
            if rec["closed_on"] >= self.now:
                rec["closed_on"] = None
        self.yotaikyo.append(rec)

    def state_records(self, p: Person, d: date, first=False, arrival=False):
        """Certificates a person holds because of their circumstances (start or end them)."""
        a = age_on(p.birth, d)
        key = p.pid
        # disability certificates
        held = {t[0] for t in self.techo.get(key, [])}
        wants = []
        if a >= 18 and self.adult_disabled(p, d):
            wants.append(("身体", "1級" if self.u("g", key) < 0.5 else "2級", False))
        if a >= 60 and self.u("phys_old", key) < 0.025 + 0.05 * self.frail(p, d):
            wants.append(("身体", self.pick(["3級", "4級", "5級", "2級"], "g2", key), False))
        if self.mental_illness(p) and a >= 18 and self.u("mi_techo", key) < 0.35:
            wants.append(("精神", self.pick(["1級", "2級", "2級", "3級"], "g3", key), self.u("mi_dd", key) < 0.15))
        if a < 18 and self.severe_child_disability(p):
            wants.append(("療育", "A", False))
            if self.u("sev_phys", key) < 0.4:
                wants.append(("身体", "1級", False))
        if a < 18 and self.neuro(p):
            if self.u("neuro_ryo", key) < 0.14 and a >= 3:
                wants.append(("療育", "B", False))
            if a >= 12 and self.u("neuro_sei", key) < 0.18:
                wants.append(("精神", self.pick(["2級", "3級"], "g4", key), True))
        if 18 <= a < 40 and self.u("adult_id", key) < 0.004:
            wants.append(("療育", "B", self.u("adult_id_dd", key) < 0.5))
        for t, g, dd in wants:
            if t in held:
                continue
            held.add(t)
            if first:
                issued = self.past(d, 6 if a > 8 else max(0.2, a / 2), "issue", key, t)
                issued = max(issued, p.birth + timedelta(days=200))
            elif self.u("t_start", key, t, d) < 0.05:
                issued = self.day_in(d.replace(day=1), "tday", key, t)
            else:
                continue
            self.techo.setdefault(key, []).append((t, g, dd, issued))
            if (t == "療育" and g == "A") or (t == "身体" and g in ("1級", "2級")) or (t == "精神" and g == "1級"):
                if self.u("dmed", key) < 0.7 and key not in self.dis_medical:
                    self.dis_medical[key] = dict(valid_from=issued + timedelta(days=20), valid_to=None)
        # disability service certificate (children): neurodevelopmental or severe
        if a < 18 and (self.neuro(p) or self.severe_child_disability(p)) and 2 <= a and key not in self.service_cert:
            if self.u("svc", key) < (0.55 if self.neuro(p) else 0.9):
                if first:
                    start_age = 2.5 + 4 * self.u("svc_age", key)
                    if a >= start_age:
                        self.service_cert[key] = dict(
                            no=f"J{key[-7:]}{int(self.u('svcno', key) * 90) + 10}",
                            issued=max(p.birth + timedelta(days=int(start_age * 365)), d - timedelta(days=3000)),
                            stop_age=6 + 12 * self.u("svc_stop", key),
                        )
                elif self.u("svc_start", key, d) < 0.03:
                    self.service_cert[key] = dict(
                        no=f"J{key[-7:]}{int(self.u('svcno', key) * 90) + 10}",
                        issued=self.day_in(d.replace(day=1), "svcday", key),
                        stop_age=6 + 12 * self.u("svc_stop", key),
                    )
        # care-need certification
        if a >= 65 and key not in self.care_cert:
            level = None
            if self.frail(p, d) and self.u("kaigo", key) < 0.82:
                level = CARE_LEVELS[2 + min(4, int(self.u("lvl", key) * 5.5))]
            elif self.u("shien", key) < 0.05 + 0.002 * (a - 65):
                level = CARE_LEVELS[int(self.u("lvl2", key) * 2)]
            if level and (first or self.u("kaigo_start", key, d) < 0.15):
                cert = self.past(d, 1, "kcert", key) if first else self.day_in(d.replace(day=1), "kday", key)
                self.care_cert[key] = dict(level=level, certified=cert)

    def household_state_records(self, h: Household, d: date, first=False):
        kids = [k for k in self.kids(h, d)]
        if not kids and not h.hardship:
            return
        r = self
        # single-parent allowance and medical aid
        if h.single and kids:
            parent = next((self.people[x] for x in h.members if self.people[x].rel == "世帯主"), None)
            if parent:
                start = getattr(h, "single_since", None) or (h.moved_in or self.past(d, 8, "sp", h.hid))
                get_allow = h.hardship or self.u("allow", h.hid) < 0.5
                active = [
                    x for x in self.allowance if x["pid"] == parent.pid and (x["ended_on"] is None or x["ended_on"] > d)
                ]
                if get_allow and not active and (first or r.u("allow_start", h.hid, d) < 0.35):
                    cert = start if first else max(start, self.day_in(d.replace(day=1), "aday", h.hid))
                    cert = min(cert, d)
                    self.allowance.append(dict(pid=parent.pid, certified_on=cert, ended_on=None))
                if self.u("spmed", h.hid) < 0.85:
                    for m in [parent] + kids:
                        if not any(x["pid"] == m.pid and x["valid_to"] is None for x in self.sp_medical):
                            if first or r.u("spm_start", h.hid, d) < 0.4:
                                vf = start if first else self.day_in(d.replace(day=1), "smday", h.hid)
                                vf = max(min(vf, d), m.birth)
                                self.sp_medical.append(dict(pid=m.pid, valid_from=vf, valid_to=None))
        # public assistance: part of the hardship households, as one case (sometimes only some members)
        if h.hardship and self.u("seiho", h.hid) < 0.28:
            if not any(c["hid"] == h.hid and c["ended_on"] is None for c in self.assistance):
                if first or self.u("seiho_start", h.hid, d) < 0.08:
                    members = list(h.members)
                    if len(members) > 2 and self.u("seiho_part", h.hid) < 0.15:
                        members = members[: len(members) - 1]
                    started = self.past(d, 4, "sh", h.hid) if first else self.day_in(d.replace(day=1), "shday", h.hid)
                    if h.moved_in:
                        started = max(started, h.moved_in)
                    self.assistance.append(
                        dict(hid=h.hid, case_no=self.next_case("C"), members=members, started_on=started, ended_on=None)
                    )

    def on_pregnancy(self, mom: Person, due: date, key: str):
        h = self.hh[mom.hid]
        a = age_on(mom.birth, due)
        risky = (a < 20) + h.hardship + self.mental_illness(mom) + h.dv + self.maltreat(h)
        if risky and self.u("tokutei", key) < 0.12 * risky:
            reg = due - timedelta(days=int(100 + 150 * self.u("tkday", key)))
            if reg <= self.now + timedelta(days=27):
                reg = max(reg, self.now)
                self.yotaikyo.append(
                    dict(
                        pid=mom.pid,
                        category="特定妊婦",
                        registered_on=reg,
                        closed_on=None,
                        custody=False,
                        custody_on=None,
                    )
                )

    def on_birth(self, kid: Person, key: str, at: date | None = None):
        mom = self.people.get(kid.mother) if kid.mother else None
        if not mom:
            return
        h = self.hh[kid.hid]
        a = age_on(mom.birth, kid.birth)
        week = 6 + int(self.u("week", key) * 10)
        if self.u("late", key) < 0.02 + 0.08 * h.hardship + 0.15 * (a < 20) + 0.1 * self.maltreat(h):
            week = 20 + int(self.u("week2", key) * 15)
        if self.u("epds_done", key) < 0.08:
            epds = None
        elif self.pnd(kid):
            epds = (
                9 + int(self.u("epds", key) * 12)
                if self.u("epds_sens", key) < 0.75
                else 5 + int(self.u("epds", key) * 4)
            )
        else:
            epds = int(self.u("epds", key) ** 2.2 * 11)  # mostly low, about 6 % reach 9
        visit = "未" if self.u("visit", key) < 0.03 + 0.12 * self.maltreat(h) + 0.05 * h.dv else "済"
        # the record appears when the home visit is due (within 4 months of birth)
        self.maternity[kid.pid] = dict(
            mother=mom.pid,
            week=week,
            epds=epds,
            visit=visit,
            shown_from=kid.birth + timedelta(days=int(20 + 40 * self.u("mshow", key))),
        )

    def monthly_records(self, m: date):
        end = month_end(m)
        for h in list(self.hh.values()):
            if not h.members:
                continue
            for pid in list(h.members):
                p = self.people[pid]
                self.state_records(p, end)
                self.events(p, h, m, end)
            self.household_state_records(h, end)
            self.household_events(h, m, end)
        # endings
        for r in self.yotaikyo:
            p = self.people[r["pid"]]
            if r["closed_on"] is None and r["category"] != "特定妊婦":
                if self.u("yt_close", r["pid"], m) < (0.01 if self.maltreated(p, end) else 0.04):
                    r["closed_on"] = self.day_in(m, "ytcday", r["pid"])
            elif (
                r["closed_on"] is None
                and r["category"] == "特定妊婦"
                and end - r["registered_on"] > timedelta(days=330)
            ):
                r["closed_on"] = self.day_in(m, "tkcday", r["pid"])
        for r in self.allowance:
            p = self.people[r["pid"]]
            h = self.hh[p.hid]
            if r["ended_on"] is None and (not p.resident or not self.kids(h, end) or not h.single):
                r["ended_on"] = p.left_on if not p.resident else end
        for r in self.sp_medical:
            p = self.people[r["pid"]]
            if r["valid_to"] is None and (
                not p.resident or age_on(p.birth, end) >= 18 and p.rel == "子" or not self.hh[p.hid].single
            ):
                r["valid_to"] = p.left_on if not p.resident else end
        for c in self.assistance:
            h = self.hh[c["hid"]]
            if c["ended_on"] is None and (
                not h.members or (not h.hardship and self.u("sh_end", c["case_no"], m) < 0.3)
            ):
                c["ended_on"] = self.day_in(m, "shend", c["case_no"])
                if c["ended_on"] <= c["started_on"]:
                    c["ended_on"] = c["started_on"] + timedelta(days=1)
        for pid in list(self.care_cert):
            p = self.people[pid]
            if not p.resident:
                del self.care_cert[pid]

    def events(self, p: Person, h: Household, m: date, end: date):
        a = age_on(p.birth, end)
        if a >= 18:
            return
        mt = self.maltreated(p, end)
        # 要対協: reported children, and a few families registered for support without maltreatment
        if mt and self.u("yt", p.pid, m) < 0.012:
            self.register_yotaikyo(p, self.day_in(m, "ytday", p.pid, m))
        elif (h.hardship or h.parent_mi) and self.u("yt_other", p.pid, m) < 0.0006:
            self.register_yotaikyo(p, self.day_in(m, "ytday", p.pid, m), category="要支援")
        # child-care enrolment (checked in April and at the first birthday months)
        enrolled = [r for r in self.childcare if r["pid"] == p.pid and (r["left_on"] is None or r["left_on"] > end)]
        months = months_old(p.birth, end)
        sy_end = date(school_year(end) + 1, 3, 31)
        going_school = a >= 5 and cohort(p.birth) + 6 == school_year(end) + 1 - 0  # last year before 小1
        if enrolled:
            r = enrolled[0]
            if r["left_on"] is None and going_school:
                r["left_on"] = sy_end
        elif months >= 6 and cohort(p.birth) + 6 > school_year(end):
            base = 0.15 if a < 1 else 0.55 if a < 3 else 0.9
            base *= (0.7 if mt else 1.0) * (0.8 if h.hardship else 1.0)
            take = self.u("cc", p.pid, a) < base
            when = m.month == 4 or self.u("ccm", p.pid, m) < 0.08
            if take and when:
                fac, kind = self.pick(
                    FACILITIES if a >= 3 else [f for f in FACILITIES if f[1] != "幼稚園"], "fac", p.pid
                )
                self.childcare.append(
                    dict(
                        pid=p.pid,
                        facility=fac,
                        type=kind,
                        enrolled_on=self.day_in(m, "ccday", p.pid, m, last=end),
                        left_on=None,
                    )
                )

    def household_events(self, h: Household, m: date, end: date):
        kids = self.kids(h, end)
        if not kids:
            return
        mt = any(self.maltreated(k, end) for k in kids)
        neuro = any(self.neuro(k) or self.severe_child_disability(k) for k in kids)
        avoid = any(self.avoiding(k, end) for k in kids)
        careneed = any(self.needs_care(self.people[x], end) for x in h.members)
        mi = bool(h.parent_mi)

        def consult(store, prefix, **kw):
            d = self.day_in(m, prefix, h.hid, m, kw.get("category", kw.get("kind")))
            child = (
                self.pick(kids, "who", h.hid, m, prefix).pid if self.u("with_atena", h.hid, m, prefix) < 0.6 else None
            )
            rec = dict(no=self.consult_no(prefix, d), pid=child, hid=h.hid, on=d, **kw)
            store.append(rec)

        # こども支援班's consultations
        if self.u("kc_pov", h.hid, m) < 0.0005 + 0.006 * h.hardship:
            consult(self.k_consult, "KS", category="生活困窮")
        if self.u("kc_dis", h.hid, m) < 0.0003 + 0.005 * neuro + 0.002 * careneed:
            consult(self.k_consult, "KS", category="障がい者")
        if self.u("kc_oth", h.hid, m) < 0.0012 + 0.002 * mi + 0.002 * avoid:
            consult(self.k_consult, "KS", category="その他")
        # 福祉班's consultations
        if self.u("fc_ab", h.hid, m) < 0.00015 + 0.012 * mt + 0.002 * h.dv:
            consult(self.f_consult, "FS", kind="児童虐待相談", field=self.pick(["子育て", "家庭問題"], "f1", h.hid, m))
        if self.u("fc_ch", h.hid, m) < 0.0006 + 0.004 * avoid + 0.003 * neuro:
            consult(self.f_consult, "FS", kind="児童相談", field="子育て")
        if self.u("fc_yo", h.hid, m) < 0.0002 + 0.004 * mi + 0.004 * h.dv + 0.002 * mt:
            consult(
                self.f_consult, "FS", kind="養護相談", field=self.pick(["家庭問題", "こころの健康"], "f2", h.hid, m)
            )
        if self.u("fc_ot", h.hid, m) < 0.001 + 0.004 * careneed + 0.002 * h.hardship:
            consult(self.f_consult, "FS", kind="その他", field=self.pick(FUKUSHI_FIELDS, "f3", h.hid, m))

    def student_no(self, p: Person, level: str) -> str:
        if level not in p.student_no:
            self._student += 1
            base = cohort(p.birth) + (7 if level == "E" else 13)
            p.student_no[level] = f"{level}{base % 100:02d}{self._student:05d}"
        return p.student_no[level]
