"""Render clean rows as the departments deliver them: date styles, and identity noise on the school side.

Stated rates (tests measure them; docs/synthetic-town.md lists them):

* 学齢簿: 宛名番号 blank in 13% of rows (≥ 10% whatever the sample), wrong in 1.2% (another resident's, or two digits transposed);
  address written differently in 30%.
* School-side names (学齢簿, 出欠, 学校健診, 就学援助, 給食費): where the name contains a character with
  a variant form (髙/高, 﨑/崎, 邊/邉/辺, 齋/斎, 齊/斉, 德/徳, 濱/浜, 澤/沢), the other form in 60% of
  those rows (≈ 6–7% of all school-side names, as about 11% of names contain such a character); the surname before a divorce for a child whose surname changed (per pupil and file);
  name spacing: full-width space 83%, none 12%, half-width space 5%.
* カナ氏名 (学齢簿): half-width katakana 10%, hiragana 5%; a kana typo in 1%.
* School-side dates (生年月日, 健診日): 20% in another style (era 平成27年4月1日 / H27.4.1, 8-digit,
  full-width digits); birth-date typos (±1 day or day/month swapped) in 2% of 生年月日.
* 児童生徒番号: blank in 3% of 出欠.xlsx rows; wrong in 1% of 出欠, 就学援助 and 給食費 rows.

Decisions are drawn from streams keyed by (seed, file, pupil), so a pupil's noise is the same
every month, as in a real school system that keeps its typo.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import jaconv

from .dates import fmt_date  # noqa: F401  (re-exported for generate)
from .rand import rng as keyed_rng
from .town import Address

VARIANTS = {
    "高": "髙",
    "髙": "高",
    "崎": "﨑",
    "﨑": "崎",
    "辺": "邊",
    "邊": "辺",
    "邉": "辺",
    "斎": "齋",
    "齋": "斎",
    "斉": "齊",
    "齊": "斉",
    "徳": "德",
    "德": "徳",
    "浜": "濱",
    "濱": "浜",
    "沢": "澤",
    "澤": "沢",
}
ALT_RENDER = {"辺": ("邊", "邉")}

# Each department system writes its dates in one style (a fixed property of the file).
FILE_DATE_STYLE = {
    "住民.csv": "ymd8",
    "要対協.csv": "wareki",
    "児童扶養手当.csv": "slash",
    "ひとり親医療.csv": "ymd8",
    "保育所入所.csv": "slash",
    "児童相談記録.csv": "era_dot",
    "乳幼児健診.csv": "iso",
    "妊産婦.csv": "iso",
    "予防接種.csv": "slash",
    "障害者手帳.csv": "wareki",
    "障害児受給者証.csv": "era_slash",
    "要介護認定.csv": "ymd8",
    "生活保護.csv": "wareki",
    "障がい者医療.csv": "ymd8",
    "相談記録.csv": "slash",
    "学齢簿.csv": "slash",
    "出欠.xlsx": "xlsx",
    "学校健診.csv": "slash",
    "就学援助.csv": "slash",
    "給食費.csv": "iso",
}
SCHOOL_FILES = ("学齢簿.csv", "出欠.xlsx", "学校健診.csv", "就学援助.csv", "給食費.csv")

RATE = {
    "no_atena": 0.13,
    "wrong_atena": 0.012,
    "address_variant": 0.30,
    "variant_kanji": 0.6,
    "name_no_space": 0.12,
    "name_halfwidth_space": 0.05,
    "kana_halfwidth": 0.10,
    "kana_hiragana": 0.05,
    "kana_typo": 0.01,
    "date_other_style": 0.20,
    "birth_typo": 0.02,
    "no_student_no": 0.03,
    "wrong_student_no": 0.01,
}
KANA_TYPO = {"ッ": "ツ", "ャ": "ヤ", "ュ": "ユ", "ョ": "ヨ", "ズ": "ヅ", "ジ": "ヂ", "オウ": "オオ", "ー": ""}


def has_variant(text: str) -> bool:
    return any(c in VARIANTS for c in text)


def swap_variant(text: str, r) -> str:
    out = []
    done = False
    for c in text:
        if not done and c in VARIANTS:
            alts = ALT_RENDER.get(c)
            out.append(alts[r.randrange(len(alts))] if alts else VARIANTS[c])
            done = True
        else:
            out.append(c)
    return "".join(out)


def _typo_date(d: date, r) -> date:
    if r.random() < 0.5 and d.day <= 12 and d.day != d.month:
        try:
            return date(d.year, d.day, d.month)
        except ValueError:
            pass
    return d + timedelta(days=r.choice((-1, 1)))


def _transpose(number: str, r) -> str:
    digits = list(number)
    for _ in range(20):
        i = r.randrange(len(digits) - 1)
        if digits[i] != digits[i + 1]:
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
            return "".join(digits)
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def _cell_date(d, style: str):
    if style == "xlsx":
        return datetime(d.year, d.month, d.day) if d is not None else None
    return fmt_date(d, style)


def render(town, file: str, rows: list, contract_types: dict, context: dict) -> list[list]:
    """Cells in contract order without 抽出日; appends noise codes to each row."""
    style = FILE_DATE_STYLE[file]
    school = file in SCHOOL_FILES
    out = []
    for row in rows:
        r = keyed_rng(town.seed, "noise", file, row.atena) if school else None
        p = town.persons.get(row.atena) if row.atena else None
        cells = []
        for header, value in row.values.items():
            typ = contract_types[header]
            if school and p is not None:
                value = _school_value(town, file, header, value, p, r, row, style, context)
                if isinstance(value, _Done):
                    cells.append(value.v)
                    continue
            if value is None:
                cells.append(None if style == "xlsx" else "")
            elif typ in ("date", "date_end"):
                cells.append(_cell_date(value, style))
            elif isinstance(value, Address):
                cells.append(value.registry())
            elif style == "xlsx" and isinstance(value, int):
                cells.append(value)
            else:
                cells.append(str(value))
        out.append(cells)
    return out


class _Done:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v


def _school_value(town, file, header, value, p, r, row, style, context):
    seed = town.seed
    if header == "宛名番号":
        k = keyed_rng(seed, "noise-atena", file, p.atena).random()
        if k < RATE["no_atena"]:
            row.noise.append("no_atena")
            return _Done("")
        if k < RATE["no_atena"] + RATE["wrong_atena"]:
            row.noise.append("wrong_atena")
            rr = keyed_rng(seed, "noise-atena-which", p.atena)
            if rr.random() < 0.5:
                spine = context["atena_list"]
                other = spine[rr.randrange(len(spine))]
                return _Done(other if other != p.atena else _transpose(p.atena, rr))
            return _Done(_transpose(p.atena, rr))
        return _Done(p.atena)
    if header == "氏名":
        rr = keyed_rng(seed, "noise-name", file, p.atena)
        surname = p.surname
        if file in p.school_old_surname and p.former:
            surname = p.former[-1][0]
            row.noise.append("old_surname")
        given = p.given
        if has_variant(surname + given) and rr.random() < RATE["variant_kanji"]:
            if has_variant(surname):
                surname = swap_variant(surname, rr)
            else:
                given = swap_variant(given, rr)
            row.noise.append("variant_kanji")
        k = rr.random()
        if k < RATE["name_no_space"]:
            row.noise.append("name_no_space")
            return _Done(surname + given)
        if k < RATE["name_no_space"] + RATE["name_halfwidth_space"]:
            row.noise.append("name_halfwidth_space")
            return _Done(surname + " " + given)
        return _Done(surname + "　" + given)
    if header == "カナ氏名":
        rr = keyed_rng(seed, "noise-kana", file, p.atena)
        sk = p.surname_kana
        if file in p.school_old_surname and p.former:
            sk = p.former[-1][1]
        kana = sk + "　" + p.given_kana
        if rr.random() < RATE["kana_typo"]:
            for a, b in KANA_TYPO.items():
                if a in kana:
                    kana = kana.replace(a, b, 1)
                    row.noise.append("kana_typo")
                    break
        k = rr.random()
        if k < RATE["kana_halfwidth"]:
            row.noise.append("kana_halfwidth")
            return _Done(jaconv.z2h(kana, kana=True, ascii=False, digit=False).replace("　", " "))
        if k < RATE["kana_halfwidth"] + RATE["kana_hiragana"]:
            row.noise.append("kana_hiragana")
            return _Done(jaconv.kata2hira(kana))
        return _Done(kana)
    if header in ("生年月日", "健診日") and value is not None:
        rr = keyed_rng(seed, "noise-date", file, header, p.atena)
        if header == "生年月日" and rr.random() < RATE["birth_typo"]:
            new = _typo_date(value, rr)
            if new != value:
                value = new
                row.noise.append("birth_typo")
        if rr.random() < RATE["date_other_style"]:
            alt = rr.choice(("wareki", "era_dot", "ymd8", "fullwidth"))
            row.noise.append(
                {"wareki": "date_era", "era_dot": "date_era", "ymd8": "date_ymd8", "fullwidth": "date_fullwidth"}[alt]
            )
            return _Done(fmt_date(value, alt))
        return _Done(_cell_date(value, style))
    if header == "住所" and isinstance(value, Address):
        rr = keyed_rng(seed, "noise-address", p.atena)
        if rr.random() < RATE["address_variant"]:
            row.noise.append("address_variant")
            return _Done(value.school_variant(rr))
        return _Done(value.school_base())
    if header == "児童生徒番号" and file != "学齢簿.csv" and value:
        rr = keyed_rng(seed, "noise-student", file, p.atena)
        k = rr.random()
        if file == "出欠.xlsx" and k < RATE["no_student_no"]:
            row.noise.append("no_student_no")
            return _Done(None)
        if RATE["no_student_no"] <= k < RATE["no_student_no"] + RATE["wrong_student_no"] or (
            file != "出欠.xlsx" and k < RATE["wrong_student_no"]
        ):
            row.noise.append("wrong_student_no")
            taken = context["student_nos"]
            wrong = _transpose(value, rr)
            while wrong in taken:  # a wrong number, but never another pupil's: keys stay unique
                wrong = _transpose(wrong, rr)
            return _Done(wrong)
        return _Done(value)
    return value
