"""A small reference evaluator of the default type rules (domain.md §5) on the generator's truth.

It reads the month's *clean* records (typed values, each with its true person — before identity
noise and faults), so it shows what a perfect identity resolution would flag. It is approximate by
design: it implements the judgement items (J) the six default rules use, with the look-backs of §4,
and not the unknown/false subtleties, hand entries or exclusions. The pipeline's own evaluator is
the reference for production; this one calibrates the synthetic town (6–10% flagged).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from mimamori import vocabulary

from .dates import fiscal_year


def _rules() -> dict[str, tuple]:
    """The enabled type rules from the seeds (mimamori.vocabulary), as
    type → (min age, max age, items, no-double-count groups, required items, threshold)."""
    out = {}
    links = vocabulary.type_items()
    for code, rule in vocabulary.types().items():
        if not rule.is_enabled:
            continue
        mine = [ti for ti in links if ti.type_code == code]
        groups: dict[str, list[str]] = defaultdict(list)
        for ti in mine:
            if ti.group_key:
                groups[ti.group_key].append(ti.item_code)
        out[code] = (
            rule.min_age,
            rule.max_age,
            tuple(ti.item_code for ti in mine),
            tuple(tuple(g) for g in groups.values() if len(g) > 1),
            tuple(ti.item_code for ti in mine if ti.is_required),
            rule.threshold,
        )
    return out


TYPES = _rules()


def _valid(start, end, as_of, inclusive_end=False) -> bool:
    if start is None or start > as_of:
        return False
    if end is None:
        return True
    return end >= as_of if inclusive_end else end > as_of


def items_for_children(town, recs: dict, as_of: date) -> dict[str, set]:
    """Matched judgement items per child in scope (atena → set of item codes)."""
    fy = fiscal_year(as_of)
    spine = {r.atena: r for r in recs[("jumin", "住民.csv")]}
    members = defaultdict(list)
    for a, r in spine.items():
        members[r.values["世帯番号"]].append(a)
    setai_of = {a: r.values["世帯番号"] for a, r in spine.items()}
    age = {a: town.persons[a].age(as_of) for a in spine}
    per = defaultdict(set)  # person-level facts: atena → codes
    hh = defaultdict(set)  # household-level facts: setai → codes

    def add_h(atena, setai, code):
        s = setai or setai_of.get(atena)
        if s:
            hh[s].add(code)

    latest_checkup = _kodomo_items(recs, as_of, per, add_h, setai_of)
    _fukushi_items(recs, as_of, per, hh, add_h, setai_of)
    school_checkup = _gakko_items(recs, fy, per)
    # I21a: latest checkup of either source
    for a in set(latest_checkup) | set(school_checkup):
        cands = []
        if a in latest_checkup:
            cands.append((latest_checkup[a][0], latest_checkup[a][1]))
        if a in school_checkup:
            cands.append(school_checkup[a])
        if max(cands)[1] is not None and max(cands)[1] >= 4:
            per[a].add("I21a")

    out = {}
    for a, r in spine.items():
        if age[a] > 18:
            continue
        out[a] = _child_items(a, r, per, hh, members, setai_of, age, as_of)
    return out


def _kodomo_items(recs: dict, as_of: date, per, add_h, setai_of) -> dict[str, tuple]:
    """子ども支援班 and 子ども家庭班 items; returns each child's latest 乳幼児健診 (date, caries, smoking)."""
    three_years = as_of - timedelta(days=365 * 3)
    for r in recs[("kodomo_shien", "要対協.csv")]:
        if r.values["区分"] in ("要保護", "要支援"):
            per[r.atena].add("I01")
            if r.values["一時保護歴"] == "有":
                per[r.atena].add("I02")
    for r in recs[("kodomo_shien", "児童扶養手当.csv")]:
        if _valid(r.values["認定日"], r.values["喪失日"], as_of):
            add_h(r.atena, None, "I09")
    for r in recs[("kodomo_shien", "ひとり親医療.csv")]:
        if _valid(r.values["資格取得日"], r.values["資格喪失日"], as_of):
            add_h(r.atena, None, "I11")
    for r in recs[("kodomo_shien", "児童相談記録.csv")]:
        if r.values["相談日"] >= three_years:
            code = {"生活困窮": "I15", "障がい者": "I16"}.get(r.values["相談分類"])
            if code:
                add_h(r.atena, r.values["世帯番号"] or (setai_of.get(r.atena) if r.atena else r.setai), code)
    latest_checkup: dict[str, tuple] = {}
    for r in recs[("kodomo_katei", "乳幼児健診.csv")]:
        if r.values["アンケート要注意"] == "有":
            per[r.atena].add("I20")
        if r.values["受診日"]:
            prev = latest_checkup.get(r.atena)
            if prev is None or r.values["受診日"] > prev[0]:
                latest_checkup[r.atena] = (r.values["受診日"], r.values["むし歯本数"], r.values["母の喫煙"])
    for a, (_, _caries, smoke) in latest_checkup.items():
        if smoke == "有":
            per[a].add("I21b")
    for r in recs[("kodomo_katei", "妊産婦.csv")]:
        if r.values["EPDS点数"] is not None and r.values["EPDS点数"] >= 9:
            per[r.atena].add("I28")
    return latest_checkup


def _fukushi_items(recs: dict, as_of: date, per, hh, add_h, setai_of) -> None:
    """福祉班 items, and the person marks (techo, dev_mental, jukyu, care, iryo) a household member passes on."""
    three_years = as_of - timedelta(days=365 * 3)
    for r in recs[("fukushi", "障害者手帳.csv")]:
        per[r.atena].add("techo")
        if r.values["手帳種別"] == "精神" and r.values["発達障害"] == "有":
            per[r.atena].add("dev_mental")
    for r in recs[("fukushi", "障害児受給者証.csv")]:
        per[r.atena].add("jukyu")
    for r in recs[("fukushi", "要介護認定.csv")]:
        if r.values["要介護度"].startswith("要介護") and _valid(r.values["認定日"], r.values["有効期限"], as_of, True):
            per[r.atena].add("care")
    for r in recs[("fukushi", "生活保護.csv")]:
        if _valid(r.values["開始日"], r.values["廃止日"], as_of):
            add_h(r.atena, None, "I08")
    for r in recs[("fukushi", "障がい者医療.csv")]:
        if _valid(r.values["資格取得日"], r.values["資格喪失日"], as_of):
            per[r.atena].add("iryo")
    for r in recs[("fukushi", "相談記録.csv")]:
        if r.values["相談日"] >= three_years:
            s = r.values["世帯番号"] or setai_of.get(r.atena) or r.setai
            if r.values["相談種別"] == "児童虐待相談":
                hh[s].add("I17")
            elif r.values["相談種別"] in ("児童相談", "養護相談"):
                hh[s].add("I18")


def _gakko_items(recs: dict, fy: int, per) -> dict[str, tuple]:
    """学校教育課 items; returns each pupil's 学校健診 of this school year (date, caries)."""
    for r in recs[("gakko", "学齢簿.csv")]:
        per[r.atena].add("on_register")
        if r.values["特別支援学級"] == "有":
            per[r.atena].add("I10")
    for r in recs[("gakko", "出欠.xlsx")]:
        if r.values["欠席日数"] >= 30 or (r.values["前年度欠席日数"] or 0) >= 30:
            per[r.atena].add("I06")
    school_checkup = {}
    for r in recs[("gakko", "学校健診.csv")]:
        if fiscal_year(r.values["健診日"]) == fy:
            if r.values["精密検査要"] == "有":
                per[r.atena].add("I03")
            school_checkup[r.atena] = (r.values["健診日"], r.values["むし歯本数"])
    for r in recs[("gakko", "就学援助.csv")]:
        if r.values["認定年度"] == fy:
            per[r.atena].add("I13")
    for r in recs[("gakko", "給食費.csv")]:
        if r.values["滞納月数"] >= 1:
            per[r.atena].add("I33")
    return school_checkup


def _child_items(a, r, per, hh, members, setai_of, age, as_of: date) -> set:
    """One child's items: its own, its household's, and those its household members pass on."""
    s = setai_of[a]
    others = [m for m in members[s] if m != a]
    items = {c for c in per[a] if c.startswith("I")} | set(hh[s])
    if "dev_mental" in per[a]:
        items.add("I04b")
    if "jukyu" in per[a]:
        items.add("I05b")
    if any("dev_mental" in per[m] for m in others):
        items.add("I04a")
    if any("jukyu" in per[m] for m in others):
        items.add("I05a")
    if any("care" in per[m] for m in others):
        items.add("I07")
    if any("iryo" in per[m] for m in others):
        items.add("I12")
    if any("techo" in per[m] for m in others):
        items.add("I25")
    moved = r.values["転入日"]
    if moved is not None and moved > as_of - timedelta(days=365):
        items.add("I14")
    if sum(1 for m in members[s] if age[m] <= 18) >= 3:
        items.add("I19")
    return items


def score(items: set, rule) -> tuple[int, bool]:
    lo, hi, codes, groups, required, threshold = rule
    matched = {c for c in codes if c in items}
    s = len(matched)
    for g in groups:
        n = len(matched & set(g))
        if n > 1:
            s -= n - 1
    ok = (not required) or bool(matched & set(required))
    return s, ok and s >= threshold


def evaluate(town, recs: dict, as_of: date) -> dict[str, dict[str, int]]:
    """Per child in scope: {type: 0/1} flags of the default rules."""
    items = items_for_children(town, recs, as_of)
    out = {}
    for a, its in items.items():
        age = town.persons[a].age(as_of)
        flags = {}
        for t, rule in TYPES.items():
            lo, hi = rule[0], rule[1]
            flags[t] = int(lo <= age <= hi and score(its, rule)[1])
        out[a] = flags
    return out
