"""An attacker on what each audience can read: exact integer bounds of every hidden count.

Written apart from mimamori.sdc on purpose (it shares no code with it): it reads what the
audience reads — the public, every month's transparency report as published HTML — and
derives everything from there: the counts shown, the cells hidden, what the report itself says
about the rules (the types' age ranges, the age bands), zeros never hidden (the legend says so).

Public model (per month): unknowns per age band × area cell (the joint the report never shows):
children C, children flagged in any type A, per type the flagged F and, where the band is only
partly inside the type's age range, the children in range I; per report the candidate households
H (≤ ΣA) and on older reports the proposed households P (≤ H). Facts: F ≤ I ≤ C, F ≤ C, F ≤ A ≤ C,
A ≤ ΣF. Every shown count is an equation, every hidden one ≥ 1. Series (outcomes, corrections):
one unknown per calendar month and one for before the first report; "this month" is its month,
the running total the sum up to it — across all the reports read. Bounds by linear programming
(outer) and integer programming (exact; HiGHS through scipy).

Also usable on its own against any state folder (e.g. today's main before the change):
    python tests/disclosure/attacker.py .local/test/reports
prints per month the hidden cells it narrows below the threshold (labels and widths only).
"""

from __future__ import annotations

import math
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

HIDDEN = "hidden"
NOT_A_COUNT = "n/a"


class _Tables(HTMLParser):
    """Every <table> of a page as a list of rows of cell texts (header row included)."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def value_of(text: str):
    """A shown count (int), HIDDEN, or NOT_A_COUNT ('—')."""
    text = text.strip()
    if text in ("—", "-", ""):
        return NOT_A_COUNT
    if re.fullmatch(r"[0-9][0-9,]*", text):
        return int(text.replace(",", ""))
    return HIDDEN


def _range(label: str) -> tuple[int, int]:
    m = re.search(r"(\d+)～(\d+)歳", label)
    if not m:
        raise ValueError(f"no age range in {label!r}")
    return int(m.group(1)), int(m.group(2))


@dataclass
class PublicReport:
    """What one month's transparency report tells the public."""

    month: str
    scope: object = None
    any_flagged: object = None
    types: dict[str, tuple[int, int]] = field(default_factory=dict)  # label → age range
    type_totals: dict[str, tuple[object, object]] = field(default_factory=dict)  # label → (in range, flagged)
    bands: dict[str, tuple[int, int]] = field(default_factory=dict)
    band_rows: dict[str, dict[str, object]] = field(default_factory=dict)  # band label → column → value
    area_rows: dict[str, dict[str, object]] = field(default_factory=dict)
    candidates: object = None
    proposed: object = None
    outcomes: dict[str, tuple[object, object]] = field(default_factory=dict)  # outcome → (month, total)
    corrections: tuple[object, object] | None = None  # (month, total)
    singles: dict[str, object] = field(default_factory=dict)


def parse_report(month: str, text: str) -> PublicReport:
    r = PublicReport(month)
    m = re.search(r"対象のこども（0～18歳）：<b>([^<]*)人</b>", text)
    r.scope = value_of(m.group(1)) if m else None
    m = re.search(r"いずれかの類型で基準点数に達したこども：<b>([^<]*)人</b>", text)
    r.any_flagged = value_of(m.group(1)) if m else None
    parser = _Tables()
    parser.feed(text)
    for table in parser.tables:
        head, body = table[0], table[1:]
        if head[:2] == ["類型", "年齢"]:
            for row in body:
                r.types[row[0]] = _range(row[1])
        elif head[:2] == ["困難の類型", "年齢の範囲にいるこども"]:
            # section 1's type totals; section 2's yield table (困難の類型, 会議で検討したこども, …)
            # is not this system's: its protection, linked to the outcome series over several
            # months, is attacked in tests/learning/test_report_yield.py
            for row in body:
                r.type_totals[row[0]] = (value_of(row[1]), value_of(row[2]))
        elif head and head[0] in ("年齢区分", "地区（町名）") and len(head) > 2 and head[1] == "こどもの数":
            target = r.band_rows if head[0] == "年齢区分" else r.area_rows
            for row in body:
                target[row[0]] = {h: value_of(v) for h, v in zip(head[1:], row[1:], strict=True)}
        elif head == ["項目", "件数"]:
            for label, v in body:
                if label.startswith("絞り込み後の候補世帯"):
                    r.candidates = value_of(v)
                elif label.startswith("会議に提案した世帯"):
                    r.proposed = value_of(v)
                elif label.startswith("この月に記録されたデータ訂正"):
                    r.corrections = (value_of(v), (r.corrections or (None, None))[1])
                elif label.startswith("有効なデータ訂正の累計"):
                    r.corrections = ((r.corrections or (None, None))[0], value_of(v))
                elif label.startswith("この月に手入力された項目"):
                    r.singles["hand_entries"] = value_of(v)
                elif label.startswith("この月の開示請求による出力"):
                    r.singles["disclosures"] = value_of(v)
        elif head and head[0] == "会議の判定":
            for row in body:
                r.outcomes[row[0]] = (value_of(row[1]), value_of(row[2]))
    for label in r.band_rows:
        r.bands[label] = _range(label)
    return r


# --- the linear system ----------------------------------------------------------------------------


class System:
    """Non-negative integer unknowns with equations and inequalities; bounds of linear forms."""

    def __init__(self):
        self.names: dict[tuple, int] = {}
        self.rows: list[tuple[dict[int, float], float, float]] = []  # (coefs, lower, upper)

    def var(self, *name) -> int:
        return self.names.setdefault(name, len(self.names))

    def add(self, coefs: dict[int, float], lower: float, upper: float) -> None:
        self.rows.append((coefs, lower, upper))

    def observe(self, form: dict[int, float], value) -> None:
        """A published count: shown → equation; hidden → ≥ 1 (zeros are never hidden)."""
        if value is None or value == NOT_A_COUNT:
            return
        if value == HIDDEN:
            self.add(form, 1, math.inf)
        else:
            self.add(form, value, value)

    def _matrices(self):
        from scipy.sparse import csr_matrix

        n = len(self.names)
        r, c, v = [], [], []
        for i, (coefs, _, _) in enumerate(self.rows):
            for j, x in coefs.items():
                r.append(i)
                c.append(j)
                v.append(x)
        a = csr_matrix((v, (r, c)), shape=(len(self.rows), n))
        lo = np.array([x[1] for x in self.rows], dtype=float)
        hi = np.array([x[2] for x in self.rows], dtype=float)
        return n, a, lo, hi

    def bounds(self, form: dict[int, float], *, integer: bool, time_limit: float = 60.0) -> tuple[float, float, bool]:
        """(lower, upper, exact). LP: outer bounds. IP: the optimum (exact), or on a time limit
        the incumbents — values proven reachable — with exact=False."""
        from scipy.optimize import Bounds, LinearConstraint, linprog, milp

        n, a, lo, hi = self._matrices()
        c = np.zeros(n)
        for j, x in form.items():
            c[j] = x
        out, exact = [], True
        for sign in (1.0, -1.0):
            if not integer:
                eq = lo == hi
                a_eq, b_eq = a[np.flatnonzero(eq)], lo[eq]
                ub_rows, ub_rhs = [], []
                fin_hi = (~eq) & np.isfinite(hi)
                fin_lo = (~eq) & np.isfinite(lo)
                from scipy.sparse import vstack

                blocks = []
                if fin_hi.any():
                    blocks.append(a[np.flatnonzero(fin_hi)])
                    ub_rhs.append(hi[fin_hi])
                if fin_lo.any():
                    blocks.append(-a[np.flatnonzero(fin_lo)])
                    ub_rhs.append(-lo[fin_lo])
                a_ub = vstack(blocks) if blocks else None
                b_ub = np.concatenate(ub_rhs) if ub_rhs else None
                del ub_rows
                res = linprog(sign * c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
                if res.status == 3:
                    out.append(-sign * math.inf)
                    continue
                if res.status != 0:
                    raise RuntimeError(f"LP: {res.message}")
                out.append(sign * res.fun)
            else:
                res = milp(
                    sign * c,
                    integrality=np.ones(n),
                    bounds=Bounds(0, np.inf),
                    constraints=[LinearConstraint(a, lo, hi)],
                    options={"time_limit": time_limit},
                )
                if res.status == 0:
                    out.append(round(sign * res.fun))
                elif res.status == 3 or "unbounded" in str(res.message).lower():
                    out.append(-sign * math.inf)
                elif res.x is not None:
                    out.append(round(sign * res.fun))
                    exact = False
                else:
                    raise RuntimeError(f"IP: {res.message}")
        return out[0], out[1], exact


@dataclass
class Finding:
    audience: str
    month: str
    cell: str
    lower: float
    upper: float
    exact: bool

    @property
    def width(self) -> float:
        return self.upper - self.lower


def _relation(band: tuple[int, int], rng: tuple[int, int]) -> str:
    if band[1] < rng[0] or band[0] > rng[1]:
        return "out"
    if band[0] >= rng[0] and band[1] <= rng[1]:
        return "in"
    return "partial"


def public_system(report: PublicReport) -> tuple[System, list[tuple[str, dict[int, float]]]]:
    """One month's section-1 and household counts: the system and its hidden cells (label, form)."""
    s = System()
    hidden: list[tuple[str, dict[int, float]]] = []
    bands, areas, types = list(report.bands), list(report.area_rows), list(report.types)

    def cell_vars(kind: str, *key) -> dict[int, float]:
        return {s.var(kind, *key): 1.0}

    def total(kind: str, pred) -> dict[int, float]:
        return {j: 1.0 for name, j in s.names.items() if name[0] == kind and pred(name)}

    rel = {(b, t): _relation(report.bands[b], report.types[t]) for b in bands for t in types}
    for b in bands:
        for r in areas:
            c, a = s.var("C", b, r), s.var("A", b, r)
            s.add({a: 1, c: -1}, -math.inf, 0)
            fs = []
            for t in types:
                if rel[(b, t)] == "out":
                    continue
                f = s.var("F", t, b, r)
                fs.append(f)
                if rel[(b, t)] == "partial":
                    i = s.var("I", t, b, r)
                    s.add({f: 1, i: -1}, -math.inf, 0)
                    s.add({i: 1, c: -1}, -math.inf, 0)
                else:
                    s.add({f: 1, c: -1}, -math.inf, 0)
                s.add({a: 1, f: -1}, 0, math.inf)
            s.add({a: 1, **{f: -1 for f in fs}}, -math.inf, 0)

    def see(label: str, form: dict[int, float], value) -> None:
        s.observe(form, value)
        if value == HIDDEN:
            hidden.append((label, form))

    see("対象のこども", total("C", lambda n: True), report.scope)
    see("いずれかの類型（計）", total("A", lambda n: True), report.any_flagged)
    for t in types:
        in_range, flagged = report.type_totals.get(t, (None, None))
        form = {}
        for name, j in list(s.names.items()):
            if name[0] == "C" and rel[(name[1], t)] == "in":
                form[j] = 1.0
            if name[0] == "I" and name[1] == t:
                form[j] = 1.0
        see(f"{t}：年齢の範囲", form, in_range)
        see(f"{t}：気づき（計）", total("F", lambda n, t=t: n[1] == t), flagged)
    for dim, rows in (("band", report.band_rows), ("area", report.area_rows)):
        for v, columns in rows.items():
            at = (lambda n, v=v: n[1] == v) if dim == "band" else (lambda n, v=v: n[2] == v)
            at_f = (lambda n, v=v: n[2] == v) if dim == "band" else (lambda n, v=v: n[3] == v)
            for col, value in columns.items():
                if col == "こどもの数":
                    see(f"{v}：こども", total("C", at), value)
                elif col == "いずれかの類型":
                    see(f"{v}：いずれか", total("A", at), value)
                elif col in report.types:
                    if dim == "band" and rel[(v, col)] == "out":
                        continue  # structurally zero whatever is printed
                    see(f"{v}：{col}", total("F", lambda n, col=col, at_f=at_f: n[1] == col and at_f(n)), value)
    if report.candidates is not None:
        h = s.var("H")
        s.add({h: 1, **{j: -1 for n, j in list(s.names.items()) if n[0] == "A"}}, -math.inf, 0)
        see("候補世帯", {h: 1.0}, report.candidates)
        if report.proposed is not None:
            p = s.var("P")
            s.add({p: 1, h: -1}, -math.inf, 0)
            see("会議に提案した世帯", {p: 1.0}, report.proposed)
    return s, hidden


def _months_between(first: str, last: str) -> list[str]:
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def series_systems(reports: list[PublicReport]):
    """Per series (outcome o, corrections): the system over all months' reports and its hidden cells."""
    months = sorted(r.month for r in reports)
    calendar = _months_between(months[0], months[-1])
    series: dict[str, dict[str, tuple[object, object]]] = defaultdict(dict)
    for r in reports:
        for o, pair in r.outcomes.items():
            series[f"会議の判定 {o}"][r.month] = pair
        if r.corrections:
            series["データ訂正"][r.month] = r.corrections
        for name, v in r.singles.items():
            series[f"single {name} {r.month}"][r.month] = (v, None)
    out = []
    for name, per_month in series.items():
        s = System()
        pre = s.var("pre")
        a = {m: s.var("a", m) for m in calendar}
        hidden = []
        for m, (this, total) in per_month.items():
            for label, form, value in (
                (f"{name} {m}", {a[m]: 1.0}, this),
                (f"{name} 累計 {m}", {pre: 1.0, **{a[x]: 1.0 for x in calendar if x <= m}}, total),
            ):
                if value is None:
                    continue
                s.observe(form, value)
                if value == HIDDEN:
                    hidden.append((label, form))
        out.append((s, hidden))
    return out


def attack_public(report_texts: dict[str, str], *, integer: bool = True) -> list[Finding]:
    """Bounds of every hidden count of the given reports (month → HTML)."""
    reports = [parse_report(m, t) for m, t in sorted(report_texts.items())]
    findings = []
    for r in reports:
        s, hidden = public_system(r)
        findings += _bound_all("public", r.month, s, hidden, integer)
    for s, hidden in series_systems(reports):
        findings += _bound_all("public", "series", s, hidden, integer)
    return findings


def _bound_all(audience, month, s, hidden, integer) -> list[Finding]:
    out = []
    for label, form in hidden:
        lo, hi, _ = s.bounds(form, integer=False)
        exact = True
        if integer and math.isfinite(hi) and math.isfinite(lo):
            lo, hi, exact = s.bounds(form, integer=True)
        out.append(Finding(audience, month, label, lo, hi, exact))
    return out


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    threshold = int(argv[1]) if len(argv) > 1 else 5
    texts = {p.parent.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*/transparency-*.html"))}
    findings = attack_public(texts)
    narrow = [f for f in findings if f.width < threshold]
    print(f"reports: {sorted(texts)}; hidden cells: {len(findings)}; narrowed below {threshold}: {len(narrow)}")
    for f in narrow:
        print(f"  {f.month} {f.cell}: range width {f.width:g}{'' if f.exact else ' (inner)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
