"""Ground truth beside the inbox (never read by the pipeline): record → person, child → circumstances."""

from __future__ import annotations

import csv
import io
from datetime import date

from .model import LATENT

RECORD_HEADERS = ("source", "file", "row_number", "atena_no", "noise")
CHILD_HEADERS = ("atena_no", "setai_no", "age", *LATENT, "twin", "same_name_same_birth_pair")


def child_latent(town, p, as_of: date) -> dict[str, int]:
    hh = town.households.get(p.setai)
    members = [town.persons[a] for a in hh.members] if hh else []
    care = False
    for m in members:
        if m is p:
            continue
        for f in m.facts:
            if f.start > as_of:
                continue
            if f.kind == "kaigo" and f.data["level"].startswith("要介護") and f.end >= as_of:
                care = True
            if f.kind == "techo" and (f.data["type"] != "身体" or f.data["grade"] in ("1級", "2級")):
                care = True
    age = p.age(as_of)
    years = (as_of - p.birth).days / 365.25
    return {
        "poverty": int(bool(hh and hh.poverty)),
        "care_need_in_household": int(care),
        "disability": int(p.disability),
        "abuse_neglect": int(p.abuse),
        "school_refusal": int(p.refusal_onset is not None and p.refusal_onset <= years and age <= 15),
        "postpartum_depression": int(p.ppd and age <= 1),
        "developmental_disability": int(p.dev),
    }


def csv_text(headers, rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")
