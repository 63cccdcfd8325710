"""The made-up (架空) months and personal values of the quality-gate tests (imported as ``quality_data``).

Kept apart from conftest.py: a test module importing ``conftest`` by name gets whichever
directory's conftest Python found first.
"""

from __future__ import annotations

import datetime as dt

PREV, CLEAN, BAD = "1999-01", "1999-02", "1999-03"
#: A month whose gakko rows include children out of the 0–18 range (notices, test_gate_notices.py)
AGES = "1999-04"
MONTHS = (PREV, CLEAN, BAD, AGES)
#: The attempt (mimamori.attempts) that "loaded" every fixture month.
ATTEMPT = "manual__qa_quality"
ROWS = 10
SCHEMA = "qa_quality"
HISTORY_SCHEMA = "qa_quality_history"
#: The gates resolve thresholds.yml's relations through dbt's manifest (mimamori.gate_relations);
#: the fixture tables stand in for the schemas the manifest names.
GATE_SCHEMAS = {"marts": SCHEMA, "intermediate": SCHEMA, "history": HISTORY_SCHEMA}

NAMES = ["鵜飼　澪", "勅使河原　蓮", "五百旗頭　葵", "薬師寺　凛", "御手洗　楓"]
KANA = ["ウカイ　ミオ", "テシガワラ　レン", "イオキベ　アオイ", "ヤクシジ　リン", "ミタライ　カエデ"]
ADDRESSES = [
    "開成町架空野7丁目3番9号",
    "開成町試験台2-14-5",
    "開成町見守坂11番地の4",
    "開成町仮町8-8",
    "開成町虚空1丁目1-1",
]
BIRTHS = [dt.date(1991, 3, 14), dt.date(1993, 7, 22), dt.date(1995, 11, 8), dt.date(1997, 5, 27), dt.date(1992, 9, 3)]


def personal_strings() -> list[str]:
    out = []
    for value in NAMES + KANA:
        out += [value, value.replace("　", ""), value.replace("　", " ")]
    out += ADDRESSES
    for d in BIRTHS:
        out += [d.isoformat(), d.strftime("%Y/%m/%d"), f"{d.year}/{d.month}/{d.day}", d.strftime("%Y%m%d")]
    return out


PERSONAL = personal_strings()
