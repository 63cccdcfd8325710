"""学校教育課: 学齢簿, 出欠.xlsx, 学校健診, 就学援助, 給食費 — pupils of 小1–中3.

Per pupil and school year the generator draws (from a stream keyed by seed, pupil and year, so the
values are stable whatever months are generated) a daily absence and lateness propensity and the
month-by-month counts, the checkup date and findings, school aid and lunch arrears. Counts in
出欠 are 年度累計 since 1 April.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..dates import fiscal_year, school_days_elapsed, school_grade
from ..rand import rng as keyed_rng
from ..town import PRIVATE_JUNIOR, school_names
from . import Row, residents

SOURCE = "gakko"
MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)


def _month_end(fy: int, m: int) -> date:
    y = fy if m >= 4 else fy + 1
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _year(town, p, fy: int) -> dict:
    key = (p.atena, fy)
    cache = town.school_cache
    if key in cache:
        return cache[key]
    r = keyed_rng(town.seed, "school-year", p.atena, fy)
    age = fy - p.birth.year
    refusing = p.refusal_onset is not None and p.refusal_onset <= age + 0.5
    hh = town.households.get(p.setai)
    poverty = bool(hh and hh.poverty)
    base = r.lognormvariate(-4.0, 0.7)  # ≈ 2–8 absent days a year for most pupils
    if r.random() < 0.012:
        base = r.uniform(0.12, 0.3)  # long illness
    if refusing:
        base = max(base, r.uniform(0.18, 0.65))
    if p.abuse:
        base += 0.02
    late = r.lognormvariate(-4.3, 0.8) + (0.06 if refusing else 0) + (0.04 if p.abuse else 0)
    absences, lates, prev_days = [], [], 0
    for m in MONTHS:
        days = school_days_elapsed(_month_end(fy, m))
        n = days - prev_days
        prev_days = days
        absences.append(sum(1 for _ in range(n) if r.random() < min(base, 0.95)))
        lates.append(sum(1 for _ in range(n) if r.random() < min(late, 0.5)))
    p_ref = 0.03 + (0.10 if p.dev else 0) + (0.10 if p.abuse else 0) + (0.25 if p.disability else 0)
    p4 = 0.025 + (0.06 if poverty else 0) + (0.12 if p.abuse else 0)
    caries = r.randint(4, 9) if r.random() < p4 else (r.randint(1, 3) if r.random() < 0.25 else 0)
    hogo = bool(hh) and any(
        f.kind == "hogo" and f.start <= date(fy, 4, 1) and (f.end is None or f.end > date(fy, 4, 1)) for f in hh.facts
    )
    p_aid = 0.9 if hogo else 0.5 if poverty else 0.015
    aid_on = None
    if r.random() < p_aid:
        aid_on = date(fy, 4, 1) if r.random() < 0.75 else date(fy, r.choice((5, 6, 7, 9, 10, 11)), 1)
    p_arrears = 0.012 + (0.07 if poverty else 0) + (0.07 if p.abuse else 0)
    arrears_from = r.randrange(12) if r.random() < p_arrears else None
    out = {
        "abs": absences,
        "late": lates,
        "exam_on": date(fy, 4, 10) + timedelta(days=r.randrange(80)),
        "referral": r.random() < p_ref,
        "caries": caries,
        "aid_on": aid_on,
        "arrears_from": arrears_from,
        "arrears_n": r.randint(1, 6),
    }
    cache[key] = out
    return out


def _month_index(as_of: date) -> int:
    return MONTHS.index(as_of.month)


def build(town, month, as_of):
    fy = fiscal_year(as_of)
    mi = _month_index(as_of)
    elem, junior = school_names(town.scale)
    register, attendance, checkups, aid, lunch = [], [], [], [], []
    class_count: dict[tuple[str, int], int] = {}
    for p, g, hh in _pupils(town, as_of):
        private = g >= 7 and p.private_junior
        if private:
            school = PRIVATE_JUNIOR
        elif g <= 6:
            school = elem[hh.address.area % len(elem)]
        else:
            school = junior[hh.address.area % len(junior)]
        grade = g if g <= 6 else g - 6
        register.append(_register_row(p, hh, school, grade, private))
        if private:
            continue
        y = _year(town, p, fy)
        k = class_count.get((school, grade), 0)
        class_count[(school, grade)] = k + 1
        attendance.append(_attendance_row(town, p, g, y, school, grade, k, fy, mi))
        if y["exam_on"] <= as_of and p.resident_since <= y["exam_on"]:
            checkups.append(
                Row(
                    {
                        "氏名": None,
                        "生年月日": p.birth,
                        "学校": school,
                        "健診日": y["exam_on"],
                        "精密検査要": "有" if y["referral"] else "無",
                        "むし歯本数": y["caries"],
                    },
                    p.atena,
                    p.setai,
                )
            )
        aid.extend(_aid_rows(town, p, g, y, fy, as_of))
        if y["arrears_from"] is not None and y["arrears_from"] <= mi:
            n = min(y["arrears_n"], mi - y["arrears_from"] + 1)
            lunch.append(
                Row(
                    {"児童生徒番号": p.student_no, "氏名": None, "生年月日": p.birth, "学校": school, "滞納月数": n},
                    p.atena,
                    p.setai,
                )
            )
    attendance.sort(key=lambda r: (r.values["学校"], r.values["学年"], r.values["組"], r.values["児童生徒番号"]))
    checkups.sort(key=lambda r: (r.values["学校"], r.values["健診日"], r.atena))
    return {
        "学齢簿.csv": register,
        "出欠.xlsx": attendance,
        "学校健診.csv": checkups,
        "就学援助.csv": aid,
        "給食費.csv": lunch,
    }


def _pupils(town, as_of) -> list:
    """The present pupils of 小1–中3 as (person, grade 1–9, household), by 児童生徒番号; a pupil seen
    for the first time gets the next number (in household order, so numbers follow the town)."""
    pupils = []
    for hh, p in residents(town, as_of):
        g = school_grade(p.birth, as_of)
        if 1 <= g <= 9:
            pupils.append((p, g, hh))
    for p, g, _hh in pupils:
        if p.student_no is None:
            p.student_no = f"{fiscal_year(as_of) - g + 1:04d}{town.next_no('student')}"
    pupils.sort(key=lambda t: t[0].student_no)
    return pupils


def _register_row(p, hh, school: str, grade: int, private: bool) -> Row:
    return Row(
        {
            "児童生徒番号": p.student_no,
            "宛名番号": p.atena,
            "氏名": None,
            "カナ氏名": None,
            "生年月日": p.birth,
            "性別": p.sex,
            "住所": hh.address,
            "学校": school,
            "学年": grade,
            "特別支援学級": "有" if (p.special_class and not private) else "無",
        },
        p.atena,
        p.setai,
    )


def _attendance_row(town, p, g: int, y: dict, school: str, grade: int, k: int, fy: int, mi: int) -> Row:
    """出欠 as 年度累計; k is the pupil's place in its grade (35 to a class)."""
    last = None
    if g >= 2 and p.resident_since <= date(fy - 1, 4, 1):
        last = sum(_year(town, p, fy - 1)["abs"])
    return Row(
        {
            "学校": school,
            "学年": grade,
            "組": str(k // 35 + 1),
            "児童生徒番号": p.student_no,
            "氏名": None,
            "生年月日": p.birth,
            "欠席日数": sum(y["abs"][: mi + 1]),
            "前年度欠席日数": last,
            "遅刻早退回数": sum(y["late"][: mi + 1]),
        },
        p.atena,
        p.setai,
    )


def _aid_rows(town, p, g: int, y: dict, fy: int, as_of) -> list[Row]:
    """就学援助 of last school year (if the pupil was here for it) and this one, once granted."""
    rows = []
    for year_fy in (fy - 1, fy):
        if year_fy < fy and (g < 2 or p.resident_since > date(fy - 1, 4, 1)):
            continue
        ya = y if year_fy == fy else _year(town, p, year_fy)
        if ya["aid_on"] and ya["aid_on"] <= as_of:
            rows.append(
                Row(
                    {"児童生徒番号": p.student_no, "氏名": None, "生年月日": p.birth, "認定年度": year_fy},
                    p.atena,
                    p.setai,
                )
            )
    return rows
