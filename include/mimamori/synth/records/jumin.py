"""住民.csv: every resident on the as-of date (the identity spine)."""

from __future__ import annotations

from . import Row, residents

SOURCE = "jumin"


def build(town, month, as_of):
    rows = []
    for hh, p in residents(town, as_of):
        rows.append(
            Row(
                {
                    "宛名番号": p.atena,
                    "世帯番号": p.setai,
                    "氏名": p.name(),
                    "カナ氏名": p.kana(),
                    "生年月日": p.birth,
                    "性別": p.sex,
                    "続柄": p.rel,
                    "住所": hh.address.registry(),
                    "転入日": p.moved_in_on,
                    "住民となった日": p.resident_since,
                    "支援措置": "有" if p.dv else "無",
                },
                p.atena,
                p.setai,
            )
        )
    rows.sort(key=lambda r: r.values["宛名番号"])
    return {"住民.csv": rows}
