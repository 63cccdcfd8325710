"""Japanese names from the japanese-personal-name-dataset package (PyPI), never a hand-typed list.

Surnames: the package's ``last_name_org.csv`` carries an estimated population per surname; we draw
surnames with probability proportional to it, so frequencies are realistic (佐藤, 鈴木, 高橋 …
most common; the registry also holds variant spellings such as 齋藤, 渡邊 as the dataset lists them).
Given names: the package's curated ``opti`` lists (popular names) map a hiragana reading to the
kanji spellings that are read that way. The dataset has no given-name frequencies, so a reading is
drawn uniformly and a spelling uniformly among its (cp932-encodable, ≤ 3 characters) kanji. Kana are
the dataset readings converted to katakana, so kanji and kana always agree. Women born before 1965
prefer readings ending in こ (…子), as in the real age structure of names.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from functools import lru_cache

import jaconv
from japanese_personal_name_dataset import load_dataset


def _cp932(text: str) -> bool:
    try:
        text.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class NamePool:
    surnames: tuple[tuple[str, str], ...]  # (kanji, katakana)
    surname_cum: tuple[int, ...]
    given: dict  # sex -> tuple[(reading_katakana, tuple[kanji...])]
    given_old_female: tuple

    def surname(self, rng: random.Random) -> tuple[str, str]:
        x = rng.random() * self.surname_cum[-1]
        return self.surnames[bisect.bisect_right(self.surname_cum, x)]

    def given_name(self, rng: random.Random, sex: int, birth_year: int = 2000) -> tuple[str, str]:
        pool = self.given[sex]
        if sex == 2 and birth_year < 1965 and rng.random() < 0.6:
            pool = self.given_old_female
        kana, spellings = pool[rng.randrange(len(pool))]
        return spellings[rng.randrange(len(spellings))], kana

    def similar_given_name(self, rng: random.Random, sex: int, like: str) -> tuple[str, str] | None:
        """A given name sharing its first kanji with `like` (siblings with similar names)."""
        pool = self.given[sex]
        for _ in range(40):
            kana, spellings = pool[rng.randrange(len(pool))]
            hits = [s for s in spellings if s[0] == like[0] and s != like]
            if hits:
                return hits[rng.randrange(len(hits))], kana
        return None


@lru_cache(maxsize=1)
def name_pool() -> NamePool:
    man, woman, last = load_dataset("opti", include_last_names=True)
    surnames = []
    weights = []
    for kanji, entry in last.items():
        if entry["count"] > 0 and _cp932(kanji) and entry["reading"]:
            surnames.append((kanji, jaconv.hira2kata(entry["reading"])))
            weights.append(entry["count"])
    given = {}
    for sex, table in ((1, man), (2, woman)):
        rows = []
        for reading, entry in table.items():
            spellings = tuple(k for k in entry["kanji"] if 1 <= len(k) <= 3 and _cp932(k))
            if spellings and reading:
                rows.append((jaconv.hira2kata(reading), spellings))
        given[sex] = tuple(rows)
    old_female = tuple(
        (kana, tuple(s for s in sp if s.endswith("子")) or sp) for kana, sp in given[2] if kana.endswith("コ")
    )
    return NamePool(
        surnames=tuple(surnames),
        surname_cum=tuple(itertools.accumulate(weights)),
        given=given,
        given_old_female=old_female,
    )
