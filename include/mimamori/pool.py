"""Pooled evaluation across towns: margins that may leave a town, and one proposal from several.

``python -m mimamori.pool export --out FILE [--months 12]`` writes the town's statistics that may
leave it; ``python -m mimamori.pool fit FILE… --out DIR`` combines several towns' exports into one
proposal with each town's contribution. No person-level row ever leaves a town
(docs/evaluation.md).

**Why margins, not coefficients with their covariance.** A town's coefficients from a few dozen
outcomes carry single children: an item matched by one discussed child moves its coefficient by
that child's outcome alone, and no count-based disclosure control can say how much a
coefficient reveals. Margins are counts, so :mod:`mimamori.sdc` protects them exactly as it
protects the transparency report — primary and complementary suppression, checked by an attacker
over everything the receiver can read — and pooling them is a sum over towns (each town a
stratum), so each town's contribution is plain to see (fit.py's inverse-variance weights).

**What is exported**, for a period of judged months (≥ 12 by default): per type, among the
children the conference discussed who were in the type's age range, the number judged 要支援 and
the number judged otherwise, and per feature of the type's rule (an item, or a count-once group)
the same two numbers among those with the feature. Every count goes through ``sdc.protect`` at the
analyst threshold (``rules.disclosure_rules``) with:

* the exact structure of the counts: unknowns per judged month × age segment (the ages cut where a
  type's range starts or ends) × outcome, and per feature; a feature's count never exceeds its
  segment's total; given only these margins any per-feature counts up to the total are jointly
  possible (features are independent attributes of the same children), so the attacker's bounds
  are the real ones;
* what the receiver already holds: the public transparency report's outcome series (every
  month's count per outcome and its running total, as shown or hidden — ``history.sdc_report_cells``)
  and every earlier pool export (``history.pool_export_cells``): a later period minus an earlier
  one is the months between, which the attacker solves together.

Known limit: facts between items that hold in the data but are not rules (一時保護 implies a 要対協
record) are not given to the attacker.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mimamori import sdc, vocabulary

log = logging.getLogger("mimamori.pool")

FORMAT = "mimamori-pool-margins/1"
#: the conference's outcomes and the one that is the positive class (要支援):
#: dbt_project/seeds/rules/conference_outcomes.csv
OUTCOMES = vocabulary.outcome_codes()
POSITIVE = vocabulary.needs_support_outcome()
NEGATIVE = "その他"
CLASSES = (POSITIVE, NEGATIVE)
TOTAL = "_total"
DEFAULT_MONTHS = 12

AUDIT_DDL = """
create table if not exists history.pool_export_cells (
    export_id text not null,
    period_start text not null,
    period_end text not null,
    cell_key text not null,
    value integer not null,
    is_shown boolean not null,
    exported_at timestamptz not null default clock_timestamp(),
    primary key (export_id, cell_key)
)
"""


def _class(outcome: str) -> str:
    return POSITIVE if outcome == POSITIVE else NEGATIVE


def segments(types: Sequence[dict]) -> list[tuple[int, int]]:
    """The ages 0–18 cut wherever a type's range starts or ends: every type's range is a union."""
    cuts = {0, 19}
    for t in types:
        cuts.add(int(t["min_age"]))
        cuts.add(int(t["max_age"]) + 1)
    cuts = sorted(c for c in cuts if 0 <= c <= 19)
    return [(a, b - 1) for a, b in zip(cuts, cuts[1:], strict=False)]


def _in(seg: tuple[int, int], t: dict) -> bool:
    return int(t["min_age"]) <= seg[0] and seg[1] <= int(t["max_age"])


def type_spec(rules) -> list[dict]:
    """The types and features the export covers (from the rules in force)."""
    from mimamori.learning.fit import features_of

    feats = features_of(rules)
    out = []
    for t, fs in feats.items():
        r = rules.types[t]
        if not r.is_enabled:
            continue
        weights = {ti.group: ti.weight for ti in rules.items_of(t)}
        required = {ti.group for ti in rules.items_of(t) if ti.is_required}
        out.append(
            {
                "type_code": t,
                "min_age": r.min_age,
                "max_age": r.max_age,
                "features": [
                    {"feature": f, "items": sorted(items), "current_points": weights[f], "is_required": f in required}
                    for f, items in fs.items()
                ],
            }
        )
    return out


@dataclass
class Model:
    """The attacker's unknowns for a set of judged months and the quantities over them."""

    months: list[str]
    types: list[dict]
    segs: list[tuple[int, int]] = field(default_factory=list)
    index: dict[tuple, int] = field(default_factory=dict)
    structure: list[sdc.Constraint] = field(default_factory=list)

    def __post_init__(self):
        self.segs = segments(self.types)
        features = {}
        for t in self.types:
            for f in t["features"]:
                features.setdefault(tuple(f["items"]), set()).update(s for s in self.segs if _in(s, t))
        self.features = features
        for m in self.months:
            for s in self.segs:
                t_vars = {o: self.var("T", m, s, o) for o in OUTCOMES}
                for items, segs_of in features.items():
                    if s not in segs_of:
                        continue
                    for c in CLASSES:
                        a = self.var("A", m, s, items, c)
                        tot = [t_vars[POSITIVE]] if c == POSITIVE else [t_vars[o] for o in OUTCOMES if o != POSITIVE]
                        self.structure.append(sdc.Constraint(((a, 1.0), *[(v, -1.0) for v in tot]), upper=0))

    def var(self, *key) -> int:
        return self.index.setdefault(key, len(self.index))

    def space(self) -> sdc.Space:
        return sdc.Space(len(self.index), self.structure)

    def total_atoms(self, months: Sequence[str], t: dict, c: str) -> frozenset[int]:
        outs = [POSITIVE] if c == POSITIVE else [o for o in OUTCOMES if o != POSITIVE]
        return frozenset(self.index[("T", m, s, o)] for m in months for s in self.segs if _in(s, t) for o in outs)

    def feature_atoms(self, months: Sequence[str], t: dict, items: tuple, c: str) -> frozenset[int]:
        return frozenset(self.index[("A", m, s, items, c)] for m in months for s in self.segs if _in(s, t))

    def outcome_atoms(self, months: Sequence[str], outcome: str) -> frozenset[int]:
        return frozenset(self.index[("T", m, s, outcome)] for m in months for s in self.segs)

    def values(self, history: pd.DataFrame) -> dict[int, int]:
        """True value of every unknown from the outcome history (age, items, outcome, judged month)."""
        vals: dict[int, int] = {}
        for row in history.itertuples():
            m = row.judged_run_month
            if m not in self.months or row.age is None or pd.isna(row.age):
                continue
            seg = next((s for s in self.segs if s[0] <= int(row.age) <= s[1]), None)
            if seg is None:
                continue
            i = self.index[("T", m, seg, row.outcome)]
            vals[i] = vals.get(i, 0) + 1
            items = set(row.items or ())
            for feat, segs_of in self.features.items():
                if seg in segs_of and items & set(feat):
                    j = self.index[("A", m, seg, feat, _class(row.outcome))]
                    vals[j] = vals.get(j, 0) + 1
        return vals


def _key(period: tuple[str, str], *parts) -> tuple:
    return ("pool", period[0], period[1], *parts)


def export_quantities(
    model: Model, period_months: list[str], values: dict[int, int]
) -> list[tuple[dict, sdc.Quantity]]:
    """(cell, quantity) per exported count; cells with identical atoms share one quantity."""
    period = (period_months[0], period_months[-1])
    by_atoms: dict[frozenset, sdc.Quantity] = {}
    out = []

    def quantity(atoms: frozenset, key: tuple, label: str) -> sdc.Quantity:
        if atoms not in by_atoms:
            by_atoms[atoms] = sdc.Quantity(key, atoms, sum(values.get(i, 0) for i in atoms), label)
        return by_atoms[atoms]

    for t in model.types:
        for c in CLASSES:
            q = quantity(
                model.total_atoms(period_months, t, c), _key(period, t["type_code"], TOTAL, c), f"{t['type_code']} {c}"
            )
            out.append(({"type_code": t["type_code"], "feature": TOTAL, "outcome_class": c}, q))
            for f in t["features"]:
                atoms = model.feature_atoms(period_months, t, tuple(f["items"]), c)
                q = quantity(
                    atoms, _key(period, t["type_code"], f["feature"], c), f"{t['type_code']} {f['feature']} {c}"
                )
                out.append(({"type_code": t["type_code"], "feature": f["feature"], "outcome_class": c}, q))
    return out


def report_series_released(model: Model, report_cells: dict[tuple, tuple[int, bool]]) -> list[sdc.Released]:
    """The public report's outcome series (key ("outcome:<o>", "month"|"total", month) → (value,
    shown)) as released quantities over the model's unknowns (the model covers every judged
    month of the history, so a running total is the sum of the model's months up to it)."""
    out = []
    for (name, kind, m), (value, shown) in sorted(report_cells.items()):
        if not name.startswith("outcome:") or m not in model.months:
            continue
        o = name.split(":", 1)[1]
        months = [m] if kind == "month" else [x for x in model.months if x <= m]
        out.append(
            sdc.Released(
                sdc.Quantity(("report", name, kind, m), model.outcome_atoms(months, o), int(value)), bool(shown)
            )
        )
    return out


@dataclass
class Export:
    document: dict
    protection: sdc.Protection
    quantities: list[sdc.Quantity]
    #: (cell, quantity) in the order of ``document["cells"]`` (true values: never leaves the town)
    cells: list[tuple[dict, sdc.Quantity]] = field(default_factory=list, repr=False)

    def cells_for_audit(self) -> list[tuple[str, int, bool]]:
        return [
            (json.dumps(list(q.key), ensure_ascii=False), q.value, self.protection.decisions[q.key].shown)
            for q in self.quantities
        ]


def export_margins(
    history: pd.DataFrame,
    rules,
    period_months: list[str],
    *,
    threshold: int,
    town: str = "",
    report_cells: dict[tuple, tuple[int, bool]] | None = None,
    earlier: Sequence[tuple[list[str], list[tuple[tuple, int, bool]]]] = (),
) -> Export:
    """Protect and package the margins of ``history`` (one row per discussed child-month:
    judged_run_month, outcome, age, items) for ``period_months``. ``report_cells``: the public
    report's outcome series; ``earlier``: (period months, [(key, value, shown)]) of earlier
    exports. Raises sdc.SDCError when it cannot be protected (then nothing is exported)."""
    if len(period_months) < 1:
        raise ValueError("an export covers at least one judged month")
    earlier_months = [m for months, _ in earlier for m in months]
    report_months = sorted({k[2] for k in (report_cells or {})})
    all_months = sorted(
        {
            *period_months,
            *earlier_months,
            *[m for m in report_months if m <= period_months[-1]],
            *history["judged_run_month"].dropna().unique().tolist(),
        }
    )
    all_months = [m for m in all_months if m <= max(period_months[-1], *(earlier_months or [period_months[-1]]))]
    types = type_spec(rules)
    model = Model(all_months, types)
    values = model.values(history)
    cells = export_quantities(model, period_months, values)
    quantities = list({q.key: q for _, q in cells}.values())
    released = report_series_released(model, report_cells or {})
    for months, decided in earlier:
        by_key = {tuple(k): (v, s) for k, v, s in decided}
        for _cell, q in export_quantities(model, months, values):
            if q.key in by_key:
                v, s = by_key[q.key]
                released.append(sdc.Released(sdc.Quantity(q.key, q.atoms, int(v), q.label), bool(s)))
    released = list({r.quantity.key: r for r in released}.values())
    protection = sdc.protect(model.space(), quantities, threshold, released=released)
    rows = []
    for cell, q in cells:
        d = protection.decisions[q.key]
        rows.append({**cell, "value": q.value if d.shown else None, "display": d.display})
    document = {
        "format": FORMAT,
        "town": town,
        "period": {"start": period_months[0], "end": period_months[-1], "months": list(period_months)},
        "threshold": threshold,
        "outcome_classes": list(CLASSES),
        "population": "children discussed at the conference in the type's age range (age on the judged month)",
        "types": types,
        "cells": rows,
        "suppressed": sum(1 for r in rows if r["value"] is None),
    }
    log.info("pool export %s–%s: %s", period_months[0], period_months[-1], protection.counts())
    return Export(document, protection, quantities, cells)


# --- combining several towns ---------------------------------------------------------------------


def margins_of(document: dict, stratum: str | None = None) -> pd.DataFrame:
    """An export's cells as fit margins (stratum, type_code, feature, outcome_class, n; NaN = hidden)."""
    if document.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    name = stratum or document.get("town") or "town"
    rows = [
        (
            name,
            c["type_code"],
            c["feature"],
            c["outcome_class"],
            float("nan") if c["value"] is None else int(c["value"]),
        )
        for c in document["cells"]
    ]
    return pd.DataFrame(rows, columns=["stratum", "type_code", "feature", "outcome_class", "n"])


def pool_fit(documents: Sequence[dict], rules, *, names: Sequence[str] | None = None):
    """One set of fitted features from several towns' exports (each town a stratum)."""
    from mimamori.learning import fit

    names = list(names or [d.get("town") or f"town{i + 1}" for i, d in enumerate(documents)])
    if len(set(names)) != len(names):
        names = [f"{n}#{i + 1}" for i, n in enumerate(names)]
    margins = pd.concat([margins_of(d, n) for d, n in zip(documents, names, strict=True)], ignore_index=True)
    return fit.fit(margins, rules), margins


def contribution_table(fits, margins: pd.DataFrame) -> pd.DataFrame:
    """Per town: discussed children exported (shown totals), hidden cells, and its mean weight
    share per type (its contribution to the pooled estimate)."""
    from mimamori.learning import fit as fit_mod

    shares = fit_mod.contributions_by_stratum(fits)
    wide = shares.pivot(index="stratum", columns="type_code", values="share").fillna(0.0) if not shares.empty else None
    rows = []
    for s, g in margins.groupby("stratum"):
        tot = g[(g["feature"] == TOTAL) & (g["type_code"] == g["type_code"].iloc[0])]
        row: dict[str, Any] = {
            "town": s,
            "discussed": int(tot["n"].sum()) if tot["n"].notna().all() else None,
            "hidden_cells": int(g["n"].isna().sum()),
        }
        if wide is not None and s in wide.index:
            row.update({f"share_{t}": round(float(v), 3) for t, v in wide.loc[s].items()})
        rows.append(row)
    return pd.DataFrame(rows)


# --- the command line (in a town: reads its warehouse) ---------------------------------------------


def _history_from_warehouse(conn, end_month: str) -> pd.DataFrame:
    cur = conn.execute(
        "select judged_run_month, outcome, age, matched_items from published.conference_outcome_history"
        " where judged_run_month <= %s",
        (end_month,),
    )
    df = pd.DataFrame(cur.fetchall(), columns=["judged_run_month", "outcome", "age", "matched_items"])
    df["items"] = df["matched_items"].map(lambda s: tuple((s or "").split()))
    return df


def _report_cells(conn) -> dict[tuple, tuple[int, bool]]:
    if not conn.execute("select to_regclass('history.sdc_report_cells') is not null").fetchone()[0]:
        return {}
    out = {}
    for key_text, value, shown in conn.execute(
        "select cell_key, value, is_shown from history.sdc_report_cells"
    ).fetchall():
        key = tuple(json.loads(key_text))
        if len(key) == 3 and str(key[0]).startswith("outcome:"):
            out[key] = (int(value), bool(shown))
    return out


def _earlier_exports(conn) -> list[tuple[list[str], list[tuple[tuple, int, bool]]]]:
    conn.execute(AUDIT_DDL)
    rows = conn.execute(
        "select export_id, period_start, period_end, cell_key, value, is_shown from history.pool_export_cells"
        " order by export_id"
    ).fetchall()
    by_export: dict[str, tuple[tuple[str, str], list]] = {}
    for export_id, start, end, key, value, shown in rows:
        by_export.setdefault(export_id, ((start, end), []))[1].append((tuple(json.loads(key)), value, shown))
    out = []
    for (start, end), cells in by_export.values():
        out.append((_month_span(start, end), cells))
    return out


def _month_span(start: str, end: str) -> list[str]:
    from mimamori.months import next_month

    out, m = [], start
    while m <= end:
        out.append(m)
        m = next_month(m)
    return out


def cmd_export(args) -> int:
    from mimamori import db
    from mimamori.learning.rules import RuleSet
    from mimamori.months import validate_month
    from mimamori.settings import get_settings

    settings = get_settings()
    rules = RuleSet.load()
    with db.connect(settings, role="transformer") as conn:
        end = (
            args.end_month
            or conn.execute("select max(judged_run_month) from published.conference_outcome_history").fetchone()[0]
        )
        if end is None:
            print("会議の判定の記録がありません（エクスポートするものがありません）", file=sys.stderr)
            return 1
        validate_month(end)
        earlier = _earlier_exports(conn)
        if args.start_month:
            start = validate_month(args.start_month)
        elif earlier:
            # by default a new export starts after the last one: disjoint periods cannot be
            # subtracted from each other (an overlapping one is checked, and refused if narrow)
            from mimamori.months import next_month

            start = next_month(max(months[-1] for months, _ in earlier))
        else:
            start = _minus_months(end, args.months - 1)
        months = _month_span(start, end)
        if len(months) < args.months:
            print(
                f"判定月が {len(months)} か月しかありません（{args.months} か月以上必要：--months で変更）",
                file=sys.stderr,
            )
            return 1
        history = _history_from_warehouse(conn, end)
        threshold = sdc.threshold_for(conn, "analyst")
        try:
            result = export_margins(
                history,
                rules,
                months,
                threshold=threshold,
                town=args.town,
                report_cells=_report_cells(conn),
                earlier=earlier,
            )
        except sdc.SDCError:
            print(
                "この期間の集計は、公開報告や前回のエクスポートと合わせると少人数の欄が計算で分かってしまうため、"
                "出力しません（期間を前回と重ならないようにしてください）",
                file=sys.stderr,
            )
            return 1
        export_id = hashlib.sha256(json.dumps(result.document, sort_keys=True).encode()).hexdigest()[:16]
        with conn.transaction():
            conn.execute(AUDIT_DDL)
            for key, value, shown in result.cells_for_audit():
                conn.execute(
                    "insert into history.pool_export_cells (export_id, period_start, period_end, cell_key, value,"
                    " is_shown) values (%s, %s, %s, %s, %s, %s) on conflict do nothing",
                    (export_id, months[0], months[-1], key, value, shown),
                )
    Path(args.out).write_text(json.dumps(result.document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(
        f"{args.out}: {len(result.document['cells'])} counts, {result.document['suppressed']} hidden "
        f"({months[0]}–{months[-1]})"
    )
    return 0


def _minus_months(month: str, n: int) -> str:
    y, m = map(int, month.split("-"))
    total = y * 12 + (m - 1) - n
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def cmd_fit(args) -> int:
    from mimamori.learning import proposal
    from mimamori.learning.rules import RuleSet

    rules = RuleSet.load()
    documents = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args.exports]
    fits, margins = pool_fit(documents, rules)
    contrib = contribution_table(fits, margins)
    out = Path(args.out)
    proposal.write_weights(out, rules, fits, title=f"{len(documents)} 町のまとめ（pool fit）")
    contrib.to_csv(out / "contributions.csv", index=False)
    print(contrib.to_string(index=False))
    print(
        f"proposed weights: {out / 'weights.csv'} (thresholds are chosen in each town: python -m mimamori.learning propose --weights …)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimamori.pool", description="複数の町での検証（集計のみを町の外へ）"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="町の外に出せる集計（型×項目×判定、秘匿処理済み）を書く")
    e.add_argument("--out", required=True)
    e.add_argument("--months", type=int, default=DEFAULT_MONTHS, help="判定月の数（既定 12）")
    e.add_argument("--end-month", default=None, help="最後の判定月（既定：記録の最新）")
    e.add_argument("--start-month", default=None, help="最初の判定月（既定：前回のエクスポートの次の月）")
    e.add_argument("--town", default="", help="町の名前（ファイルに書く）")
    f = sub.add_parser("fit", help="複数の町のエクスポートから一つの提案をつくる")
    f.add_argument("exports", nargs="+")
    f.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return cmd_export(args) if args.command == "export" else cmd_fit(args)


if __name__ == "__main__":
    sys.exit(main())
