"""Which counts of the monthly transparency report (the public's view) are shown: mimamori.sdc applied.

The report publishes, per month, counts of children (section 1), of households and conference
outcomes (section 2) and of corrections, hand entries and disclosure exports (section 7). For the
disclosure control they form independent groups — independent because no equation links them:

* **flags** (section 1): children in scope; per type, children in its age range and flagged;
  flagged in any type; the same by age band and by area (the two breakdowns of the same
  children), and the candidate households (at most the children flagged in any type). The
  attacker's unknowns are the age band × area cells (``history.flag_cells``): per cell the
  children C, the children flagged in any type A, per type the flagged F and, where the band is
  only partly in the type's age range, the children in range I — with what the rules make true
  of every cell (F ≤ I ≤ C, F ≤ A ≤ C, A ≤ ΣF). Any set of children gives such a cell and any
  such cell is made of children, so the attacker's bounds are exact. Months are not linked:
  children come, go, age and change, and no equation ties one month's cross-section to another's.
* **series** (section 2 outcomes, section 7 corrections): this month's count and the running
  total. The unknowns are the counts per month; total(M) = Σ month(m ≤ M), so every month's
  report constrains every other's — the stored decisions of the other months' reports
  (``history.sdc_report_cells``) are what the public has already read.
* **single counts** (hand entries, disclosure exports this month): nothing else adds up to them.

Threshold: seed ``rules.disclosure_rules`` (audience ``public``). ``history.sdc_report_cells``
keeps every decision with its true value and the attacker's bounds (the audit); it has no
grants: only the transformer reads it.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from mimamori import sdc, vocabulary

log = logging.getLogger("mimamori.report_protection")

#: the conference's outcomes in the seed's order (dbt_project/seeds/rules/conference_outcomes.csv)
OUTCOMES = vocabulary.outcome_codes()
#: the one meaning "needs support" (要支援), split by the yield table into known / not known
NEEDS_SUPPORT = vocabulary.needs_support_outcome()

AUDIT_DDL = """
create table if not exists history.sdc_report_cells (
    run_month text not null,
    cell_key text not null,
    label text not null,
    value integer not null,
    is_shown boolean not null,
    reason text not null,
    protects text,
    lower_bound double precision,
    upper_bound double precision,
    is_exact boolean not null default false,
    decided_at timestamptz not null default clock_timestamp(),
    primary key (run_month, cell_key)
)
"""


@dataclass
class ReportCells:
    """Display strings of the report's counts, by key; and the decisions for the audit."""

    threshold: int
    display: dict[tuple, str] = field(default_factory=dict)
    decisions: list[sdc.Decision] = field(default_factory=list)
    #: the yield table could not be protected this month (withheld, not printed)
    yield_withheld: bool = False

    def shown_value(self, key: tuple) -> int | None:
        """The count when shown, else None (derived figures are printed only from shown counts)."""
        for d in self.decisions:
            if d.key == key:
                return d.value if d.shown else None
        return None

    def get(self, key: tuple, default: str = sdc.NOT_APPLICABLE) -> str:
        return self.display.get(key, default)


def _relation(band: tuple[int, int], type_range: tuple[int, int]) -> str:
    lo, hi = band
    tlo, thi = type_range
    if hi < tlo or lo > thi:
        return "out"
    if lo >= tlo and hi <= thi:
        return "in"
    return "partial"


def _flag_values(cells: list[dict[str, Any]], type_range: dict[str, tuple[int, int]]) -> dict[tuple, int]:
    """The counts of the age band × area joint: children (C), any type (A), per type flagged (F)
    and in a type's age range (I)."""
    value: dict[tuple, int] = defaultdict(int)
    for c in cells:
        b, r, t = c["age_band"], c["area"], c["type_code"]
        if t == "_any":
            value[("C", b, r)] += int(c["children_in_age_range"])
            value[("A", b, r)] += int(c["flagged_count"])
        elif t in type_range:
            value[("F", t, b, r)] += int(c["flagged_count"])
            value[("I", t, b, r)] += int(c["children_in_age_range"])
    return value


def _flag_structure(var, band_codes, areas, type_codes, rel) -> list[sdc.Constraint]:
    """What the audience knows of how the counts of a cell relate (flagged ≤ in range ≤ children …)."""
    structure: list[sdc.Constraint] = []
    for b in band_codes:
        for r in areas:
            c, a = var("C", b, r), var("A", b, r)
            structure.append(sdc.Constraint(((a, 1.0), (c, -1.0)), upper=0))
            flagged = []
            for t in type_codes:
                kind = rel[(b, t)]
                if kind == "out":
                    continue
                f = var("F", t, b, r)
                flagged.append(f)
                if kind == "partial":
                    i = var("I", t, b, r)
                    structure.append(sdc.Constraint(((f, 1.0), (i, -1.0)), upper=0))
                    structure.append(sdc.Constraint(((i, 1.0), (c, -1.0)), upper=0))
                else:
                    structure.append(sdc.Constraint(((f, 1.0), (c, -1.0)), upper=0))
                structure.append(sdc.Constraint(((a, 1.0), (f, -1.0)), lower=0))
            structure.append(sdc.Constraint(((a, 1.0), *[(f, -1.0) for f in flagged]), upper=0))
    return structure


def _flag_quantities(quantity, type_codes, band_codes, areas, rel) -> list[sdc.Quantity]:
    """Section 1's counts: the scope, per type, per age band and per area."""
    qs = [quantity(("scope",), "対象のこども", lambda k: k[0] == "C")]
    for t in type_codes:
        qs.append(
            quantity(
                ("type", t, "in_range"),
                f"{t} 年齢の範囲",
                lambda k, t=t: (k[0] == "C" and rel[(k[1], t)] == "in") or (k[0] == "I" and k[1] == t),
            )
        )
        qs.append(quantity(("type", t, "flagged"), f"{t} 気づき", lambda k, t=t: k[0] == "F" and k[1] == t))
    qs.append(quantity(("any", "flagged"), "いずれかの類型", lambda k: k[0] == "A"))
    for b in band_codes:
        qs.append(quantity(("age_band", b, "children"), f"{b} こども", lambda k, b=b: k[0] == "C" and k[1] == b))
        for t in type_codes:
            if rel[(b, t)] != "out":
                qs.append(
                    quantity(
                        ("age_band", b, t), f"{b} {t}", lambda k, b=b, t=t: k[0] == "F" and k[1] == t and k[2] == b
                    )
                )
        qs.append(quantity(("age_band", b, "_any"), f"{b} いずれか", lambda k, b=b: k[0] == "A" and k[1] == b))
    for r in areas:
        qs.append(quantity(("area", r, "children"), f"{r} こども", lambda k, r=r: k[0] == "C" and k[2] == r))
        for t in type_codes:
            qs.append(quantity(("area", r, t), f"{r} {t}", lambda k, r=r, t=t: k[0] == "F" and k[1] == t and k[3] == r))
        qs.append(quantity(("area", r, "_any"), f"{r} いずれか", lambda k, r=r: k[0] == "A" and k[2] == r))
    return qs


def flag_model(
    cells: list[dict[str, Any]],
    types: list[dict[str, Any]],
    bands: list[dict[str, Any]],
    candidates: int | None,
    proposed: dict[tuple[str, str], int] | None = None,
) -> tuple[sdc.Space, list[sdc.Quantity]]:
    """The section-1 space and its counts. ``cells``: history.flag_cells rows of one month.
    ``proposed``: (age band, area) → children a proposed rule would flag in any type (its what-if
    of this month): one more unknown per cell, at most the cell's children, and the proposal's
    counts by age band and by area (docs/evaluation.md)."""
    type_codes = [t["type_code"] for t in types]
    type_range = {t["type_code"]: (int(t["min_age"]), int(t["max_age"])) for t in types}
    band_codes = [b["age_band"] for b in bands]
    band_range = {b["age_band"]: (int(b["min_age"]), int(b["max_age"])) for b in bands}
    areas = sorted({c["area"] for c in cells})
    value = _flag_values(cells, type_range)
    index: dict[tuple, int] = {}

    def var(*k) -> int:
        return index.setdefault(k, len(index))

    rel = {(b, t): _relation(band_range[b], type_range[t]) for b in band_codes for t in type_codes}
    structure = _flag_structure(var, band_codes, areas, type_codes, rel)
    households = None
    if candidates is not None:
        households = var("H")
        value[("H",)] = int(candidates)
        any_vars = [i for k, i in index.items() if k[0] == "A"]
        structure.append(sdc.Constraint(((households, 1.0), *[(a, -1.0) for a in any_vars]), upper=0))

    if proposed is not None:
        for b in band_codes:
            for r in areas:
                pv = var("P", b, r)
                value[("P", b, r)] = int(proposed.get((b, r), 0))
                structure.append(sdc.Constraint(((pv, 1.0), (index[("C", b, r)], -1.0)), upper=0))

    def quantity(key: tuple, label: str, keep) -> sdc.Quantity:
        atoms = frozenset(i for k, i in index.items() if keep(k))
        return sdc.Quantity(key, atoms, sum(value.get(k, 0) for k, i in index.items() if i in atoms), label)

    qs = _flag_quantities(quantity, type_codes, band_codes, areas, rel)
    if households is not None:
        qs.append(sdc.Quantity(("households", "candidates"), frozenset({households}), int(candidates), "候補世帯"))
    if proposed is not None:
        for b in band_codes:
            qs.append(quantity(("proposed", "age_band", b), f"提案 {b}", lambda k, b=b: k[0] == "P" and k[1] == b))
        for r in areas:
            qs.append(quantity(("proposed", "area", r), f"提案 {r}", lambda k, r=r: k[0] == "P" and k[2] == r))
    return sdc.Space(len(index), structure), qs


def series_model(
    name: str, per_month: dict[str, int], run_month: str, released: dict[tuple, tuple[int, bool]]
) -> tuple[sdc.Space, list[sdc.Quantity], list[sdc.Released]]:
    """A monthly count and its running total. ``per_month``: month → count now; ``released``:
    (name, kind, month) → (value, shown) of the other months' reports."""
    months = sorted({*per_month, run_month, *(k[2] for k in released)})
    index = {m: i for i, m in enumerate(months)}
    space = sdc.Space(len(months))

    def month_q(m: str, value: int) -> sdc.Quantity:
        return sdc.Quantity((name, "month", m), frozenset({index[m]}), value, f"{name} {m}")

    def total_q(m: str, value: int) -> sdc.Quantity:
        return sdc.Quantity(
            (name, "total", m), frozenset(i for mm, i in index.items() if mm <= m), value, f"{name} 累計 {m}"
        )

    quantities = [
        month_q(run_month, per_month.get(run_month, 0)),
        total_q(run_month, sum(v for m, v in per_month.items() if m <= run_month)),
    ]
    earlier = []
    for (n, kind, m), (v, shown) in sorted(released.items()):
        if n != name or m == run_month:
            continue
        q = month_q(m, v) if kind == "month" else total_q(m, v)
        earlier.append(sdc.Released(q, shown))
    return space, quantities, earlier


def _key_text(key: tuple) -> str:
    return json.dumps(list(key), ensure_ascii=False)


def released_cells(conn, run_month: str) -> dict[tuple, tuple[int, bool]]:
    """What the other months' reports showed (value, shown) for the series counts."""
    conn.execute(AUDIT_DDL)
    rows = conn.execute(
        "select cell_key, value, is_shown from history.sdc_report_cells where run_month <> %s", (run_month,)
    ).fetchall()
    out = {}
    for key_text, value, shown in rows:
        key = tuple(json.loads(key_text))
        if len(key) == 3 and key[1] in ("month", "total"):
            out[key] = (int(value), bool(shown))
    return out


YIELD_KINDS = ("discussed", "needs_support", "new")
_NEW, _REST = f"{NEEDS_SUPPORT}:new", f"{NEEDS_SUPPORT}:rest"
_OTHER = tuple(o for o in OUTCOMES if o != NEEDS_SUPPORT)


def yield_model(
    yield_rows: list[dict[str, Any]],
    outcomes_by_month: dict[str, dict[str, int]],
    run_month: str,
    series_months: list[str],
    released_yield: dict[tuple, tuple[int, bool]],
) -> tuple[sdc.Space, list[sdc.Quantity], list[sdc.Released], dict]:
    """The cumulative yield per type (outcome_yield of the month) over the outcome series' unknowns.

    Unknowns per judged month: the 要支援 not known / known to the town, and the three other
    outcomes (their sum per month is the public series); per type and month the discussed
    children flagged in the type among each of 要支援-new, 要支援-known and the other outcomes, each
    at most its month's total. Given only these counts, any such per-type counts are jointly
    possible (a child may be flagged in any set of types), so the attacker's bounds are exact.
    Published: per type the cumulative discussed, 要支援 and 要支援 not known. Returns the space,
    this month's quantities, the earlier months' yield cells as released, and (key → atoms) of
    the series' counts so the caller can release them too."""
    months = sorted({*series_months, *(r["judged_run_month"] for r in yield_rows), run_month})
    months = [m for m in months if m <= run_month]
    types = sorted({r["type_code"] for r in yield_rows if r["type_code"] != "_any"})
    index: dict[tuple, int] = {}

    def var(*k) -> int:
        return index.setdefault(k, len(index))

    structure = []
    for m in months:
        n = {c: var("N", m, c) for c in (_NEW, _REST, *_OTHER)}
        for t in types:
            for kind, totals in (("new", [n[_NEW]]), ("rest", [n[_REST]]), ("other", [n[o] for o in _OTHER])):
                x = var("X", t, m, kind)
                structure.append(sdc.Constraint(((x, 1.0), *[(v, -1.0) for v in totals]), upper=0))
    value: dict[int, int] = defaultdict(int)
    by = {(r["type_code"], r["judged_run_month"]): r for r in yield_rows}
    for m in months:
        a = by.get(("_any", m))
        if a is not None:
            value[index[("N", m, _NEW)]] = int(a["needs_support_new_count"])
            value[index[("N", m, _REST)]] = int(a["needs_support_count"]) - int(a["needs_support_new_count"])
        for o in _OTHER:
            value[index[("N", m, o)]] = int(outcomes_by_month.get(o, {}).get(m, 0))
        for t in types:
            r = by.get((t, m))
            if r is None:
                continue
            value[index[("X", t, m, "new")]] = int(r["needs_support_new_count"])
            value[index[("X", t, m, "rest")]] = int(r["needs_support_count"]) - int(r["needs_support_new_count"])
            value[index[("X", t, m, "other")]] = int(r["discussed_count"]) - int(r["needs_support_count"])

    def atoms(t: str, kind: str, upto: str) -> frozenset[int]:
        ms = [m for m in months if m <= upto]
        parts = {"discussed": ("new", "rest", "other"), "needs_support": ("new", "rest"), "new": ("new",)}[kind]
        if t == "_any":
            cats = {"new": (_NEW,), "rest": (_REST,), "other": _OTHER}
            return frozenset(index[("N", m, c)] for m in ms for p in parts for c in cats[p])
        return frozenset(index[("X", t, m, p)] for m in ms for p in parts)

    def quantity(t: str, kind: str, upto: str, v: int | None = None) -> sdc.Quantity:
        a = atoms(t, kind, upto)
        return sdc.Quantity(
            ("yield", t, kind, upto), a, sum(value.get(i, 0) for i in a) if v is None else v, f"{t} {kind} 累計 {upto}"
        )

    quantities = [quantity(t, k, run_month) for t in [*types, "_any"] for k in YIELD_KINDS]
    released = [
        sdc.Released(quantity(t, k, m, v), shown)
        for (_, t, k, m), (v, shown) in sorted(released_yield.items())
        if m < run_month and m in months and (t == "_any" or t in types)
    ]
    series_atoms = {}
    for m in months:
        series_atoms[(f"outcome:{NEEDS_SUPPORT}", "month", m)] = frozenset(
            {index[("N", m, _NEW)], index[("N", m, _REST)]}
        )
        for o in _OTHER:
            series_atoms[(f"outcome:{o}", "month", m)] = frozenset({index[("N", m, o)]})
    for o in (NEEDS_SUPPORT, *_OTHER):
        for m in months:
            series_atoms[(f"outcome:{o}", "total", m)] = frozenset(
                i for mm in months if mm <= m for i in series_atoms[(f"outcome:{o}", "month", mm)]
            )
    return sdc.Space(len(index), structure), quantities, released, series_atoms


def released_yield_cells(conn, run_month: str) -> dict[tuple, tuple[int, bool]]:
    conn.execute(AUDIT_DDL)
    out = {}
    for key_text, value, shown in conn.execute(
        "select cell_key, value, is_shown from history.sdc_report_cells where run_month <> %s and cell_key like %s",
        (run_month, '["yield"%'),
    ).fetchall():
        out[tuple(json.loads(key_text))] = (int(value), bool(shown))
    return out


def protect_yield(
    data: dict[str, Any],
    run_month: str,
    threshold: int,
    series: dict[tuple, tuple[int, bool]],
    released_yield: dict[tuple, tuple[int, bool]],
) -> list[sdc.Decision] | None:
    """Decisions for the yield table, or None when it must be withheld this month (its data no
    longer adds up with what was published, or it cannot be protected)."""
    rows = data.get("yield") or []
    if not rows:
        return []
    outcomes = data.get("outcomes_by_month", {})
    for r in rows:
        if r["type_code"] == "_any":
            total = sum(int(outcomes.get(o, {}).get(r["judged_run_month"], 0)) for o in OUTCOMES)
            if total != int(r["discussed_count"]):
                log.warning("yield of %s does not add up with the outcome series: withheld", run_month)
                return None
    series_months = sorted({k[2] for k in series})
    space, qs, released, series_atoms = yield_model(rows, outcomes, run_month, series_months, released_yield)
    for key, (v, shown) in series.items():
        if key in series_atoms:
            released.append(sdc.Released(sdc.Quantity(key, series_atoms[key], int(v)), shown))
    try:
        return list(sdc.protect(space, qs, threshold, released=released).decisions.values())
    except sdc.SDCError:
        log.warning("yield of %s cannot be protected together with what was published: withheld", run_month)
        return None


def protect_report(conn, data: dict[str, Any], run_month: str) -> ReportCells:
    """Decide every count of the report for ``run_month`` (``data``: report.gather's output)."""
    threshold = sdc.threshold_for(conn, "public")
    result = ReportCells(threshold)
    decisions: list[sdc.Decision] = []
    if data.get("cells"):
        space, qs = flag_model(
            data["cells"],
            data["types_enabled"],
            data["age_bands"],
            data["households"].get("candidates"),
            proposed=data.get("proposal_cells"),
        )
        decisions += list(sdc.protect(space, qs, threshold).decisions.values())
    released = released_cells(conn, run_month)
    series = {f"outcome:{o}": data.get("outcomes_by_month", {}).get(o, {}) for o in OUTCOMES}
    series["corrections"] = data.get("corrections_by_month", {})
    for name, per_month in series.items():
        space, qs, earlier = series_model(name, per_month, run_month, released)
        try:
            protection = sdc.protect(space, qs, threshold, released=earlier)
        except sdc.SDCError:
            # the earlier reports no longer add up with today's data (a decision was revised):
            # show nothing new of this series but zeros
            log.warning("series %s was revised since an earlier report: this month's counts hidden", name)
            protection = sdc.Protection(threshold)
            for q in qs:
                protection.decisions[q.key] = sdc.Decision(
                    q.key, q.label, q.value, q.value == 0, "zero" if q.value == 0 else "revised"
                )
        decisions += list(protection.decisions.values())
    # the cumulative yield per type: over the outcome series' unknowns, with every month's
    # series cells (this month's as just decided) and earlier yield cells as released
    series_now = {k: v for k, v in released.items() if k[0].startswith("outcome:")}
    for d in decisions:
        if len(d.key) == 3 and str(d.key[0]).startswith("outcome:"):
            series_now[d.key] = (d.value, d.shown)
    yield_decisions = protect_yield(data, run_month, threshold, series_now, released_yield_cells(conn, run_month))
    result.yield_withheld = yield_decisions is None
    decisions += yield_decisions or []
    for name in ("hand_entries", "disclosures"):
        v = int(data.get("counts", {}).get(name) or 0)
        q = sdc.Quantity((name, "single", run_month), frozenset({0}), v, name)
        decisions += list(sdc.protect(sdc.Space(1), [q], threshold).decisions.values())
    for d in decisions:
        result.display[d.key] = d.display
    result.decisions = decisions
    return result


def store_audit(conn, run_month: str, cells: ReportCells) -> None:
    """Replace the month's decisions in history.sdc_report_cells (no grants: the producer's audit)."""
    conn.execute(AUDIT_DDL)
    conn.execute("delete from history.sdc_report_cells where run_month = %s", (run_month,))
    for d in cells.decisions:
        conn.execute(
            "insert into history.sdc_report_cells (run_month, cell_key, label, value, is_shown, reason, protects,"
            " lower_bound, upper_bound, is_exact) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                run_month,
                _key_text(d.key),
                d.label,
                d.value,
                d.shown,
                d.reason,
                _key_text(d.protects) if d.protects else None,
                d.lower,
                d.upper,
                d.exact,
            ),
        )
