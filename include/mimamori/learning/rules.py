"""The rule seeds as data, and re-scoring cached item matches with any variant of them.

The arithmetic is the dbt marts' (docs/judgement.md), in pandas so that a rule variant can be
tried on months that were judged once: ``child_type_scores`` (Σ rule weight over matched items, a
count-once group contributing its largest matched weight; flagged when in the age range, the
required set met and score ≥ threshold), ``child_scores`` (total points = Σ catalogue weight over
matched enabled items, no grouping) and ``household_candidates`` (rank by distinct flagged types,
highest total points, highest flagged type score, lowest 世帯番号 in numeric order; the top N are
proposed). ``tests/learning`` checks it against the marts of the suite's judged town.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from mimamori.vocabulary import TypeItem

REPO = Path(__file__).resolve().parents[3]
RULES_DIR = REPO / "dbt_project" / "seeds" / "rules"
EVALUATION_DIR = REPO / "dbt_project" / "seeds" / "evaluation"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _bool(text: str) -> bool:
    return str(text).strip().lower() in ("true", "t", "1", "yes")


@dataclass(frozen=True)
class TypeRule:
    type_code: str
    label_ja: str
    min_age: int
    max_age: int
    threshold: int
    is_enabled: bool = True


@dataclass
class RuleSet:
    """The rules of one variant: types, type × item weights, catalogue weights, capacity."""

    types: dict[str, TypeRule]
    type_items: list[TypeItem]
    catalogue_weights: dict[str, int]
    households_per_month: int = 5
    name: str = "current"
    #: the rows of the seeds as read (a proposal rewrites these columns only)
    _type_rows: list[dict[str, str]] = field(default_factory=list, repr=False)
    _type_item_rows: list[dict[str, str]] = field(default_factory=list, repr=False)

    @classmethod
    def load(cls, rules_dir: Path = RULES_DIR, name: str = "current") -> RuleSet:
        type_rows = _read_csv(rules_dir / "types.csv")
        item_rows = _read_csv(rules_dir / "type_items.csv")
        catalogue = _read_csv(rules_dir / "item_catalogue.csv")
        settings = {r["setting"]: r["value"] for r in _read_csv(rules_dir / "candidate_settings.csv")}
        types = {
            r["type_code"]: TypeRule(
                r["type_code"],
                r["label_ja"],
                int(r["min_age"]),
                int(r["max_age"]),
                int(r["threshold"]),
                _bool(r.get("is_enabled", "true")),
            )
            for r in type_rows
        }
        enabled = {r["item_code"] for r in catalogue if _bool(r["is_enabled"])}
        type_items = [
            TypeItem(
                r["type_code"], r["item_code"], int(r["weight"]), r.get("group_key") or "", _bool(r["is_required"])
            )
            for r in item_rows
            if r["item_code"] in enabled
        ]
        weights = {r["item_code"]: int(r["weight"]) for r in catalogue if _bool(r["is_enabled"])}
        return cls(types, type_items, weights, int(settings.get("households_per_month", 5)), name, type_rows, item_rows)

    def enabled_types(self) -> list[str]:
        return [t for t, r in self.types.items() if r.is_enabled]

    def items_of(self, type_code: str) -> list[TypeItem]:
        return [ti for ti in self.type_items if ti.type_code == type_code]

    def with_weights(self, weights: dict[tuple[str, str], int], thresholds: dict[str, int], name: str) -> RuleSet:
        """A variant: new weights per (type, item) (0 drops the item from the type) and thresholds."""
        items = []
        for ti in self.type_items:
            w = int(weights.get((ti.type_code, ti.item_code), ti.weight))
            if w > 0:
                items.append(replace(ti, weight=w))
        types = {t: replace(r, threshold=int(thresholds.get(t, r.threshold))) for t, r in self.types.items()}
        return RuleSet(
            types,
            items,
            dict(self.catalogue_weights),
            self.households_per_month,
            name,
            self._type_rows,
            self._type_item_rows,
        )

    # --- the seeds a variant is written as ------------------------------------------------------

    def type_items_csv(self) -> str:
        """``type_items.csv`` of this variant, rows in the current seed's order (dropped = absent)."""
        weights = {(ti.type_code, ti.item_code): ti.weight for ti in self.type_items}
        rows = []
        for r in self._type_item_rows:
            key = (r["type_code"], r["item_code"])
            if key in weights:
                rows.append({**r, "weight": str(weights[key])})
            elif r["item_code"] not in self.catalogue_weights:
                rows.append(r)  # an item disabled in the catalogue stays as it was
        return _write_csv(list(self._type_item_rows[0].keys()), rows)

    def types_csv(self) -> str:
        rows = [{**r, "threshold": str(self.types[r["type_code"]].threshold)} for r in self._type_rows]
        return _write_csv(list(self._type_rows[0].keys()), rows)


def _write_csv(headers: list[str], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=headers, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


# --- scoring -------------------------------------------------------------------------------------


def type_scores(rules: RuleSet, matches: pd.DataFrame, children: pd.DataFrame) -> pd.DataFrame:
    """One row per child in scope × enabled type with a score > 0 or not: person_id, type_code,
    score, is_in_age_range, is_required_met, is_flagged. ``matches``: person_id, item_code of the
    matched (status true) items; ``children``: person_id, age."""
    ti = pd.DataFrame(
        [(t.type_code, t.item_code, t.weight, t.group, t.is_required) for t in rules.type_items],
        columns=["type_code", "item_code", "weight", "group", "is_required"],
    )
    ti = ti[ti["type_code"].isin(rules.enabled_types())]
    m = matches[["person_id", "item_code"]].drop_duplicates().merge(ti, on="item_code")
    groups = m.groupby(["person_id", "type_code", "group"], as_index=False).agg(
        weight=("weight", "max"), required=("is_required", "any")
    )
    per = groups.groupby(["person_id", "type_code"], as_index=False).agg(
        score=("weight", "sum"), has_required_match=("required", "any")
    )
    has_required_set = ti.groupby("type_code")["is_required"].any().to_dict()
    types = pd.DataFrame(
        [(t, r.min_age, r.max_age, r.threshold) for t, r in rules.types.items() if r.is_enabled],
        columns=["type_code", "min_age", "max_age", "threshold"],
    )
    grid = children[["person_id", "age"]].merge(types, how="cross")
    out = grid.merge(per, on=["person_id", "type_code"], how="left")
    out["score"] = out["score"].fillna(0).astype(int)
    out["has_required_match"] = out["has_required_match"].astype("boolean").fillna(False).astype(bool)
    out["is_in_age_range"] = (out["age"] >= out["min_age"]) & (out["age"] <= out["max_age"])
    req_set = out["type_code"].map(lambda t: bool(has_required_set.get(t, False)))
    out["is_required_met"] = ~req_set | out["has_required_match"]
    out["is_flagged"] = out["is_in_age_range"] & out["is_required_met"] & (out["score"] >= out["threshold"])
    return out[["person_id", "type_code", "score", "is_in_age_range", "is_required_met", "is_flagged"]]


def total_points(rules: RuleSet, matches: pd.DataFrame, children: pd.DataFrame) -> pd.Series:
    """Σ catalogue weight over matched enabled items, per child in scope (0 without a match)."""
    w = matches[["person_id", "item_code"]].drop_duplicates()
    w = w.assign(weight=w["item_code"].map(rules.catalogue_weights)).dropna(subset=["weight"])
    points = w.groupby("person_id")["weight"].sum()
    return children.set_index("person_id").index.to_series().map(points).fillna(0).astype(int)


def _household_key(household_id: str) -> tuple[int, str]:
    return (len(str(household_id)), str(household_id))


def rank_households(
    rules: RuleSet,
    scores: pd.DataFrame,
    points: pd.Series,
    children: pd.DataFrame,
    excluded: set[str] = frozenset(),
) -> pd.DataFrame:
    """The candidate households ranked as household_candidates ranks them: household_id,
    person_ids (candidate children), flagged_type_count, max_total_points, max_type_score, rank,
    is_proposed (rank ≤ households_per_month)."""
    flagged = scores[scores["is_flagged"] & ~scores["person_id"].isin(excluded)]
    if flagged.empty:
        return pd.DataFrame(
            columns=[
                "household_id",
                "person_ids",
                "flagged_type_count",
                "max_total_points",
                "max_type_score",
                "household_rank",
                "is_proposed",
            ]
        )
    hh = children.set_index("person_id")["household_id"]
    flagged = flagged.assign(household_id=flagged["person_id"].map(hh))
    cand = flagged["person_id"].drop_duplicates()
    per_child = pd.DataFrame({"person_id": cand, "household_id": cand.map(hh), "total_points": cand.map(points)})
    households = per_child.groupby("household_id").agg(
        person_ids=("person_id", lambda s: sorted(s)), max_total_points=("total_points", "max")
    )
    types = flagged.groupby("household_id").agg(
        flagged_type_count=("type_code", "nunique"), max_type_score=("score", "max")
    )
    out = households.join(types).reset_index()
    out["_len"] = out["household_id"].astype(str).str.len()
    out = out.sort_values(
        ["flagged_type_count", "max_total_points", "max_type_score", "_len", "household_id"],
        ascending=[False, False, False, True, True],
        kind="mergesort",
    ).drop(columns="_len")
    out["household_rank"] = range(1, len(out) + 1)
    out["is_proposed"] = out["household_rank"] <= rules.households_per_month
    return out.reset_index(drop=True)
