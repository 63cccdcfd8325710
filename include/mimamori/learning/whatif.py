"""A proposal against the current rule, over the last months, and the guard that refuses one.

:func:`choose_thresholds` picks, per type, the whole-number threshold at which the proposed
points flag about as many children as the current rule (never more than the guard's
``max_flagged_ratio``): the threshold sets the conference's workload, so it is a town's own choice
and uses its own months (no outcomes, no truth).

:func:`what_if` compares two rule sets on the same months: children flagged per type, the
conference candidates at capacity (the top households each month, the already supported left
out), the children gained and lost (ids: for the coordinator only, never logged, never in the
report), the known children a proposal would no longer flag, and flag-rate ratios by household
type, area (the reporting area: 支援措置 folded, int_items__reporting_areas), age band and sex.

:func:`guard` refuses a proposal that raises a disparity ratio or drops known children beyond
the bounds in ``seeds/evaluation/proposal_guard.csv``. Nothing here changes a rule: adoption is
a reviewed seed change.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mimamori.learning.rules import RuleSet, rank_households, total_points, type_scores

REPO = Path(__file__).resolve().parents[3]
GUARD_SEED = REPO / "dbt_project" / "seeds" / "evaluation" / "proposal_guard.csv"
DIMENSIONS = {
    "household": "世帯（大人の人数）",
    "area": "地区",
    "age_band": "年齢区分",
    "sex": "性別",
}


def load_guard(path: Path = GUARD_SEED) -> dict[str, float]:
    with Path(path).open(encoding="utf-8", newline="") as f:
        return {r["bound"]: float(r["value"]) for r in csv.DictReader(f)}


def _flag_counts(rules: RuleSet, months) -> dict[str, int]:
    out: dict[str, int] = {}
    for md in months:
        s = type_scores(rules, md.matches, md.children)
        for t, n in s[s["is_flagged"]].groupby("type_code").size().items():
            out[t] = out.get(t, 0) + int(n)
    return out


def choose_thresholds(
    current: RuleSet, weights: dict[tuple[str, str], int], months, *, max_ratio: float = 1.10, name: str = "proposed"
) -> RuleSet:
    """The proposal with, per type, the threshold whose flag count over ``months`` is closest to
    the current rule's without exceeding ``max_ratio`` × it (ties: the higher threshold)."""
    target = _flag_counts(current, months)
    probe = current.with_weights(weights, {t: 1 for t in current.types}, name)
    per_threshold: dict[str, dict[int, int]] = {}
    for md in months:
        s = type_scores(probe, md.matches, md.children)
        s = s[s["is_in_age_range"] & s["is_required_met"] & (s["score"] > 0)]
        for t, scores in s.groupby("type_code")["score"]:
            counts = per_threshold.setdefault(t, {})
            for theta in range(1, int(scores.max()) + 2):
                counts[theta] = counts.get(theta, 0) + int((scores >= theta).sum())
    thresholds = {}
    for t in current.types:
        goal = target.get(t, 0)
        options = per_threshold.get(t, {})
        allowed = {th: n for th, n in options.items() if n <= max(goal * max_ratio, goal)}
        if not allowed:
            thresholds[t] = max(options, default=current.types[t].threshold)
            continue
        thresholds[t] = min(allowed, key=lambda th: (abs(allowed[th] - goal), -th))
    return current.with_weights(weights, thresholds, name)


def _groups(children: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": children["person_id"],
            "household": children["adults"].map(lambda n: "大人1人" if int(n) == 1 else "大人2人以上"),
            "area": children["area"].fillna("全域"),
            "age_band": children["age_band"],
            "sex": children["sex"].astype(str).map({"1": "男", "2": "女"}).fillna(children["sex"].astype(str)),
        }
    )


@dataclass
class WhatIf:
    months: list[str]
    flagged: pd.DataFrame  # type_code, current, proposed (child-months flagged)
    candidates: dict[str, int]  # current / proposed: children proposed to the conference
    gained: list[tuple[str, str]] = field(repr=False, default_factory=list)  # (month, person_id): coordinator only
    lost: list[tuple[str, str]] = field(repr=False, default_factory=list)
    known_flagged: int = 0
    known_lost: int = 0
    fairness: pd.DataFrame | None = None  # dimension, group, children, flagged_current, flagged_proposed
    ratios: pd.DataFrame | None = None  # dimension, ratio_current, ratio_proposed
    #: the latest month's age band × area joint (children, flagged now, flagged by the proposal):
    #: what the transparency report's disclosure control needs to print the proposal's figures
    cells: pd.DataFrame | None = None

    @property
    def known_lost_share(self) -> float:
        return self.known_lost / self.known_flagged if self.known_flagged else 0.0

    def aggregates(self) -> dict:
        """Everything but ids (what may be stored for the report; its counts still go through sdc)."""
        return {
            "months": self.months,
            "flagged": self.flagged.to_dict(orient="records"),
            "candidates": self.candidates,
            "gained": len(self.gained),
            "lost": len(self.lost),
            "known_flagged": self.known_flagged,
            "known_lost": self.known_lost,
            "fairness": [] if self.fairness is None else self.fairness.to_dict(orient="records"),
            "cells": [] if self.cells is None else self.cells.to_dict(orient="records"),
        }


def disparity_ratios(fairness: pd.DataFrame, min_children: int) -> pd.DataFrame:
    """Per dimension: the highest group flag rate over the lowest (groups of ≥ min_children)."""
    rows = []
    for dim, g in fairness.groupby("dimension", sort=False):
        g = g[g["children"] >= min_children]
        row = {"dimension": dim}
        for col in ("current", "proposed"):
            rates = g[f"flagged_{col}"] / g["children"]
            lo, hi = (rates.min(), rates.max()) if len(rates) else (0, 0)
            row[f"ratio_{col}"] = float(hi / lo) if lo > 0 else (float("inf") if hi > 0 else 1.0)
        rows.append(row)
    return pd.DataFrame(rows, columns=["dimension", "ratio_current", "ratio_proposed"])


def what_if(current: RuleSet, proposed: RuleSet, months, *, min_group_children: int = 20) -> WhatIf:
    """Compare the rules on ``months`` (MonthData with children and matches)."""
    from mimamori.synth.conferences import known_to_town, load_known_registers

    registers = load_known_registers()
    flagged = {"current": {}, "proposed": {}}
    proposed_children = {"current": set(), "proposed": set()}
    known_flagged = known_lost = 0
    fairness = cells = None
    for md in months:
        flags = {}
        for name, rules in (("current", current), ("proposed", proposed)):
            s = type_scores(rules, md.matches, md.children)
            pts = total_points(rules, md.matches, md.children)
            for t, n in s[s["is_flagged"]].groupby("type_code").size().items():
                flagged[name][t] = flagged[name].get(t, 0) + int(n)
            flags[name] = set(s.loc[s["is_flagged"], "person_id"])
            excluded = set(md.children.loc[md.children["is_already_supported"].astype(bool), "person_id"])
            hh = rank_households(rules, s, pts, md.children, excluded)
            for ids in hh.loc[hh["is_proposed"], "person_ids"]:
                proposed_children[name].update((md.month, p) for p in ids)
        known = known_to_town(md, registers, set())
        known_ids = set(known[known].index)
        known_flagged += len(flags["current"] & known_ids)
        known_lost += len((flags["current"] - flags["proposed"]) & known_ids)
        if md is months[-1]:
            g = _groups(md.children)
            rows = []
            for dim in DIMENSIONS:
                for value, members in g.groupby(dim)["person_id"]:
                    ids = set(members)
                    rows.append((dim, str(value), len(ids), len(ids & flags["current"]), len(ids & flags["proposed"])))
            fairness = pd.DataFrame(
                rows, columns=["dimension", "group", "children", "flagged_current", "flagged_proposed"]
            )
            joint = []
            for (band, area), members in g.groupby(["age_band", "area"])["person_id"]:
                ids = set(members)
                joint.append((band, area, len(ids), len(ids & flags["current"]), len(ids & flags["proposed"])))
            cells = pd.DataFrame(joint, columns=["age_band", "area", "children", "flagged_current", "flagged_proposed"])
    types = list(current.types)
    table = pd.DataFrame(
        {
            "type_code": types,
            "current": [flagged["current"].get(t, 0) for t in types],
            "proposed": [flagged["proposed"].get(t, 0) for t in types],
        }
    )
    return WhatIf(
        months=[md.month for md in months],
        flagged=table,
        candidates={k: len(v) for k, v in proposed_children.items()},
        gained=sorted(proposed_children["proposed"] - proposed_children["current"]),
        lost=sorted(proposed_children["current"] - proposed_children["proposed"]),
        known_flagged=known_flagged,
        known_lost=known_lost,
        fairness=fairness,
        ratios=disparity_ratios(fairness, min_group_children) if fairness is not None else None,
        cells=cells,
    )


def guard(result: WhatIf, bounds: dict[str, float] | None = None) -> list[str]:
    """Why the proposal is refused (Japanese, for the coordinator); empty = it may go to review."""
    bounds = bounds or load_guard()
    refusals = []
    rise = bounds.get("max_disparity_ratio_rise", 0.10)
    if result.ratios is not None:
        for r in result.ratios.itertuples():
            if r.ratio_proposed > r.ratio_current * (1 + rise) + 1e-9:
                refusals.append(
                    f"{DIMENSIONS.get(r.dimension, r.dimension)}の格差比が {r.ratio_current:.2f} から "
                    f"{r.ratio_proposed:.2f} に上がります（上限 {rise:.0%}）"
                )
    share = bounds.get("max_known_children_lost_share", 0.05)
    if result.known_lost_share > share + 1e-12:
        refusals.append(
            f"町が把握しているこどものうち {result.known_lost_share:.1%} が気づきから外れます（上限 {share:.0%}）"
        )
    ratio = bounds.get("max_flagged_ratio", 1.10)
    for r in result.flagged.itertuples():
        if r.proposed > max(r.current * ratio, r.current):
            refusals.append(f"{r.type_code} の気づきが {r.current} から {r.proposed} に増えます（上限 {ratio:.2f} 倍）")
    return refusals
