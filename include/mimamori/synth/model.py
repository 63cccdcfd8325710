"""The state of the synthetic town: people, households and the dated facts departments hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .dates import age_on
from .town import Address

LATENT = (
    "poverty",
    "care_need_in_household",
    "disability",
    "abuse_neglect",
    "school_refusal",
    "postpartum_depression",
    "developmental_disability",
)


@dataclass
class Fact:
    """One dated record a department holds (a certificate, a registration, a checkup …)."""

    kind: str
    start: date
    end: date | None = None
    data: dict = field(default_factory=dict)


@dataclass
class Person:
    atena: str
    sex: int  # 1 = 男, 2 = 女
    birth: date
    surname: str
    surname_kana: str
    given: str
    given_kana: str
    setai: str
    rel: str
    resident_since: date
    moved_in_on: date | None = None
    left_on: date | None = None  # moved out of town or died
    maiden: tuple[str, str] | None = None  # surname before marriage (women who took the husband's)
    former: list = field(default_factory=list)  # [(surname, kana, changed_on)] after a divorce
    mother: str | None = None
    father: str | None = None
    spouse: str | None = None
    dv: bool = False
    twin: bool = False
    same_name_pair: bool = False
    protected: bool = False  # hard cases kept in town for the whole run
    # latent traits (child level unless noted)
    disability: bool = False
    dev: bool = False
    abuse: bool = False
    refusal_onset: float | None = None  # age at which school refusal starts
    ppd: bool = False  # the mother had postpartum depression after this child's birth
    smoker: bool = False  # (mothers)
    special_class: bool = False
    private_junior: bool = False
    student_no: str | None = None
    school_old_surname: tuple = ()  # school files that keep the pre-divorce surname
    facts: list = field(default_factory=list)

    def present(self, d: date) -> bool:
        return self.resident_since <= d and (self.left_on is None or self.left_on > d)

    def age(self, d: date) -> int:
        return age_on(self.birth, d)

    def name(self) -> str:
        return f"{self.surname}　{self.given}"

    def kana(self) -> str:
        return f"{self.surname_kana}　{self.given_kana}"


@dataclass
class Household:
    setai: str
    address: Address
    members: list = field(default_factory=list)  # atena numbers, current members
    poverty: bool = False
    single_parent: bool = False
    moved_in_on: date | None = None
    gone_on: date | None = None
    facts: list = field(default_factory=list)
