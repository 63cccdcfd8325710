"""こども家庭班 (母子保健): 乳幼児健診, 妊産婦 (UTF-8 with BOM), 予防接種."""

from __future__ import annotations

from datetime import timedelta

from ..dates import month_str
from . import Row

SOURCE = "kodomo_katei"


def build(town, month, as_of):
    kenshin, ninsanpu, yobo = [], [], []
    month_first = as_of.replace(day=1)
    for p in town.persons.values():
        if not p.present(as_of) or p.age(as_of) > 18:
            continue
        young = p.birth > as_of - timedelta(days=365 * 8)
        for f in p.facts:
            if f.kind == "checkup" and f.start <= month_first:
                d = f.data
                attended = d["on"] if (d["on"] is not None and d["on"] <= as_of) else None
                if attended is None and d["on"] is not None and f.start == month_first:
                    pass  # due this month, not yet attended: blank for now
                kenshin.append(
                    Row(
                        {
                            "宛名番号": p.atena,
                            "健診区分": d["checkup"],
                            "対象月": month_str(f.start.year, f.start.month),
                            "受診日": attended,
                            "アンケート要注意": ("有" if d["concern"] else "無") if attended else None,
                            "むし歯本数": d["caries"] if attended else None,
                            "母の喫煙": ("有" if d["smoke"] else "無") if attended else None,
                            "事後フォロー": "有" if (d["follow"] and (attended or f.start < month_first)) else "無",
                        },
                        p.atena,
                        p.setai,
                    )
                )
            elif f.kind == "maternity" and p.birth <= as_of and p.birth > as_of - timedelta(days=730):
                d = f.data
                mother = town.persons[d["mother"]]
                if not mother.present(as_of):
                    continue
                ninsanpu.append(
                    Row(
                        {
                            "母宛名番号": d["mother"],
                            "子宛名番号": p.atena,
                            "妊娠届出週数": d["week"],
                            "EPDS点数": d["epds"] if d["epds_on"] <= as_of else None,
                            "乳児家庭全戸訪問": "済" if (d["visit_on"] and d["visit_on"] <= as_of) else "未",
                        },
                        p.atena,
                        p.setai,
                    )
                )
            elif f.kind == "vaccine" and young and f.start <= as_of:
                g = f.data["given"]
                yobo.append(
                    Row(
                        {
                            "宛名番号": p.atena,
                            "ワクチン": f.data["vaccine"],
                            "接種期限": f.end,
                            "接種日": g if (g and g <= as_of) else None,
                        },
                        p.atena,
                        p.setai,
                    )
                )
    kenshin.sort(key=lambda r: (r.values["宛名番号"], r.values["対象月"]))
    ninsanpu.sort(key=lambda r: (r.values["母宛名番号"], r.values["子宛名番号"]))
    yobo.sort(key=lambda r: (r.values["宛名番号"], r.values["ワクチン"]))
    return {"乳幼児健診.csv": kenshin, "妊産婦.csv": ninsanpu, "予防接種.csv": yobo}
