"""The candidate list's search and filters (type, age band, area, proposal), applied to the
households the audience may read. Areas are the ones the children are counted under
(child_scores.area): a child under 支援措置 is placed by a fixed rule and never forms an option of
its own (docs/disclosure.md)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from mimamori.casescreen.vocab import TYPE_LABELS

#: query parameters of the candidate list and the longest value each may hold
FILTERS = {"q": 40, "type": 40, "age_band": 10, "area": 40, "proposed": 3}


def _fold(text: Any) -> str:
    """Search without caring for width, case or the space between family and given name."""
    return unicodedata.normalize("NFKC", str(text or "")).replace(" ", "").lower()


@dataclass
class CandidateView:
    households: list[dict[str, Any]]
    filters: dict[str, str]
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    total_households: int = 0
    total_children: int = 0

    @property
    def shown_children(self) -> int:
        return sum(len(h["children"]) for h in self.households)

    @property
    def is_filtered(self) -> bool:
        return any(self.filters.values())


def read_filters(params) -> dict[str, str]:
    return {key: (params.get(key) or "").strip()[:limit] for key, limit in FILTERS.items()}


def _child_matches(child: dict[str, Any], f: dict[str, str]) -> bool:
    if f["type"] and f["type"] not in (child.get("types") or []):
        return False
    if f["age_band"] and child.get("age_band") != f["age_band"]:
        return False
    if f["area"] and child.get("area") != f["area"]:
        return False
    if f["q"]:
        needle = _fold(f["q"])
        haystack = [_fold(child.get("name")), str(child.get("person_id") or ""), str(child.get("household_id") or "")]
        if not any(needle in h for h in haystack):
            return False
    return True


def apply(households: list[dict[str, Any]], filters: dict[str, str]) -> CandidateView:
    """Households keep only their children that match every filter; a household with none left drops."""
    children = [c for h in households for c in h["children"]]
    options = {
        "type": [
            (code, label)
            for code, label in TYPE_LABELS.items()
            if any(code in (c.get("types") or []) for c in children)
        ],
        "age_band": [(b, b) for b in sorted({c["age_band"] for c in children if c.get("age_band")})],
        "area": [(a, a) for a in sorted({c["area"] for c in children if c.get("area")})],
        "proposed": [("yes", "会議に提案"), ("no", "提案なし")],
    }
    shown = []
    for household in households:
        if filters["proposed"] == "yes" and not household["is_proposed"]:
            continue
        if filters["proposed"] == "no" and household["is_proposed"]:
            continue
        kept = [c for c in household["children"] if _child_matches(c, filters)]
        if kept:
            shown.append({**household, "children": kept})
    return CandidateView(shown, filters, options, len(households), len(children))
