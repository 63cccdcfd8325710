"""Generate an independent synthetic town: contract inbox, latent truth, optional vendor exports.

    python tools/independent_town/generate.py --seed S --residents N --months 12 \
        --first-month 2026-01 --out DIR [--prevalence-scale X] [--vendor-layout [a|b|c]]

Writes DIR/inbox/<YYYY-MM>/<source>/<file> (the input contract's layout), DIR/truth/<YYYY-MM>/
children.csv, DIR/latent_map.csv and, with --vendor-layout, the same months as one family of the
departments' own systems exports them: DIR/vendor/<YYYY-MM>/<source>/, DIR/vendor/README.txt and
DIR/vendor/docs/ (per department a file list, a layout document and code tables). Layout a
(vendor.py, the default; its documents in vendor_a_docs.py) is documented in README.md; layouts b (vendor_b.py) and c
(vendor_c.py) are left undocumented on purpose: a person maps it blind (issue #21).
Standalone: the standard library, numpy/pandas/openpyxl only; nothing from the project.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import unicodedata
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from model import (  # noqa: E402
    CHECKUPS,
    VACCINES,
    Town,
    add_months,
    age_on,
    cohort,
    month_end,
    months_old,
    school_year,
)
from names import AREAS, JUNIOR_HIGH, KANJI_DIGITS, SURNAMES, VARIANTS  # noqa: E402

PRIVATE_JH = "私立みさき学園中学校"
#: school days per month of the school year (April first), the town's calendar
SCHOOL_DAYS = [17, 19, 21, 14, 2, 19, 20, 19, 15, 17, 19, 15]

#: the contract's files: (source, file, encoding, [(header, column)]) — as extracts.csv lists them
CONTRACT = {
    ("jumin", "住民.csv"): (
        "cp932",
        [
            ("宛名番号", "atena_no"),
            ("世帯番号", "setai_no"),
            ("氏名", "name"),
            ("カナ氏名", "name_kana"),
            ("生年月日", "birth_date"),
            ("性別", "sex"),
            ("続柄", "relationship"),
            ("住所", "address"),
            ("転入日", "moved_in_on"),
            ("住民となった日", "resident_since"),
            ("支援措置", "has_dv_protection"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("kodomo_shien", "要対協.csv"): (
        "cp932",
        [
            ("宛名番号", "atena_no"),
            ("区分", "category"),
            ("登録日", "registered_on"),
            ("終結日", "closed_on"),
            ("一時保護歴", "had_temporary_custody"),
            ("一時保護日", "temporary_custody_on"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("kodomo_shien", "児童扶養手当.csv"): (
        "cp932",
        [
            ("受給者宛名番号", "recipient_atena_no"),
            ("世帯番号", "setai_no"),
            ("認定日", "certified_on"),
            ("喪失日", "ended_on"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("kodomo_shien", "ひとり親医療.csv"): (
        "cp932",
        [
            ("宛名番号", "atena_no"),
            ("資格取得日", "valid_from"),
            ("資格喪失日", "valid_to"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("kodomo_shien", "保育所入所.csv"): (
        "cp932",
        [
            ("宛名番号", "atena_no"),
            ("施設名", "facility"),
            ("施設種別", "facility_type"),
            ("入所日", "enrolled_on"),
            ("退所日", "left_on"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("kodomo_shien", "児童相談記録.csv"): (
        "cp932",
        [
            ("相談番号", "consultation_no"),
            ("宛名番号", "atena_no"),
            ("世帯番号", "setai_no"),
            ("相談日", "consulted_on"),
            ("相談分類", "category"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("kodomo_katei", "乳幼児健診.csv"): (
        "cp932",
        [
            ("宛名番号", "atena_no"),
            ("健診区分", "checkup"),
            ("対象月", "due_month"),
            ("受診日", "attended_on"),
            ("アンケート要注意", "has_questionnaire_concern"),
            ("むし歯本数", "caries_count"),
            ("母の喫煙", "mother_smokes"),
            ("事後フォロー", "has_follow_up"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("kodomo_katei", "妊産婦.csv"): (
        "utf-8-sig",
        [
            ("母宛名番号", "mother_atena_no"),
            ("子宛名番号", "child_atena_no"),
            ("妊娠届出週数", "notification_week"),
            ("EPDS点数", "epds_score"),
            ("乳児家庭全戸訪問", "home_visit"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("kodomo_katei", "予防接種.csv"): (
        "cp932",
        [
            ("宛名番号", "atena_no"),
            ("ワクチン", "vaccine"),
            ("接種期限", "due_on"),
            ("接種日", "given_on"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("fukushi", "障害者手帳.csv"): (
        "cp932",
        [
            ("宛名番号", "atena_no"),
            ("手帳種別", "certificate_type"),
            ("等級", "grade"),
            ("発達障害", "has_developmental_disability"),
            ("交付日", "issued_on"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("fukushi", "障害児受給者証.csv"): (
        "cp932",
        [
            ("受給者証番号", "certificate_no"),
            ("宛名番号", "atena_no"),
            ("交付日", "issued_on"),
            ("有効期限", "valid_to"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("fukushi", "要介護認定.csv"): (
        "cp932",
        [
            ("宛名番号", "atena_no"),
            ("要介護度", "care_level"),
            ("認定日", "certified_on"),
            ("有効期限", "valid_to"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("fukushi", "生活保護.csv"): (
        "cp932",
        [
            ("ケース番号", "case_no"),
            ("宛名番号", "atena_no"),
            ("開始日", "started_on"),
            ("廃止日", "ended_on"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("fukushi", "障がい者医療.csv"): (
        "cp932",
        [
            ("宛名番号", "atena_no"),
            ("資格取得日", "valid_from"),
            ("資格喪失日", "valid_to"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("fukushi", "相談記録.csv"): (
        "cp932",
        [
            ("相談番号", "consultation_no"),
            ("宛名番号", "atena_no"),
            ("世帯番号", "setai_no"),
            ("相談日", "consulted_on"),
            ("相談分野", "field"),
            ("相談種別", "kind"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("gakko", "学齢簿.csv"): (
        "cp932",
        [
            ("児童生徒番号", "student_no"),
            ("宛名番号", "atena_no"),
            ("氏名", "name"),
            ("カナ氏名", "name_kana"),
            ("生年月日", "birth_date"),
            ("性別", "sex"),
            ("住所", "address"),
            ("学校", "school"),
            ("学年", "grade"),
            ("特別支援学級", "in_special_needs_class"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("gakko", "出欠.xlsx"): (
        "xlsx",
        [
            ("学校", "school"),
            ("学年", "grade"),
            ("組", "class"),
            ("児童生徒番号", "student_no"),
            ("氏名", "name"),
            ("生年月日", "birth_date"),
            ("欠席日数", "absence_days_ytd"),
            ("前年度欠席日数", "absence_days_last_year"),
            ("遅刻早退回数", "late_or_early_ytd"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("gakko", "学校健診.csv"): (
        "cp932",
        [
            ("氏名", "name"),
            ("生年月日", "birth_date"),
            ("学校", "school"),
            ("健診日", "examined_on"),
            ("精密検査要", "needs_referral"),
            ("むし歯本数", "caries_count"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("gakko", "就学援助.csv"): (
        "cp932",
        [
            ("児童生徒番号", "student_no"),
            ("氏名", "name"),
            ("生年月日", "birth_date"),
            ("認定年度", "fiscal_year"),
            ("抽出日", "extracted_on"),
        ],
    ),
    ("gakko", "給食費.csv"): (
        "cp932",
        [
            ("児童生徒番号", "student_no"),
            ("氏名", "name"),
            ("生年月日", "birth_date"),
            ("学校", "school"),
            ("滞納月数", "months_in_arrears"),
            ("抽出日", "extracted_on"),
        ],
    ),
}

#: how each department's system writes dates in the contract files (all forms the contract allows)
DATE_STYLE = {"jumin": "iso", "kodomo_shien": "slash", "kodomo_katei": "iso", "fukushi": "compact", "gakko": "slash"}

#: the latent columns of truth/<month>/children.csv and the type each one stands for
LATENTS = [
    ("carer_role", "young_carer", "家族のケアを日常的に担っている"),
    ("hh_hardship", "poverty", "世帯の経済的困窮"),
    ("maltreatment", "abuse", "虐待・ネグレクトを受けている"),
    ("school_avoidance", "withdrawal", "登校できない状態が続いている"),
    ("perinatal_mood", "postpartum_depression", "母親の周産期うつ（この子の出産）"),
    ("neurodiv", "developmental_disability", "神経発達症"),
]
#: truth columns that no type stands for (context for analysis)
EXTRA_LATENTS = ["dv_at_home", "caregiver_mental_illness", "someone_needs_care", "single_parent"]


# ---- formatting -----------------------------------------------------------------------------------
def fmt_date(d, style: str) -> str:
    if d is None:
        return ""
    if style == "iso":
        return d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "compact":
        return d.strftime("%Y%m%d")
    raise ValueError(style)


def fmt(v, col_type_hint: str, style: str) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "有" if v else "無"
    if isinstance(v, date):
        if col_type_hint == "due_month":
            return f"{v.year:04d}-{v.month:02d}"
        return fmt_date(v, style)
    return str(v)


def write_csv(path: Path, encoding: str, header: list[str], rows: list[list[str]]):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))


def write_xlsx(path: Path, header: list[str], rows: list[list]):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "出欠"
    ws.append(header)
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if isinstance(c.value, date):
                c.number_format = "yyyy/m/d"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


# ---- the month's records, as the departments hold them ---------------------------------------------
class Month:
    def __init__(self, town: Town, m: date):
        self.t = town
        self.m = m
        self.end = month_end(m)
        self.sy = school_year(self.end)

    def extracted(self, source: str) -> date:
        return self.end + timedelta(days=1 + int(self.t.u("extract", source, self.m) * 9))

    def on_file(self, pid: str) -> bool:
        """Departments' systems follow the registry's move-outs (住基連携): residents of the month only.

        (A lag of a month or two after a move-out is realistic too, but in a small register one
        household that left is already more than the identity gate's 5 % unmatched.)"""
        p = self.t.people.get(pid)
        return p is not None and self.resident(p)

    def resident(self, p) -> bool:
        return p.since <= self.end and (p.resident or (p.left_on and p.left_on > self.end))

    def name(self, p, variant=False):
        s, _ = SURNAMES[p.surname]
        if variant and s in VARIANTS:
            s = VARIANTS[s]
        return f"{s}　{p.given[0]}"

    def kana(self, p, half=False):
        k = f"{SURNAMES[p.surname][1]}　{p.given[1]}"
        if half:
            k = unicodedata.normalize("NFKC", k)  # NFKC leaves kana full-width; build half-width by table
            k = to_halfwidth_kana(k)
        return k

    def people(self):
        return [p for p in self.t.people.values() if self.resident(p)]

    # jumin -------------------------------------------------------------------------------------
    def jumin(self):
        ex = self.extracted("jumin")
        rows = []
        for p in self.people():
            h = self.t.hh[p.hid]
            rows.append(
                dict(
                    atena_no=p.pid,
                    setai_no=p.hid,
                    name=self.name(p),
                    name_kana=self.kana(p),
                    birth_date=p.birth,
                    sex=str(p.sex),
                    relationship=p.rel,
                    address=h.address,
                    moved_in_on=p.moved_in,
                    resident_since=p.since,
                    has_dv_protection=bool(h.dv_protected),
                    extracted_on=ex,
                )
            )
        return rows

    # kodomo_shien ----------------------------------------------------------------------------------
    def kodomo_shien(self):
        t, end, ex = self.t, self.end, self.extracted("kodomo_shien")
        out = {}
        rows = []
        for r in t.yotaikyo:
            if r["registered_on"] > end or not self.on_file(r["pid"]):
                continue
            c_on = r["custody_on"] if r["custody_on"] and r["custody_on"] <= end else None
            had = r["custody"] and (r["custody_on"] is None or r["custody_on"] <= end)
            closed = r["closed_on"] if r["closed_on"] and r["closed_on"] <= end else None
            rows.append(
                dict(
                    atena_no=r["pid"],
                    category=r["category"],
                    registered_on=r["registered_on"],
                    closed_on=closed,
                    had_temporary_custody=bool(had),
                    temporary_custody_on=c_on,
                    extracted_on=ex,
                )
            )
        out["要対協.csv"] = rows
        rows = []
        for r in t.allowance:
            if r["certified_on"] > end or not self.on_file(r["pid"]):
                continue
            ended = r["ended_on"] if r["ended_on"] and r["ended_on"] <= end + timedelta(days=31) else None
            if ended and ended < end - timedelta(days=730):
                continue
            p = t.people[r["pid"]]
            setai = p.hid if t.u("allow_setai", r["pid"]) < 0.9 else None
            rows.append(
                dict(
                    recipient_atena_no=r["pid"],
                    setai_no=setai,
                    certified_on=r["certified_on"],
                    ended_on=ended,
                    extracted_on=ex,
                )
            )
        out["児童扶養手当.csv"] = dedupe(rows, ["recipient_atena_no", "certified_on"])
        rows = []
        for r in t.sp_medical:
            if r["valid_from"] > end or not self.on_file(r["pid"]):
                continue
            vt = r["valid_to"] if r["valid_to"] and r["valid_to"] <= end + timedelta(days=31) else None
            if vt and vt < end - timedelta(days=365):
                continue
            rows.append(dict(atena_no=r["pid"], valid_from=r["valid_from"], valid_to=vt, extracted_on=ex))
        out["ひとり親医療.csv"] = dedupe(rows, ["atena_no", "valid_from"])
        rows = []
        for r in t.childcare:
            if r["enrolled_on"] > end or not self.on_file(r["pid"]):
                continue
            if r["left_on"] and r["left_on"] < end - timedelta(days=365):
                continue
            p = t.people[r["pid"]]
            left = r["left_on"] if r["left_on"] else (p.left_on if not p.resident else None)
            rows.append(
                dict(
                    atena_no=r["pid"],
                    facility=r["facility"],
                    facility_type=r["type"],
                    enrolled_on=r["enrolled_on"],
                    left_on=left,
                    extracted_on=ex,
                )
            )
        out["保育所入所.csv"] = dedupe(rows, ["atena_no", "enrolled_on"])
        out["児童相談記録.csv"] = self.consultations(t.k_consult, ex, lambda r: dict(category=r["category"]))
        return out

    def consultations(self, store, ex, extra):
        rows = []
        for r in store:
            if r["on"] > self.end or r["on"] < self.end - timedelta(days=365 * 5):
                continue
            h = self.t.hh[r["hid"]]
            members = [m for m in h.members if self.resident(self.t.people[m])]
            if not members and not (r["pid"] and self.on_file(r["pid"])):
                continue
            if r["pid"] and not self.on_file(r["pid"]):
                continue
            setai = r["hid"] if (r["pid"] is None or self.t.u("c_setai", r["no"]) < 0.7) else None
            rows.append(
                dict(
                    consultation_no=r["no"],
                    atena_no=r["pid"],
                    setai_no=setai,
                    consulted_on=r["on"],
                    **extra(r),
                    extracted_on=ex,
                )
            )
        return rows

    # kodomo_katei ----------------------------------------------------------------------------------
    def kodomo_katei(self):
        t, end, ex = self.t, self.end, self.extracted("kodomo_katei")
        out = {}
        rows = []
        for p in self.people():
            mo = months_old(p.birth, end)
            if mo >= 72:
                continue
            h = t.hh[p.hid]
            mt = t.maltreated(p, end)
            mom = t.people.get(p.mother) if p.mother else None
            for name, at in CHECKUPS:
                due = add_months(date(p.birth.year, p.birth.month, 1), at)
                if due > self.m or month_end(due) < p.since:
                    continue
                key = (p.pid, name)
                attend = t.u("att", *key) < 0.95 - 0.3 * mt - 0.08 * h.hardship - 0.05 * h.dv
                att_on = due + timedelta(days=int(55 * t.u("attday", *key))) if attend else None
                if att_on and att_on > end:
                    att_on = None
                row = dict(
                    atena_no=p.pid,
                    checkup=name,
                    due_month=due,
                    attended_on=att_on,
                    has_questionnaire_concern=None,
                    caries_count=None,
                    mother_smokes=None,
                    has_follow_up=False,
                    extracted_on=ex,
                )
                if att_on:
                    pc = 0.04 + (0.1 if at == 4 else 0.35) * t.neuro(p) + 0.3 * mt + (0.3 * t.pnd(p) if at == 4 else 0)
                    concern = t.u("concern", *key) < pc
                    lam = {4: 0.0, 18: 0.1 + 0.5 * h.hardship + 1.0 * mt, 36: 0.3 + 1.5 * h.hardship + 2.5 * mt}[at]
                    smokes = (
                        bool(mom)
                        and t.u("smoke", mom.pid if mom else p.pid)
                        < 0.05 + 0.1 * h.hardship + 0.06 * bool(h.parent_mi) + 0.05 * h.dv
                    )
                    row.update(
                        has_questionnaire_concern=concern,
                        caries_count=t.poisson(lam, "caries", *key),
                        mother_smokes=smokes,
                        has_follow_up=(concern and t.u("fu", *key) < 0.6) or t.u("fu2", *key) < 0.04,
                    )
                else:
                    row["has_follow_up"] = due < add_months(self.m, -1) and t.u("fu3", *key) < 0.5
                rows.append(row)
        out["乳幼児健診.csv"] = rows
        rows = []
        for p in self.people():
            r = t.maternity.get(p.pid)
            if not r or r["shown_from"] > end or months_old(p.birth, end) >= 48:
                continue
            rows.append(
                dict(
                    mother_atena_no=r["mother"],
                    child_atena_no=p.pid,
                    notification_week=r["week"],
                    epds_score=r["epds"],
                    home_visit=r["visit"],
                    extracted_on=ex,
                )
            )
        out["妊産婦.csv"] = rows
        rows = []
        for p in self.people():
            mo = months_old(p.birth, end)
            if mo >= 96 or mo < 2:
                continue
            if p.moved_in and (end - p.moved_in).days < 60:
                continue  # the record from the former town arrives a couple of months later
            h = t.hh[p.hid]
            mt = t.maltreated(p, end)
            refuses = t.u("novax", p.hid) < 0.012
            for vac, start, due_age in VACCINES:
                if mo < start:
                    continue
                due_on = add_months(p.birth, due_age) - timedelta(days=1)
                given = None
                if not refuses and t.u("vx", p.pid, vac) < 0.975 - 0.35 * mt - 0.05 * h.hardship:
                    span = max(20, (add_months(p.birth, due_age) - add_months(p.birth, start)).days * 0.6)
                    given = add_months(p.birth, start) + timedelta(days=int(span * t.u("vxday", p.pid, vac) ** 2))
                    if given > end:
                        given = None
                rows.append(dict(atena_no=p.pid, vaccine=vac, due_on=due_on, given_on=given, extracted_on=ex))
        out["予防接種.csv"] = rows
        return out

    # fukushi -----------------------------------------------------------------------------------------
    def fukushi(self):
        t, end, ex = self.t, self.end, self.extracted("fukushi")
        out = {}
        rows = []
        for pid, lst in t.techo.items():
            if not self.on_file(pid):
                continue
            for typ, grade, dd, issued in lst:
                if issued <= end:
                    rows.append(
                        dict(
                            atena_no=pid,
                            certificate_type=typ,
                            grade=grade,
                            has_developmental_disability=dd,
                            issued_on=issued,
                            extracted_on=ex,
                        )
                    )
        out["障害者手帳.csv"] = rows
        rows = []
        for pid, c in t.service_cert.items():
            if not self.on_file(pid):
                continue
            p = t.people[pid]
            issued, k = c["issued"], 0
            while (
                add_months(c["issued"], 12 * (k + 1)) <= end
                and age_on(p.birth, add_months(c["issued"], 12 * (k + 1))) < c["stop_age"]
            ):
                k += 1
            issued = add_months(c["issued"], 12 * k)
            if issued > end:
                continue
            rows.append(
                dict(
                    certificate_no=c["no"],
                    atena_no=pid,
                    issued_on=issued,
                    valid_to=add_months(issued, 12) - timedelta(days=1),
                    extracted_on=ex,
                )
            )
        out["障害児受給者証.csv"] = dedupe(rows, ["certificate_no"])
        rows = []
        for pid, c in t.care_cert.items():
            if not self.on_file(pid) or c["certified"] > end:
                continue
            k = 0
            while add_months(c["certified"], 12 * (k + 1)) <= end:
                k += 1
            cert = add_months(c["certified"], 12 * k)
            rows.append(
                dict(
                    atena_no=pid,
                    care_level=c["level"],
                    certified_on=cert,
                    valid_to=add_months(cert, 12) - timedelta(days=1),
                    extracted_on=ex,
                )
            )
        out["要介護認定.csv"] = rows
        rows = []
        for c in t.assistance:
            if c["started_on"] > end:
                continue
            ended = c["ended_on"] if c["ended_on"] and c["ended_on"] <= end + timedelta(days=20) else None
            if ended and ended < end - timedelta(days=365):
                continue
            for pid in c["members"]:
                if self.on_file(pid):
                    rows.append(
                        dict(
                            case_no=c["case_no"],
                            atena_no=pid,
                            started_on=c["started_on"],
                            ended_on=ended,
                            extracted_on=ex,
                        )
                    )
        out["生活保護.csv"] = rows
        rows = []
        for pid, r in t.dis_medical.items():
            if self.on_file(pid) and r["valid_from"] <= end:
                rows.append(dict(atena_no=pid, valid_from=r["valid_from"], valid_to=r["valid_to"], extracted_on=ex))
        out["障がい者医療.csv"] = rows
        out["相談記録.csv"] = self.consultations(t.f_consult, ex, lambda r: dict(field=r["field"], kind=r["kind"]))
        return out

    # gakko -------------------------------------------------------------------------------------------
    def pupils(self):
        """(person, grade 1–9) of the compulsory-school children living in town."""
        out = []
        for p in self.people():
            g = self.sy - cohort(p.birth) - 6
            if 1 <= g <= 9:
                out.append((p, g))
        return out

    def school_of(self, p, g):
        if g >= 7:
            return PRIVATE_JH if self.t.u("private", p.pid) < 0.03 else JUNIOR_HIGH
        return AREAS[self.t.hh[p.hid].area]

    def absences(self, p, sy: int, days: int) -> int:
        t = self.t
        d = date(sy + 1, 3, 31) if days >= sum(SCHOOL_DAYS) else self.end
        h = t.hh[p.hid]
        if t.avoiding(p, d):
            rate = 0.3 + 0.5 * t.u("av_rate", p.pid, sy)
        else:
            rate = (
                0.005
                + 0.035 * t.u("abs_rate", p.pid, sy)
                + 0.02 * t.neuro(p)
                + 0.04 * t.maltreated(p, d)
                + 0.01 * h.hardship
            )
            rate += 0.03 * t.carer(p, d)
            if t.u("sickly", p.pid) < 0.012:
                rate += 0.15
        return int(round(days * rate))

    def aid(self, p, fy: int) -> bool:
        """就学援助 for a fiscal year, decided once (on the household's circumstances then)."""
        key = (p.pid, fy)
        if key not in self.t.aid_decisions:
            h, t = self.t.hh[p.hid], self.t
            self.t.aid_decisions[key] = (h.hardship and t.u("aid", p.hid, fy) < 0.75) or t.u("aid2", p.hid, fy) < 0.035
        return self.t.aid_decisions[key]

    def gakko(self):
        t, end, ex = self.t, self.end, self.extracted("gakko")
        mi = (self.end.month - 4) % 12
        days_ytd = sum(SCHOOL_DAYS[: mi + 1])
        out = {k: [] for k in ["学齢簿.csv", "出欠.xlsx", "学校健診.csv", "就学援助.csv", "給食費.csv"]}
        for p, g in sorted(self.pupils(), key=lambda x: x[0].pid):
            h = t.hh[p.hid]
            level = "E" if g <= 6 else "J"
            sno = t.student_no(p, level)
            school = self.school_of(p, g)
            shown_grade = g if g <= 6 else g - 6
            variant = t.u("kanji_variant", p.pid) < 0.35  # the school's system keeps the older character
            half = t.u("half_kana", p.pid) < 0.03
            addr = h.address
            if t.u("addr_style", p.pid) < 0.3:
                addr = kanji_numerals(addr.replace(PREFIX_SHORT, ""))
            special = (
                (t.neuro(p) and t.u("special", p.pid) < 0.45)
                or (t.severe_child_disability(p) and t.u("special2", p.pid) < 0.8)
                or t.u("special3", p.pid) < 0.003
            )
            out["学齢簿.csv"].append(
                dict(
                    student_no=sno,
                    atena_no=None if t.u("no_atena", p.pid) < 0.04 else p.pid,
                    name=self.name(p, variant),
                    name_kana=self.kana(p, half),
                    birth_date=p.birth,
                    sex=str(p.sex),
                    address=addr,
                    school=school,
                    grade=shown_grade,
                    in_special_needs_class=special,
                    extracted_on=ex,
                )
            )
            aid = self.aid(p, self.sy)
            # the system keeps this and last fiscal year's certifications (key: student number + year)
            for fy in (self.sy - 1, self.sy):
                if self.aid(p, fy) and (fy == self.sy or g > 1):
                    out["就学援助.csv"].append(
                        dict(
                            student_no=sno,
                            name=self.name(p, variant),
                            birth_date=p.birth,
                            fiscal_year=fy,
                            extracted_on=ex,
                        )
                    )
            if school == PRIVATE_JH:
                continue
            # attendance (this school year so far; last year's when the pupil was here)
            here_last_year = p.since <= date(self.sy - 1, 4, 1) and g >= 2
            late_rate = 3 + 25 * t.avoiding(p, end) + 12 * t.maltreated(p, end) + 15 * t.carer(p, end) + 6 * t.neuro(p)
            out["出欠.xlsx"].append(
                dict(
                    school=school,
                    grade=shown_grade,
                    **{"class": str(1 + int(t.u("kumi", p.pid, self.sy) * (3 if g >= 7 else 2)))},
                    student_no=sno if t.u("att_sno", p.pid) < 0.85 else None,
                    name=self.name(p, variant),
                    birth_date=p.birth,
                    absence_days_ytd=self.absences(p, self.sy, days_ytd),
                    absence_days_last_year=self.absences(p, self.sy - 1, sum(SCHOOL_DAYS)) if here_last_year else None,
                    late_or_early_ytd=t.poisson(late_rate * days_ytd / sum(SCHOOL_DAYS), "late", p.pid, self.sy, mi),
                    extracted_on=ex,
                )
            )
            # the latest school health check (April–June)
            for sy in (self.sy, self.sy - 1):
                exam = date(sy, 4, 12) + timedelta(days=int(75 * t.u("exam", p.pid, sy)))
                if exam > end or exam < p.since or sy - cohort(p.birth) - 6 < 1:
                    continue
                eg = sy - cohort(p.birth) - 6
                mt = t.maltreated(p, exam)
                out["学校健診.csv"].append(
                    dict(
                        name=self.name(p, variant),
                        birth_date=p.birth,
                        school=self.school_of(p, eg),
                        examined_on=exam,
                        needs_referral=t.u("refer", p.pid, sy) < 0.04 + 0.2 * t.neuro(p) + 0.1 * mt,
                        caries_count=t.poisson(0.4 + 1.2 * h.hardship + 2.2 * mt, "scaries", p.pid, sy),
                        extracted_on=ex,
                    )
                )
                break

            def owes(sy, aid_then, h=h, p=p):
                return (
                    (h.hardship and not aid_then and t.u("owe", p.hid, sy) < 0.45)
                    or (t.maltreated(p, end) and t.u("owe2", p.hid, sy) < 0.25)
                    or t.u("owe3", p.hid, sy) < 0.012
                )

            aid_last = self.aid(p, self.sy - 1)
            # arrears build up during the school year; last year's stay listed until paid (within nine months)
            this_year = owes(self.sy, aid) and mi >= int(t.u("owe_start", p.hid, self.sy) * 9)
            carried = owes(self.sy - 1, aid_last) and g > 1 and mi <= int(t.u("carry_len", p.hid, self.sy) * 9)
            if this_year or carried:
                out["給食費.csv"].append(
                    dict(
                        student_no=sno,
                        name=self.name(p, variant),
                        birth_date=p.birth,
                        school=school,
                        months_in_arrears=(1 + min(mi, int(t.u("owe_m", p.hid, self.sy, mi) * 6)))
                        + (2 + int(t.u("owe_c", p.hid, self.sy) * 5) if carried else 0),
                        extracted_on=ex,
                    )
                )
        return out

    def truth(self):
        t, end = self.t, self.end
        rows = []
        for p in self.people():
            a = age_on(p.birth, end)
            if a > 18:
                continue
            h = t.hh[p.hid]
            rows.append(
                dict(
                    atena_no=p.pid,
                    carer_role=int(t.carer(p, end)),
                    hh_hardship=int(h.hardship),
                    maltreatment=int(t.maltreated(p, end)),
                    school_avoidance=int(t.avoiding(p, end)),
                    perinatal_mood=int(a == 0 and t.pnd(p)),
                    neurodiv=int(t.neuro(p)),
                    dv_at_home=int(h.dv),
                    caregiver_mental_illness=int(bool(h.parent_mi)),
                    someone_needs_care=int(any(t.needs_care(t.people[x], end) for x in h.members if x != p.pid)),
                    single_parent=int(h.single),
                )
            )
        return rows


PREFIX_SHORT = "架空県みさき郡"
HALF = dict(
    zip(
        "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンァィゥェォャュョッー　",
        "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｬｭｮｯｰ ",
        strict=False,
    )
)
VOICED = {
    "ガ": "ｶﾞ",
    "ギ": "ｷﾞ",
    "グ": "ｸﾞ",
    "ゲ": "ｹﾞ",
    "ゴ": "ｺﾞ",
    "ザ": "ｻﾞ",
    "ジ": "ｼﾞ",
    "ズ": "ｽﾞ",
    "ゼ": "ｾﾞ",
    "ゾ": "ｿﾞ",
    "ダ": "ﾀﾞ",
    "ヂ": "ﾁﾞ",
    "ヅ": "ﾂﾞ",
    "デ": "ﾃﾞ",
    "ド": "ﾄﾞ",
    "バ": "ﾊﾞ",
    "ビ": "ﾋﾞ",
    "ブ": "ﾌﾞ",
    "ベ": "ﾍﾞ",
    "ボ": "ﾎﾞ",
    "パ": "ﾊﾟ",
    "ピ": "ﾋﾟ",
    "プ": "ﾌﾟ",
    "ペ": "ﾍﾟ",
    "ポ": "ﾎﾟ",
    "ヴ": "ｳﾞ",
}


def to_halfwidth_kana(s: str) -> str:
    return "".join(VOICED.get(c) or HALF.get(c, c) for c in s)


def kanji_numerals(addr: str) -> str:
    """浜見台2丁目5番3号 → 浜見台二丁目5-3 (how the school board's system writes it)."""
    import re

    m = re.search(r"(\d+)丁目(\d+)番(\d+)号", addr)
    if not m:
        return addr
    c = "".join(KANJI_DIGITS[int(x)] for x in m.group(1)) if int(m.group(1)) < 10 else m.group(1)
    return addr[: m.start()] + f"{c}丁目{m.group(2)}-{m.group(3)}" + addr[m.end() :]


def dedupe(rows, key):
    seen, out = set(), []
    for r in rows:
        k = tuple(r[c] for c in key)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def month_tables(town: Town, m: date) -> dict[tuple[str, str], list[dict]]:
    mm = Month(town, m)
    tables = {("jumin", "住民.csv"): mm.jumin()}
    for source, fn in (
        ("kodomo_shien", mm.kodomo_shien),
        ("kodomo_katei", mm.kodomo_katei),
        ("fukushi", mm.fukushi),
        ("gakko", mm.gakko),
    ):
        for f, rows in fn().items():
            tables[(source, f)] = rows
    return tables


def write_contract(tables, month_dir: Path):
    for (source, file), rows in tables.items():
        enc, cols = CONTRACT[(source, file)]
        style = DATE_STYLE[source]
        path = month_dir / source / file
        header = [h for h, _ in cols]
        if enc == "xlsx":
            write_xlsx(path, header, [[r[c] for _, c in cols] for r in rows])
        else:
            write_csv(path, enc, header, [[fmt(r[c], c, style) for _, c in cols] for r in rows])


def write_truth(rows, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = ["atena_no"] + [c for c, _, _ in LATENTS] + EXTRA_LATENTS
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def write_latent_map(path: Path):
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["type_code", "latent_column", "label_ja"])
        for col, typ, label in LATENTS:
            w.writerow([typ, col, label])


def generate(
    out: Path,
    seed: int,
    residents: int,
    months: int,
    first_month: str,
    prevalence: float = 1.0,
    vendor: str | None = None,
    say=print,
) -> Path:
    first = date.fromisoformat(first_month + "-01")
    town = Town(seed, residents, first, months, prevalence)
    town.populate()
    m = add_months(first, -36)
    out = Path(out)
    summary = []
    if vendor:
        import vendor as vendor_a
        import vendor_b

        delivery = vendor_b.Delivery()
    while m < add_months(first, months):
        town.step(m)
        if m >= first:
            tables = month_tables(town, m)
            label = f"{m.year:04d}-{m.month:02d}"
            write_contract(tables, out / "inbox" / label)
            truth = Month(town, m).truth()
            write_truth(truth, out / "truth" / label / "children.csv")
            if vendor == "a":
                vendor_a.write_month(tables, out / "vendor" / label, m)
            elif vendor == "b":
                vendor_b.write_month(tables, out / "vendor" / label, m, delivery)
            elif vendor == "c":
                import vendor_c

                vendor_c.write_month(tables, out / "vendor" / label, m, delivery)
            counts = {f"{s}/{f}": len(r) for (s, f), r in tables.items()}
            prev = {c: sum(r[c] for r in truth) for c, _, _ in LATENTS}
            summary.append(dict(month=label, children=len(truth), latent=prev, rows=counts))
            say(f"{label}: residents {len(tables[('jumin', '住民.csv')])}, children 0-18 {len(truth)}, latent {prev}")
        m = add_months(m, 1)
    write_latent_map(out / "latent_map.csv")
    if vendor == "a":
        import vendor_a_docs

        vendor_a.write_readme(out / "vendor")
        vendor_b.write_docs(out / "vendor", vendor_a_docs.delivery(), readme=False)
    elif vendor == "b":
        vendor_b.write_docs(out / "vendor", delivery)
    elif vendor == "c":
        import vendor_c

        vendor_c.write_docs(out / "vendor", delivery)
    (out / "independent_town.json").write_text(
        json.dumps(
            dict(
                seed=seed,
                residents=residents,
                months=months,
                first_month=first_month,
                prevalence_scale=prevalence,
                vendor_layout=vendor,
                summary=summary,
            ),
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--residents", type=int, default=18000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--first-month", default="2026-01")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--prevalence-scale", type=float, default=1.0)
    ap.add_argument(
        "--vendor-layout",
        nargs="?",
        const="a",
        choices=["a", "b", "c"],
        help="also write the departments' own exports: a (default), or b or c, two other vendor families",
    )
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    generate(
        a.out,
        a.seed,
        a.residents,
        a.months,
        a.first_month,
        a.prevalence_scale,
        a.vendor_layout,
        say=(lambda _l: None) if a.quiet else print,
    )


if __name__ == "__main__":
    main()
