"""Department semantics of domain.md §8 hold in the generated files."""

from __future__ import annotations

from collections import Counter

import openpyxl

from .helpers import read_csv


def _rows(out, month, source, file, enc="cp932"):
    header, rows = read_csv(out / "inbox" / month / source / file, enc)
    return [dict(zip(header, r, strict=False)) for r in rows]


def test_infant_checkups_blank_when_not_attended(town):
    out, summary = town
    rows = _rows(out, summary.months[-1], "kodomo_katei", "乳幼児健診.csv")
    assert {r["健診区分"] for r in rows} == {"4か月", "1歳6か月", "3歳"}
    missed = [r for r in rows if not r["受診日"]]
    assert missed and all(r["アンケート要注意"] == r["むし歯本数"] == r["母の喫煙"] == "" for r in missed)
    assert all(r["事後フォロー"] in ("有", "無") for r in rows)
    assert all(r["対象月"] <= summary.months[-1] for r in rows)


def test_register_grades_and_attendance(town):
    out, summary = town
    month = summary.months[-1]
    reg = _rows(out, month, "gakko", "学齢簿.csv")
    assert {int(r["学年"]) for r in reg} == set(range(1, 7))
    ws = openpyxl.load_workbook(out / "inbox" / month / "gakko" / "出欠.xlsx", read_only=True).worksheets[0]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    absences = [r[6] for r in rows]
    assert all(isinstance(a, int) and a >= 0 for a in absences)
    share30 = sum(1 for a in absences if a >= 30) / len(absences)
    assert 0.01 <= share30 <= 0.08, share30  # October: 年度累計 since April


def test_one_row_per_vaccine_dose_and_maternity(town):
    out, summary = town
    month = summary.months[-1]
    vac = _rows(out, month, "kodomo_katei", "予防接種.csv")
    assert any("MR 1期" == r["ワクチン"] for r in vac) and any(r["ワクチン"].endswith("3回目") for r in vac)
    mat = _rows(out, month, "kodomo_katei", "妊産婦.csv", "utf-8-sig")
    assert mat and all(r["母宛名番号"] and r["子宛名番号"] for r in mat)
    epds = [int(r["EPDS点数"]) for r in mat if r["EPDS点数"]]
    assert 0.05 <= sum(1 for e in epds if e >= 9) / len(epds) <= 0.2


def test_school_aid_fiscal_year_and_public_assistance(town):
    out, summary = town
    month = summary.months[-1]
    aid = _rows(out, month, "gakko", "就学援助.csv")
    assert {r["認定年度"] for r in aid} <= {"2025", "2026"} and any(r["認定年度"] == "2026" for r in aid)
    hogo = _rows(out, month, "fukushi", "生活保護.csv")
    per_case = Counter(r["ケース番号"] for r in hogo)
    assert any(n >= 2 for n in per_case.values()), "one row per assisted household member"
