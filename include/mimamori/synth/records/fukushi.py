"""福祉班: 障害者手帳, 障害児受給者証, 要介護認定, 生活保護 (one row per member), 障がい者医療, 相談記録."""

from __future__ import annotations

from datetime import timedelta

from . import Row
from .kodomo_shien import _end, _household_facts, _persons

SOURCE = "fukushi"


def build(town, month, as_of):
    techo, jukyu, kaigo, iryo = _person_rows(town, as_of)
    hogo, consult = _household_rows(town, as_of)
    for rows in (techo, kaigo, iryo):
        rows.sort(key=lambda r: (r.values["宛名番号"], str(list(r.values.values())[1])))
    jukyu.sort(key=lambda r: r.values["受給者証番号"])
    hogo.sort(key=lambda r: (r.values["ケース番号"], r.values["宛名番号"]))
    consult.sort(key=lambda r: r.values["相談番号"])
    return {
        "障害者手帳.csv": techo,
        "障害児受給者証.csv": jukyu,
        "要介護認定.csv": kaigo,
        "生活保護.csv": hogo,
        "障がい者医療.csv": iryo,
        "相談記録.csv": consult,
    }


def _person_rows(town, as_of):
    """The person-held records: 障害者手帳 (latest of each type), 受給者証, 要介護認定, 障がい者医療."""
    techo, jukyu, kaigo, iryo = [], [], [], []
    for p in _persons(town, as_of):
        present = p.present(as_of)
        held: dict[str, object] = {}
        for f in p.facts:
            if f.start > as_of:
                continue
            if f.kind == "techo" and present:
                held[f.data["type"]] = f  # the latest certificate of each type is the one held
            elif f.kind == "jukyu" and (present or f.end < as_of):
                jukyu.append(
                    Row(
                        {"受給者証番号": f.data["no"], "宛名番号": p.atena, "交付日": f.start, "有効期限": f.end},
                        p.atena,
                        p.setai,
                    )
                )
            elif f.kind == "kaigo" and present and f.end >= as_of - timedelta(days=400):
                kaigo.append(
                    Row(
                        {"宛名番号": p.atena, "要介護度": f.data["level"], "認定日": f.start, "有効期限": f.end},
                        p.atena,
                        p.setai,
                    )
                )
            elif f.kind == "shogai_iryo":
                iryo.append(
                    Row(
                        {"宛名番号": p.atena, "資格取得日": f.start, "資格喪失日": _end(f.end, p, as_of)},
                        p.atena,
                        p.setai,
                    )
                )
        for kind in ("身体", "療育", "精神"):
            f = held.get(kind)
            if f is not None:
                techo.append(
                    Row(
                        {
                            "宛名番号": p.atena,
                            "手帳種別": kind,
                            "等級": f.data["grade"],
                            "発達障害": "有" if f.data["dev"] else "無",
                            "交付日": f.start,
                        },
                        p.atena,
                        p.setai,
                    )
                )
    return techo, jukyu, kaigo, iryo


def _household_rows(town, as_of):
    """The household-held records: 生活保護 (one row per member) and 福祉 相談記録."""
    hogo, consult = [], []
    for hh, f in _household_facts(town, as_of):
        if f.kind == "hogo":
            for a in f.data["members"]:
                p = town.persons[a]
                if p.resident_since > as_of:
                    continue
                hogo.append(
                    Row(
                        {
                            "ケース番号": f.data["case"],
                            "宛名番号": a,
                            "開始日": max(f.start, p.resident_since),
                            "廃止日": _end(f.end, p, as_of),
                        },
                        a,
                        p.setai,
                    )
                )
        elif f.kind == "consult_fukushi" and f.start >= as_of - timedelta(days=365 * 5):
            who = f.data["atena"]
            consult.append(
                Row(
                    {
                        "相談番号": f.data["no"],
                        "宛名番号": who,
                        "世帯番号": hh.setai if f.data["with_setai"] else None,
                        "相談日": f.start,
                        "相談分野": f.data["field"],
                        "相談種別": f.data["kind"],
                    },
                    who,
                    hh.setai,
                )
            )
    return hogo, consult
