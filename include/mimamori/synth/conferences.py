"""Synthetic outcome histories: months of case conferences with imperfect human judgement.

Given a town's months as the pipeline judged them (cached matched items and children,
mimamori.learning.towns) and its truth (``truth/<YYYY-MM>/children.csv``: ``atena_no`` and one
0/1 column per latent difficulty — from this generator or any other), :func:`simulate` runs the
narrowing and the monthly conference for one rule variant:

1. score every child with the variant (mimamori.learning.rules);
2. leave out the children already supported (the pipeline's own rule) and those whose earlier
   outcome still holds, exactly as ``child_exclusions``/``follow_ups`` do: 要支援, 調査継続 and
   経過観察 never come back as candidates; 支援不要 holds for 12 months unless a type score or the
   total points rose above its value in the month judged;
3. propose the top ``households_per_month`` households (fixed capacity);
4. judge each proposed child: the conference sees what the child has (its latent difficulties),
   imperfectly — :class:`Judgement` gives the outcome probabilities with and without a
   difficulty. Draws are keyed by (seed, month, child), so two rule variants that propose the
   same child in the same month get the same outcome (common random numbers: differences
   between rules are the rules', not the dice's).

The seed ``dbt_project/seeds/evaluation/type_latents.csv`` names, per type, the truth column(s)
that mean "this child has that difficulty"; another generator's columns are mapped by a file of
the same format. Person-level results stay in memory (and in the town): only aggregates leave.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mimamori import vocabulary

#: the conference's outcomes (dbt_project/seeds/rules/conference_outcomes.csv), in the seed's order
OUTCOMES = vocabulary.outcome_codes()
#: outcomes after which a child is never a candidate again (follow-up or supported): the seed's is_concern
FOLLOWED = vocabulary.concern_outcomes()
#: the outcome that makes a child "known to the town" at later conferences (要支援)
NEEDS_SUPPORT = vocabulary.needs_support_outcome()
NO_SUPPORT_MONTHS = 12

REPO = Path(__file__).resolve().parents[3]
TYPE_LATENTS = REPO / "dbt_project" / "seeds" / "evaluation" / "type_latents.csv"
KNOWN_REGISTERS = REPO / "dbt_project" / "seeds" / "evaluation" / "known_registers.csv"


@dataclass(frozen=True)
class Judgement:
    """Outcome probabilities of a discussed child. The conference sees any latent difficulty the
    child has (not only the type that flagged it) — imperfectly: it may judge 支援不要 for a child
    with one and 要支援 for a child without."""

    support_if_difficulty: float = 0.45
    watch_if_difficulty: float = 0.35  # 調査継続 or 経過観察 (half each)
    support_if_none: float = 0.04
    watch_if_none: float = 0.20

    def outcome(self, has_difficulty: bool, u: float) -> str:
        support, watch = (
            (self.support_if_difficulty, self.watch_if_difficulty)
            if has_difficulty
            else (self.support_if_none, self.watch_if_none)
        )
        if u < support:
            return "要支援"
        if u < support + watch / 2:
            return "調査継続"
        if u < support + watch:
            return "経過観察"
        return "支援不要"


def uniform(*key) -> float:
    """A number in [0, 1) fixed by ``key`` (sha256): the same child and month draw the same."""
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def load_type_latents(path: Path = TYPE_LATENTS) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with Path(path).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["type_code"], []).append(row["latent_column"])
    return out


def load_known_registers(path: Path = KNOWN_REGISTERS) -> dict[str, set[str]]:
    """kind → codes (item codes, already-supported rule codes, earlier outcomes)."""
    out: dict[str, set[str]] = {"item": set(), "already_supported": set(), "outcome": set()}
    with Path(path).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["kind"], set()).add(row["code"])
    return out


def load_truth(town_dir: Path, month: str, type_latents: dict[str, list[str]]) -> pd.DataFrame:
    """person_id and one boolean column per type (any of its latent columns is 1). A type whose
    columns the town does not have (another generator's latent model) gets no column and is
    listed in ``attrs["missing_types"]``: its yield is not measured, never guessed."""
    path = Path(town_dir) / "truth" / month / "children.csv"
    df = pd.read_csv(path, dtype={"atena_no": str})
    out = pd.DataFrame({"person_id": df["atena_no"].astype(str)})
    missing = []
    for type_code, columns in type_latents.items():
        present = [c for c in columns if c in df.columns]
        if not present:
            missing.append(type_code)
            continue
        out[type_code] = df[present].fillna(0).astype(int).max(axis=1).astype(bool)
    out.attrs["missing_types"] = missing
    return out


@dataclass
class MonthData:
    month: str
    children: pd.DataFrame  # person_id, household_id, age, age_band, sex, area, adults, is_already_supported
    matches: pd.DataFrame  # person_id, item_code
    truth: pd.DataFrame | None = None  # person_id, one bool per type


def known_to_town(month: MonthData, registers: dict[str, set[str]], earlier_support: set[str]) -> pd.Series:
    """Per child (index person_id): any record in a support register (seed known_registers)."""
    items = registers.get("item", set())
    by_item = set(month.matches.loc[month.matches["item_code"].isin(items), "person_id"])
    supported = set(month.children.loc[month.children["is_already_supported"].astype(bool), "person_id"])
    known = by_item | supported | (earlier_support if NEEDS_SUPPORT in registers.get("outcome", set()) else set())
    ids = month.children["person_id"]
    return pd.Series(ids.isin(known).to_numpy(), index=ids.to_numpy())


def simulate(
    rules,
    months: Iterable[MonthData],
    *,
    seed: int | str,
    judgement: Judgement | None = None,
    registers: dict[str, set[str]] | None = None,
) -> pd.DataFrame:
    """One row per discussed child and month: month, person_id, household_id, outcome,
    flagged_types (tuple), is_known, has_difficulty, one bool per type of the truth (``lat_<type>``),
    and the child's matched items (tuple) — the town's outcome history under ``rules``."""
    from mimamori.learning.rules import rank_households, total_points, type_scores

    judgement = judgement or Judgement()
    registers = registers if registers is not None else load_known_registers()
    last: dict[str, tuple[str, str, dict[str, int], int]] = {}  # person → (month, outcome, scores, points)
    month_index: dict[str, int] = {}
    earlier_support: set[str] = set()
    rows = []
    for i, md in enumerate(months):
        month_index[md.month] = i
        scores = type_scores(rules, md.matches, md.children)
        points = total_points(rules, md.matches, md.children)
        score_of = scores.pivot(index="person_id", columns="type_code", values="score")
        excluded = set(md.children.loc[md.children["is_already_supported"].astype(bool), "person_id"])
        for person, (m, outcome, then_scores, then_points) in last.items():
            if outcome in FOLLOWED:
                excluded.add(person)
            elif outcome == "支援不要" and i - month_index[m] <= NO_SUPPORT_MONTHS:
                now = score_of.loc[person] if person in score_of.index else None
                risen = now is not None and (
                    int(points.get(person, 0)) > then_points
                    or any(int(now.get(t, 0)) > s for t, s in then_scores.items())
                )
                if not risen:
                    excluded.add(person)
        households = rank_households(rules, scores, points, md.children, excluded)
        proposed = households[households["is_proposed"]]
        if proposed.empty:
            continue
        known = known_to_town(md, registers, earlier_support)
        flagged = scores[scores["is_flagged"]].groupby("person_id")["type_code"].apply(tuple)
        items = md.matches.groupby("person_id")["item_code"].apply(lambda s: tuple(sorted(s)))
        age_of = md.children.set_index("person_id")["age"]
        truth = md.truth.set_index("person_id") if md.truth is not None else None
        type_cols = [c for c in truth.columns] if truth is not None else []
        for _, hh in proposed.iterrows():
            for person in hh["person_ids"]:
                lat = truth.loc[person] if truth is not None and person in truth.index else None
                has = bool(lat is not None and lat.any())
                outcome = judgement.outcome(has, uniform(seed, md.month, person))
                row = {
                    "month": md.month,
                    "person_id": person,
                    "household_id": hh["household_id"],
                    "age": int(age_of.get(person, -1)),
                    "outcome": outcome,
                    "flagged_types": flagged.get(person, ()),
                    "items": items.get(person, ()),
                    "is_known": bool(known.get(person, False)),
                    "has_difficulty": has,
                }
                for t in type_cols:
                    row[f"lat_{t}"] = bool(lat[t]) if lat is not None else False
                rows.append(row)
                then = {t: int(v) for t, v in score_of.loc[person].items()} if person in score_of.index else {}
                last[person] = (md.month, outcome, then, int(points.get(person, 0)))
                if outcome == NEEDS_SUPPORT:
                    earlier_support.add(person)
    return pd.DataFrame(rows)
