"""Per-type weights from outcome margins, regularised toward the current points.

The data are **margins**: per type, per feature of its rule (an item, or a count-once group as
one feature), among the discussed children in the type's age range, how many had the feature
and were judged 要支援 / something else, and the totals (:func:`margins_from_history`). One
town's margins are its own table; several towns' are strata (mimamori.pool).

The model, per type and feature, is a normal-approximation Bayesian update of the log odds
ratio of 要支援 between discussed children with and without the feature:

* each stratum's 2×2 table gives a log odds ratio with Haldane's ½ correction and its variance;
  strata are combined by inverse-variance weights (fixed effect) — the weight share is each
  town's **contribution**; a stratum whose table has a hidden cell adds nothing to that feature;
* the prior is centred on the current rule: mean ``SCALE × current points``, sd ``PRIOR_SD``
  (log-odds). With a handful of outcomes the prior dominates and the proposal stays at the
  current points; only data that outweigh it move a weight;
* whole-number points: ``round(posterior mean / SCALE)``, clipped to 0…``MAX_POINTS`` (0 drops the
  item from the type); an item of the required set keeps at least 1 point (the type's meaning).

``SCALE = ln 2``: one point means "doubles the odds of 要支援 among the children discussed". The
threshold is not fitted here: it is chosen in each town from its own months so that the type
flags about as many children as now (mimamori.learning.whatif), since it sets the workload.

Known bias (docs/evaluation.md): outcomes exist only for children the current rule proposed, and
the label is the child's outcome, not a per-type one; items are treated one at a time, so two
items that always come together both look strong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from mimamori import vocabulary

SCALE = math.log(2)
PRIOR_SD = 0.5
MAX_POINTS = 3
#: the positive class: the outcome that means "needs support" (dbt_project/seeds/rules/conference_outcomes.csv)
POSITIVE = vocabulary.needs_support_outcome()
NEGATIVE = "その他"
TOTAL = "_total"


def features_of(rules) -> dict[str, dict[str, list[str]]]:
    """type → feature → item codes (a count-once group is one feature named by its group key)."""
    out: dict[str, dict[str, list[str]]] = {}
    for ti in rules.type_items:
        out.setdefault(ti.type_code, {}).setdefault(ti.group, []).append(ti.item_code)
    return out


def margins_from_history(history: pd.DataFrame, rules, stratum: str = "town", positive=(POSITIVE,)) -> pd.DataFrame:
    """Margins of an outcome history (one row per discussed child-month with ``age``, ``items``
    and ``outcome``): stratum, type_code, feature, outcome_class, n."""
    rows = []
    feats = features_of(rules)
    if history.empty:
        return pd.DataFrame(columns=["stratum", "type_code", "feature", "outcome_class", "n"])
    cls = history["outcome"].map(lambda o: POSITIVE if o in positive else NEGATIVE)
    for t, fs in feats.items():
        rule = rules.types[t]
        in_range = (history["age"] >= rule.min_age) & (history["age"] <= rule.max_age)
        for c in (POSITIVE, NEGATIVE):
            sel = in_range & (cls == c)
            rows.append((stratum, t, TOTAL, c, int(sel.sum())))
            for f, items in fs.items():
                has = history["items"].map(lambda its, items=items: any(i in its for i in items))
                rows.append((stratum, t, f, c, int((sel & has).sum())))
    return pd.DataFrame(rows, columns=["stratum", "type_code", "feature", "outcome_class", "n"])


@dataclass
class FeatureFit:
    type_code: str
    feature: str
    items: list[str]
    current_points: int
    prior_mean: float
    log_odds_ratio: float | None  # the data's pooled estimate (None: no usable stratum)
    variance: float | None
    posterior_mean: float
    points: int
    contributions: dict[str, float] = field(default_factory=dict)  # stratum → weight share


def _stratum_lor(a: float, b: float, c: float, d: float) -> tuple[float, float]:
    a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    return math.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


def fit(margins: pd.DataFrame, rules, *, prior_sd: float = PRIOR_SD, scale: float = SCALE) -> list[FeatureFit]:
    """One :class:`FeatureFit` per type × feature of ``rules``. ``margins``: stratum, type_code,
    feature, outcome_class, n (NaN = hidden: that stratum's table is not used for the feature)."""
    out = []
    current = {(ti.type_code, ti.group): ti.weight for ti in rules.type_items}
    required = {(ti.type_code, ti.group) for ti in rules.type_items if ti.is_required}
    m = margins.set_index(["stratum", "type_code", "feature", "outcome_class"])["n"]
    strata = sorted(margins["stratum"].unique()) if not margins.empty else []
    for t, fs in features_of(rules).items():
        for f, items in fs.items():
            w_cur = int(current[(t, f)])
            mu0 = scale * w_cur
            lors, weights = {}, {}
            for s in strata:
                try:
                    a = m[(s, t, f, POSITIVE)]
                    b = m[(s, t, f, NEGATIVE)]
                    tp = m[(s, t, TOTAL, POSITIVE)]
                    tn = m[(s, t, TOTAL, NEGATIVE)]
                except KeyError:
                    continue
                if any(pd.isna(v) for v in (a, b, tp, tn)) or tp + tn == 0:
                    continue
                lor, var = _stratum_lor(a, b, tp - a, tn - b)
                lors[s], weights[s] = lor, 1 / var
            if weights:
                total_w = sum(weights.values())
                lor = sum(weights[s] * lors[s] for s in weights) / total_w
                var = 1 / total_w
                post = (mu0 / prior_sd**2 + lor / var) / (1 / prior_sd**2 + 1 / var)
                contributions = {s: weights[s] / total_w for s in weights}
            else:
                lor, var, post, contributions = None, None, mu0, {}
            points = int(min(MAX_POINTS, max(0, round(post / scale))))
            if (t, f) in required:
                points = max(1, points)
            out.append(FeatureFit(t, f, items, w_cur, mu0, lor, var, post, points, contributions))
    return out


def proposed_weights(fits: list[FeatureFit]) -> dict[tuple[str, str], int]:
    """(type, item) → points (every item of a group gets the group's points: it counts once)."""
    return {(f.type_code, item): f.points for f in fits for item in f.items}


def contributions_by_stratum(fits: list[FeatureFit]) -> pd.DataFrame:
    """Per type and stratum: the mean weight share over the type's features with data."""
    rows = []
    for f in fits:
        for s, share in f.contributions.items():
            rows.append((f.type_code, s, share))
    if not rows:
        return pd.DataFrame(columns=["type_code", "stratum", "share"])
    df = pd.DataFrame(rows, columns=["type_code", "stratum", "share"])
    return df.groupby(["type_code", "stratum"], as_index=False)["share"].mean()
