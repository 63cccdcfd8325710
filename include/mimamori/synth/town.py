"""The fictional town 見守町: its 町名, address forms, schools and childcare facilities.

This is data about a fictional town (invented here on purpose), not personal data. Areas use either
住居表示 (``桜台二丁目3番5号``) or the older 地番 form (``大沢1234番地5``), as small Japanese towns do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .dates import to_fullwidth_digits

PREFIX = "神奈川県足柄上郡"
TOWN = "見守町"

# (町名, form, 丁目 count) — form "jukyo" = 住居表示 with 丁目/番/号, "banchi" = 地番 with 番地.
AREAS: tuple[tuple[str, str, int], ...] = (
    ("本町", "jukyo", 3),
    ("栄町", "jukyo", 2),
    ("桜台", "jukyo", 4),
    ("緑が丘", "jukyo", 3),
    ("若葉台", "jukyo", 3),
    ("宮前", "jukyo", 2),
    ("南台", "jukyo", 3),
    ("中央", "jukyo", 2),
    ("大沢", "banchi", 0),
    ("新田", "banchi", 0),
    ("上島", "banchi", 0),
    ("下島", "banchi", 0),
    ("川端", "banchi", 0),
    ("西原", "banchi", 0),
    ("東原", "banchi", 0),
    ("北野", "banchi", 0),
    ("松ケ丘", "banchi", 0),
    ("中井田", "banchi", 0),
)
AREA_WEIGHTS = (9, 6, 10, 8, 7, 5, 6, 5, 6, 5, 4, 4, 4, 5, 4, 3, 3, 2)

BUILDING_WORDS = ("コーポ", "ハイツ", "メゾン", "グランデ", "レジデンス")
KANJI_NUM = "〇一二三四五六七八九"

ELEMENTARY_BASE = ("中央", "東", "西", "南", "北", "桜台", "緑が丘")
JUNIOR_BASE = ("見守", "南", "北", "東")


def kanji_number(n: int) -> str:
    """1–99 in kanji numerals (二丁目, 十二丁目)."""
    if n < 10:
        return KANJI_NUM[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else KANJI_NUM[tens]) + "十" + ("" if ones == 0 else KANJI_NUM[ones])


@dataclass(frozen=True)
class Address:
    area: int  # index into AREAS
    chome: int  # 0 for 地番 areas
    ban: int
    go: int
    building: str = ""  # e.g. "コーポ桜台 203"

    @property
    def area_name(self) -> str:
        return AREAS[self.area][0]

    def registry(self) -> str:
        """As the resident registry writes it: full prefix, kanji 丁目, full-width digits."""
        return PREFIX + TOWN + self._local(fullwidth=True)

    def _local(self, fullwidth: bool) -> str:
        name, form, _ = AREAS[self.area]
        if form == "jukyo":
            text = f"{name}{kanji_number(self.chome)}丁目{self.ban}番{self.go}号"
        else:
            text = f"{name}{self.ban}番地" + (f"{self.go}" if self.go else "")
        if self.building:
            text += "　" + self.building
        return to_fullwidth_digits(text) if fullwidth else text

    def school_base(self) -> str:
        """The school side's usual form: town and 町名, half-width digits."""
        return TOWN + self._local(fullwidth=False)

    def school_variant(self, rng: random.Random) -> str:
        """An address written differently (hyphens, no town name, full-width or kanji numbers)."""
        name, form, _ = AREAS[self.area]
        b = (" " + self.building.replace("　", " ")) if self.building else ""
        choice = rng.randrange(4)
        if form == "jukyo":
            if choice == 0:
                return f"{name}{self.chome}-{self.ban}-{self.go}{b}"
            if choice == 1:
                return TOWN + to_fullwidth_digits(f"{name}{self.chome}-{self.ban}-{self.go}") + b
            if choice == 2:
                return f"{TOWN}{name}{self.chome}丁目{self.ban}-{self.go}{b}"
            return f"{PREFIX}{TOWN}{name}{kanji_number(self.chome)}丁目{kanji_number(self.ban % 100)}番{self.go}号{b}"
        tail = f"-{self.go}" if self.go else ""
        if choice == 0:
            return f"{name}{self.ban}{tail}{b}"
        if choice == 1:
            return TOWN + to_fullwidth_digits(f"{name}{self.ban}{tail}") + b
        if choice == 2:
            return f"{TOWN}{name}{self.ban}番地{('の' + str(self.go)) if self.go else ''}{b}"
        return f"{TOWN}{name}{self.ban}番{('の' + str(self.go)) if self.go else ''}{b}"


class AddressBook:
    """Hands out distinct addresses; `same` reuses one (世帯分離 at the same address)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[tuple] = set()

    def new(self, apartment_share: float = 0.22) -> Address:
        rng = self.rng
        while True:
            area = rng.choices(range(len(AREAS)), weights=AREA_WEIGHTS)[0]
            _, form, chome_n = AREAS[area]
            building = ""
            if form == "jukyo":
                chome, ban, go = rng.randint(1, chome_n), rng.randint(1, 30), rng.randint(1, 25)
            else:
                chome, ban = 0, rng.randint(1, 3999)
                go = rng.randint(1, 9) if rng.random() < 0.5 else 0
            if rng.random() < apartment_share:
                building = f"{BUILDING_WORDS[(ban + go) % len(BUILDING_WORDS)]}{AREAS[area][0]}　{rng.randint(1, 4)}0{rng.randint(1, 8)}"
            key = (area, chome, ban, go, building)
            if key not in self.used:
                self.used.add(key)
                return Address(area, chome, ban, go, building)


def school_names(scale: float) -> tuple[list[str], list[str]]:
    """Public elementary and junior-high schools, more of them in a bigger town."""
    n_el = max(1, round(3 * scale))
    n_jh = max(1, round(2 * scale))
    el = [
        f"{TOWN}立{ELEMENTARY_BASE[i]}小学校" if i < len(ELEMENTARY_BASE) else f"{TOWN}立第{i + 1}小学校"
        for i in range(n_el)
    ]
    jh = [
        f"{TOWN}立{JUNIOR_BASE[i]}中学校" if i < len(JUNIOR_BASE) else f"{TOWN}立第{i + 1}中学校" for i in range(n_jh)
    ]
    return el, jh


PRIVATE_JUNIOR = "私立ひかり学園中学校"  # outside the town: no attendance or checkup rows

FACILITIES = (  # (name, 施設種別)
    (f"{TOWN}立中央保育所", "保育所"),
    (f"{TOWN}立さくら保育所", "保育所"),
    ("みどり保育園", "保育所"),
    ("わかば幼稚園", "幼稚園"),
    ("ひまわり幼稚園", "幼稚園"),
    ("認定こども園あおぞら", "認定こども園"),
    ("認定こども園ほしのこ", "認定こども園"),
    ("小規模保育ぽっけ", "地域型保育"),
)
