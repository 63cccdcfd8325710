"""こども支援班: 要対協, 児童扶養手当, ひとり親医療, 保育所入所, 児童相談記録."""

from __future__ import annotations

from datetime import timedelta

from . import Row

SOURCE = "kodomo_shien"
KEEP_LEFT_DAYS = 365  # registers keep people who moved out for a while (their rows stay)


def _persons(town, as_of):
    """Residents, plus people who left within KEEP_LEFT_DAYS (records outlive residence)."""
    for p in town.persons.values():
        if p.resident_since <= as_of and (p.left_on is None or p.left_on > as_of - timedelta(days=KEEP_LEFT_DAYS)):
            yield p


def _household_facts(town, as_of):
    """(household, fact) for each fact started by as_of of a household that has not left more than
    KEEP_LEFT_DAYS ago, in the town's household order."""
    for hh in town.households.values():
        if hh.gone_on is not None and hh.gone_on <= as_of - timedelta(days=KEEP_LEFT_DAYS):
            continue
        for f in hh.facts:
            if f.start <= as_of:
                yield hh, f


def _end(f_end, p, as_of):
    """A record's end date as the department sees it on as_of (moving out ends it)."""
    end = f_end if (f_end is not None and f_end <= as_of) else None
    if p.left_on is not None and p.left_on <= as_of:
        end = min(end, p.left_on) if end else p.left_on
    return end


def build(town, month, as_of):
    yotaikyo, hitori, hoiku = [], [], []
    for p in _persons(town, as_of):
        present = p.present(as_of)
        for f in p.facts:
            if f.start > as_of:
                continue
            if f.kind == "yotaikyo":
                custody_on = f.data["custody_on"] if (f.data["custody_on"] and f.data["custody_on"] <= as_of) else None
                yotaikyo.append(
                    Row(
                        {
                            "宛名番号": p.atena,
                            "区分": f.data["category"],
                            "登録日": f.start,
                            "終結日": _end(f.end, p, as_of),
                            "一時保護歴": "有" if (f.data["custody"] and (custody_on or f.start <= as_of)) else "無",
                            "一時保護日": custody_on,
                        },
                        p.atena,
                        p.setai,
                    )
                )
            elif f.kind == "hitorioya" and (present or (p.left_on and p.left_on > as_of - timedelta(days=90))):
                hitori.append(
                    Row(
                        {"宛名番号": p.atena, "資格取得日": f.start, "資格喪失日": _end(f.end, p, as_of)},
                        p.atena,
                        p.setai,
                    )
                )
            elif f.kind == "hoiku" and (present or f.end and f.end <= as_of):
                if f.end is not None and f.end < as_of - timedelta(days=730):
                    continue
                hoiku.append(
                    Row(
                        {
                            "宛名番号": p.atena,
                            "施設名": f.data["facility"],
                            "施設種別": f.data["type"],
                            "入所日": f.start,
                            "退所日": _end(f.end, p, as_of),
                        },
                        p.atena,
                        p.setai,
                    )
                )
    jifu, consult = [], []
    for hh, f in _household_facts(town, as_of):
        if f.kind == "jifu":
            r = town.persons[f.data["recipient"]]
            jifu.append(
                Row(
                    {
                        "受給者宛名番号": r.atena,
                        "世帯番号": r.setai if town.rng_flag(f"jifu-setai|{r.atena}", 0.9) else None,
                        "認定日": f.start,
                        "喪失日": _end(f.end, r, as_of),
                    },
                    r.atena,
                    r.setai,
                )
            )
        elif f.kind == "consult_shien" and f.start >= as_of - timedelta(days=365 * 5):
            who = f.data["atena"]
            jifu_setai = hh.setai if f.data["with_setai"] else None
            consult.append(
                Row(
                    {
                        "相談番号": f.data["no"],
                        "宛名番号": who,
                        "世帯番号": jifu_setai,
                        "相談日": f.start,
                        "相談分類": f.data["category"],
                    },
                    who,
                    hh.setai,
                )
            )
    for rows, key in ((yotaikyo, "宛名番号"), (hitori, "宛名番号"), (hoiku, "宛名番号"), (jifu, "受給者宛名番号")):
        rows.sort(key=lambda r, k=key: (r.values[k], str(list(r.values.values())[1:3])))
    consult.sort(key=lambda r: r.values["相談番号"])
    return {
        "要対協.csv": yotaikyo,
        "児童扶養手当.csv": jifu,
        "ひとり親医療.csv": hitori,
        "保育所入所.csv": hoiku,
        "児童相談記録.csv": consult,
    }
