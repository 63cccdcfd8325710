"""Statistical disclosure control (SDC): small cells that stay hidden when someone subtracts.

Not to be confused with :mod:`mimamori.disclosure` (the APPI 開示請求 export of one person's
records). This module decides which counts an audience may read and which must be hidden, for
every aggregate that leaves a role's own screen (docs/disclosure.md):

* **primary suppression**: a count of 1 … threshold−1 people is hidden (0 is shown: an empty cell
  describes nobody; zeros are never hidden, so an attacker may assume every hidden count is ≥ 1);
* **complementary suppression**: further counts are hidden until no hidden count can be narrowed
  to fewer than ``threshold`` possible values — not from the table's own totals, not from another
  breakdown of the same people, not from earlier releases (a cumulative series minus last month's
  is this month), not from anything else the audience is known to hold (``known``);
* the check is an attacker: for every hidden count, the smallest and largest value consistent
  with everything the audience can read, by linear programming (HiGHS through scipy) and then
  integer programming for the exact bounds. A count is safe when ``upper − lower ≥ threshold``.

The model: every published count is the number of units (children, outcomes, …) in a set of
**atoms** — the cells of the joint table over every attribute any published count uses
(:class:`Frame`). Atoms are the attacker's unknowns (non-negative integers); a shown count is an
equation over them, a hidden one an inequality (≥ 1). Atoms the attacker knows to be impossible
(flagged for a type outside its age range) are left out of the frame (``possible``), so the
attacker is given every structural fact the rules publish.

API (also for exports to come, e.g. a pooled evaluation):

* :func:`protect` — ``protect(frame, quantities, threshold, known=..., released=...)`` →
  :class:`Protection` (per count: shown or hidden, why, and the attacker's bounds);
* :func:`protect_table` — the same for one pandas table of counts with its margins;
* :func:`threshold_for` — the configured threshold of an audience (seed ``rules.disclosure_rules``).

Logs carry counts of cells only, never a suppressed value.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger("mimamori.sdc")

#: Used only when the seed ``rules.disclosure_rules`` is not there (a warehouse before its first build).
DEFAULT_THRESHOLD = 5
#: What a hidden count is shown as: the same mark for primary and complementary cells, so the
#: mark does not say "1–4".
SUPPRESSED = "X"
#: A cell that is not a count (out of a type's age range): not hidden, there is nothing to show.
NOT_APPLICABLE = "—"
AUDIENCES = ("public", "analyst", "coordinator")
#: Seconds per integer programme; a programme that does not finish keeps its proven bounds only.
MILP_TIME_LIMIT = 20.0


class SDCError(RuntimeError):
    """A count cannot be protected by suppression (the caller must withhold the table)."""


# --- configuration ------------------------------------------------------------------------------


def threshold_for(conn, audience: str) -> int:
    """The audience's threshold from the seed ``rules.disclosure_rules`` (default 5 before the first build)."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    if not conn.execute("select to_regclass('rules.disclosure_rules') is not null").fetchone()[0]:
        return DEFAULT_THRESHOLD
    row = conn.execute("select threshold from rules.disclosure_rules where audience = %s", (audience,)).fetchone()
    return int(row[0]) if row else DEFAULT_THRESHOLD


# --- the model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quantity:
    """One count an audience may read: the number of units in ``atoms`` of a :class:`Frame`."""

    key: tuple
    atoms: frozenset[int]
    value: int
    label: str = ""


@dataclass(frozen=True)
class Constraint:
    """A fact the attacker knows about the unknowns whatever is published: ``lower ≤ Σ coef·x ≤ upper``
    (e.g. flagged ≤ children of the same cell)."""

    coefficients: tuple[tuple[int, float], ...]
    lower: float = -math.inf
    upper: float = math.inf


class Space:
    """The attacker's unknowns: ``n`` non-negative integers, and what is structurally true of them.

    A published count is a sum of some of them (:class:`Quantity`). :class:`Frame` is the usual
    case (the unknowns are the cells of a joint table and nothing else is known); a smaller model
    with its own constraints is built the same way (mimamori.report's cell model)."""

    def __init__(self, n: int, structure: Sequence[Constraint] = ()):
        self.n = int(n)
        self.structure = list(structure)

    def __len__(self) -> int:
        return self.n


class Frame(Space):
    """The joint frequency table behind a set of counts: one atom per possible combination of the
    attributes, with its true count. Every count published from it is a sum of atoms."""

    def __init__(self, attributes: Sequence[str], atoms: Sequence[tuple], counts: Sequence[int]):
        super().__init__(len(atoms))
        self.attributes = tuple(attributes)
        self.atoms = [tuple(a) for a in atoms]
        self.counts = np.asarray(counts, dtype=np.int64)
        if len(self.atoms) != len(self.counts):
            raise ValueError("one count per atom")
        if (self.counts < 0).any():
            raise ValueError("counts are never negative")
        self._rows = [dict(zip(self.attributes, a, strict=True)) for a in self.atoms]

    @classmethod
    def from_counts(
        cls,
        attributes: Sequence[str],
        counts: Mapping[tuple, int],
        *,
        domain: Mapping[str, Sequence[Any]] | None = None,
        possible: Callable[[dict[str, Any]], bool] | None = None,
    ) -> Frame:
        """Atoms = every combination of ``domain`` values (default: the values seen) that is
        ``possible``; counts of the combinations in ``counts`` (a combination that is not possible
        is an error: the model would hide a unit from the attacker)."""
        attributes = tuple(attributes)
        if domain is None:
            domain = {a: sorted({c[i] for c in counts}, key=str) for i, a in enumerate(attributes)}
        atoms = []
        for combo in itertools.product(*(domain[a] for a in attributes)):
            if possible is None or possible(dict(zip(attributes, combo, strict=True))):
                atoms.append(combo)
        index = {a: i for i, a in enumerate(atoms)}
        values = np.zeros(len(atoms), dtype=np.int64)
        for combo, n in counts.items():
            if not n:
                continue
            i = index.get(tuple(combo))
            if i is None:
                raise ValueError(f"{n} unit(s) in a combination the frame calls impossible: {combo!r}")
            values[i] += int(n)
        return cls(attributes, atoms, values)

    def select(self, where: Mapping[str, Any] | Callable[[dict[str, Any]], bool] | None = None) -> frozenset[int]:
        """Atoms matching ``where``: a mapping attribute → value (or a set/list/tuple of values), or a predicate."""
        if where is None:
            return frozenset(range(len(self.atoms)))
        if callable(where):
            return frozenset(i for i, row in enumerate(self._rows) if where(row))
        wanted = {k: (set(v) if isinstance(v, set | frozenset | list | tuple) else {v}) for k, v in where.items()}
        return frozenset(i for i, row in enumerate(self._rows) if all(row[k] in vs for k, vs in wanted.items()))

    def quantity(
        self,
        key: tuple,
        where: Mapping[str, Any] | Callable[[dict[str, Any]], bool] | None = None,
        *,
        label: str = "",
    ) -> Quantity:
        atoms = self.select(where)
        return Quantity(key, atoms, int(self.counts[list(atoms)].sum()) if atoms else 0, label)


# --- results ------------------------------------------------------------------------------------


@dataclass
class Decision:
    """What happens to one count, and why (the audit row)."""

    key: tuple
    label: str
    value: int
    shown: bool
    reason: str  # shown | zero | primary | complementary | released
    protects: tuple | None = None
    lower: float | None = None  # the attacker's bounds (hidden counts only)
    upper: float | None = None
    exact: bool = False  # the bounds are the integer programme's optimum (else proven outer/inner)

    @property
    def display(self) -> str:
        return f"{self.value:,}" if self.shown else SUPPRESSED


@dataclass
class Protection:
    threshold: int
    decisions: dict[tuple, Decision] = field(default_factory=dict)
    #: earlier releases' hidden counts, with the bounds the attacker now has on them
    released: dict[tuple, Decision] = field(default_factory=dict)
    #: programmes the attacker solved (and solves its shortcuts saved): :attr:`Attacker.solves`
    solves: dict[str, int] = field(default_factory=dict)

    def display(self, key: tuple) -> str:
        return self.decisions[key].display

    def is_shown(self, key: tuple) -> bool:
        return self.decisions[key].shown

    @property
    def suppressed(self) -> list[Decision]:
        return [d for d in self.decisions.values() if not d.shown]

    def counts(self) -> dict[str, int]:
        """How many counts were shown / hidden and why: what may be logged."""
        out: dict[str, int] = {}
        for d in self.decisions.values():
            out[d.reason] = out.get(d.reason, 0) + 1
        return out

    def audit(self) -> list[dict[str, Any]]:
        """One row per count (true values included: store it where only the producer reads it)."""
        rows = []
        for d in [*self.decisions.values(), *self.released.values()]:
            rows.append(
                {
                    "key": list(d.key),
                    "label": d.label,
                    "value": d.value,
                    "shown": d.shown,
                    "reason": d.reason,
                    "protects": list(d.protects) if d.protects else None,
                    "lower": d.lower,
                    "upper": d.upper,
                    "exact": d.exact,
                }
            )
        return rows


@dataclass(frozen=True)
class Released:
    """A count an earlier release showed (``shown``) or hid: what the audience has read before."""

    quantity: Quantity
    shown: bool


# --- the attacker -------------------------------------------------------------------------------


@dataclass
class _Bounds:
    lower: float
    upper: float
    #: True when the interval is the exact integer optimum; else only [lower, upper] is proven
    #: reachable (an inner bound: the integer programme hit its time limit)
    exact: bool = True
    duals: dict[int, float] = field(default_factory=dict)
    #: the bounds are the linear relaxation's (an outer bound)
    relaxed: bool = False

    @property
    def width(self) -> float:
        return self.upper - self.lower


class Attacker:
    """Bounds of a count from equations (shown counts, ``known`` facts), inequalities (hidden counts
    are ≥ 1: zeros are never hidden) and the space's structure, over non-negative integers.

    ``integer=False`` solves the linear relaxation: an outer bound (narrow there is narrow for
    sure). ``integer=True`` gives the exact integer range: the relaxation's optimum when its vertex
    is integral (these tables' systems mostly are), else the integer programme (HiGHS); if that
    hits its time limit only the incumbent — a value proven reachable — is returned (an inner
    bound, ``exact=False``), so a range is never claimed wider than proven.

    Two shortcuts give the same bounds with fewer solves (``shortcuts=False`` turns them off, for
    the test that compares): the relaxation of one ``bounds`` call is solved once per direction,
    also when the integer range follows it; and every integer point met (an integral vertex, an
    integer programme's optimum) is kept, so that when a kept point that satisfies the current
    system exactly reaches the relaxation's bound rounded to a whole number, that value is the
    integer optimum (the relaxation says no integer point is better, the point that it is reached)
    and no integer programme is solved.
    """

    def __init__(self, space: Space, quantities: Iterable[Quantity], *, shortcuts: bool = True):
        from scipy.sparse import csr_matrix

        self.shortcuts = shortcuts
        #: programmes solved, and solves the shortcuts saved (logged; the comparing test reads them)
        self.solves = {"lp": 0, "milp": 0, "lp_reused": 0, "milp_proven": 0}
        #: integer points met so far, per component (each over that component's columns)
        self._points: dict[int, list[np.ndarray]] = {}
        #: per system (component, shown counts, hidden counts): how many points were checked, and
        #: the ones that satisfy it
        self._feasible: dict[tuple, tuple[int, list[np.ndarray]]] = {}

        self.space = space
        self.n = space.n
        self.quantities = list(quantities)
        self.index = {q.key: i for i, q in enumerate(self.quantities)}
        if len(self.index) != len(self.quantities):
            raise ValueError("quantity keys must be unique")
        rows, cols = [], []
        for i, q in enumerate(self.quantities):
            for j in q.atoms:
                rows.append(i)
                cols.append(j)
        self.matrix = csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(self.quantities), self.n), dtype=np.float64
        )
        s_rows, s_cols, s_vals = [], [], []
        for i, c in enumerate(space.structure):
            for j, v in c.coefficients:
                s_rows.append(i)
                s_cols.append(j)
                s_vals.append(v)
        self.structure = csr_matrix((s_vals, (s_rows, s_cols)), shape=(len(space.structure), self.n))
        self.s_lower = np.array([c.lower for c in space.structure], dtype=np.float64)
        self.s_upper = np.array([c.upper for c in space.structure], dtype=np.float64)
        self._components = self._find_components()

    def _find_components(self) -> np.ndarray:
        """Component id per variable: variables linked by a quantity or a structural constraint."""
        from scipy.sparse import vstack
        from scipy.sparse.csgraph import connected_components

        links = vstack([self.matrix, self.structure]).tocsr() if self.structure.shape[0] else self.matrix
        incidence = (links.T @ links).tocsr()
        _, labels = connected_components(incidence, directed=False)
        return labels

    def component(self, key: tuple) -> int:
        atoms = self.quantities[self.index[key]].atoms
        return int(self._components[next(iter(atoms))]) if atoms else -1

    def bounds(
        self,
        target: tuple,
        equal: Mapping[tuple, int],
        at_least_one: Iterable[tuple],
        *,
        integer: bool = False,
        time_limit: float = MILP_TIME_LIMIT,
        stop_below: float | None = None,
    ) -> _Bounds:
        """Bounds of ``target``; with ``integer`` the exact ones, unless the relaxation is already
        narrower than ``stop_below`` (then the relaxation's, ``relaxed=True``: narrow for sure)."""
        if target in equal:
            v = float(equal[target])
            return _Bounds(v, v)
        comp = self.component(target)
        if comp < 0:
            return _Bounds(0.0, 0.0)
        columns = np.flatnonzero(self._components == comp)
        eq_keys = [k for k in equal if self.component(k) == comp]
        hidden = set(at_least_one)
        ge_keys = [k for k in hidden if k not in equal and self.component(k) == comp]
        sub = self.matrix[:, columns]
        a_eq = sub[[self.index[k] for k in eq_keys]] if eq_keys else None
        b_eq = np.array([equal[k] for k in eq_keys], dtype=np.float64)
        a_ge = sub[[self.index[k] for k in ge_keys]] if ge_keys else None
        s_rows = np.flatnonzero(np.asarray(abs(self.structure[:, columns]).sum(axis=1)).ravel() > 0)
        a_s = self.structure[s_rows][:, columns] if len(s_rows) else None
        s_lo, s_hi = self.s_lower[s_rows], self.s_upper[s_rows]
        row = sub[self.index[target]].toarray().ravel()
        system = _System(comp, a_eq, b_eq, a_ge, a_s, s_lo, s_hi, eq_keys, frozenset(eq_keys), frozenset(ge_keys))
        relaxed = not integer
        if integer and stop_below is not None:
            lp_lo = self._solve(row, system, integer=False, time_limit=time_limit, maximise=False)
            lp_hi = self._solve(row, system, integer=False, time_limit=time_limit, maximise=True)
            if lp_hi[0] - lp_lo[0] < stop_below:
                lo, hi, relaxed = lp_lo, lp_hi, True
        if not relaxed or not integer:
            lo = self._solve(row, system, integer=integer, time_limit=time_limit, maximise=False)
            hi = self._solve(row, system, integer=integer, time_limit=time_limit, maximise=True)
        duals: dict[int, float] = {}
        for d in (lo[2], hi[2]):
            for k, v in d.items():
                duals[k] = max(duals.get(k, 0.0), abs(v))
        return _Bounds(lo[0], hi[0], lo[1] and hi[1] and not (relaxed and integer), duals, relaxed)

    def _linprog(self, row, system: _System, maximise: bool):
        """The relaxation (scipy's result), solved once per objective and direction when shortcuts are on."""
        from scipy.optimize import linprog

        key = (row.tobytes(), maximise)
        if self.shortcuts and key in system.lp:
            self.solves["lp_reused"] += 1
            return system.lp[key]
        self.solves["lp"] += 1
        a_ub, b_ub = system.upper_rows()
        res = linprog(
            -row if maximise else row,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=system.a_eq,
            b_eq=system.b_eq if system.a_eq is not None else None,
            bounds=(0, None),
            method="highs",
        )
        if self.shortcuts:
            system.lp[key] = res
        return res

    def _solve(self, row, system: _System, *, integer, time_limit, maximise):
        """(bound, exact, duals by quantity index). A contradictory system raises SDCError."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        res = self._linprog(row, system, maximise)
        if res.status == 3:
            return (math.inf if maximise else -math.inf), True, {}
        if res.status == 2:
            raise SDCError("the published counts contradict each other (infeasible system)")
        if res.status != 0:
            raise SDCError(f"linear programme failed: {res.message}")
        value = -res.fun if maximise else res.fun
        duals: dict[int, float] = {}
        if system.a_eq is not None and res.eqlin is not None:
            for k, m in zip(system.eq_keys, res.eqlin.marginals, strict=True):
                if abs(m) > 1e-9:
                    duals[self.index[k]] = float(m)
        integral = bool(np.all(np.abs(res.x - np.round(res.x)) < 1e-7))
        if integral:
            self._keep(system, res.x)
        if not integer or integral:
            # an integral optimal vertex of the relaxation is the integer optimum too
            return (float(round(value)) if integral else value), True, duals
        reached = self._reached(row, system, value, maximise)
        if reached is not None:
            self.solves["milp_proven"] += 1
            return reached, True, duals
        self.solves["milp"] += 1
        c = -row if maximise else row
        a_ub, b_ub = system.upper_rows()
        constraints = []
        if system.a_eq is not None:
            constraints.append(LinearConstraint(system.a_eq, system.b_eq, system.b_eq))
        if a_ub is not None:
            constraints.append(LinearConstraint(a_ub, -np.inf, b_ub))
        res = milp(
            c,
            integrality=np.ones(len(c)),
            bounds=Bounds(0, np.inf),
            constraints=constraints,
            options={"time_limit": time_limit, "presolve": True},
        )
        if res.status == 0:
            self._keep(system, res.x)
            return float(round(-res.fun if maximise else res.fun)), True, duals
        if res.status == 2:
            raise SDCError("the published counts contradict each other (infeasible integer system)")
        # time limit: only the incumbent is proven reachable (an inner bound); without one,
        # nothing is proven and the count is treated as narrow (it gets a complement)
        if res.x is not None and res.fun is not None:
            return float(round(-res.fun if maximise else res.fun)), False, duals
        return (-math.inf if maximise else math.inf), False, duals

    def _keep(self, system: _System, x) -> None:
        if self.shortcuts and x is not None:
            self._points.setdefault(system.component, []).append(np.round(x))

    def _reached(self, row, system: _System, value: float, maximise: bool) -> float | None:
        """The integer optimum when a kept integer point of this system reaches the relaxation's
        optimum ``value`` rounded inwards to a whole number (no integer point can be better), else None."""
        if not self.shortcuts:
            return None
        points = self._points.get(system.component, [])
        key = (system.component, system.eq_set, system.ge_set)
        checked, feasible = self._feasible.get(key, (0, []))
        feasible = feasible + [x for x in points[checked:] if system.satisfied_by(x)]
        self._feasible[key] = (len(points), feasible)
        if not feasible:
            return None
        reached = np.stack(feasible) @ row
        if maximise:
            best, bound = float(reached.max()), math.floor(value + 1e-6)
        else:
            best, bound = float(reached.min()), math.ceil(value - 1e-6)
        return float(bound) if best == bound else None


@dataclass
class _System:
    """One component's system of a ``bounds`` call: what every objective over it shares."""

    component: int
    a_eq: Any
    b_eq: np.ndarray
    a_ge: Any
    a_s: Any
    s_lo: np.ndarray
    s_hi: np.ndarray
    eq_keys: list
    eq_set: frozenset
    ge_set: frozenset
    #: the relaxation's results by (objective, direction)
    lp: dict = field(default_factory=dict)
    _upper: tuple | None = None

    def upper_rows(self):
        """Inequalities as A_ub x ≤ b_ub: hidden counts ≥ 1, structure within [lower, upper]."""
        if self._upper is None:
            self._upper = self._upper_rows()
        return self._upper

    def _upper_rows(self):
        from scipy.sparse import vstack

        ub_blocks, ub_rhs = [], []
        if self.a_ge is not None:
            ub_blocks.append(-self.a_ge)
            ub_rhs.append(-np.ones(self.a_ge.shape[0]))
        if self.a_s is not None:
            finite_hi = np.isfinite(self.s_hi)
            finite_lo = np.isfinite(self.s_lo)
            if finite_hi.any():
                ub_blocks.append(self.a_s[np.flatnonzero(finite_hi)])
                ub_rhs.append(self.s_hi[finite_hi])
            if finite_lo.any():
                ub_blocks.append(-self.a_s[np.flatnonzero(finite_lo)])
                ub_rhs.append(-self.s_lo[finite_lo])
        a_ub = vstack(ub_blocks).tocsr() if ub_blocks else None
        b_ub = np.concatenate(ub_rhs) if ub_rhs else None
        return a_ub, b_ub

    def satisfied_by(self, x: np.ndarray) -> bool:
        """``x`` (whole numbers) satisfies every equation and inequality exactly."""
        if (x < 0).any():
            return False
        if self.a_eq is not None and not np.array_equal(self.a_eq @ x, self.b_eq):
            return False
        if self.a_ge is not None and ((self.a_ge @ x) < 1).any():
            return False
        if self.a_s is not None:
            s = self.a_s @ x
            if (s > self.s_hi).any() or (s < self.s_lo).any():
                return False
        return True


# --- protection ---------------------------------------------------------------------------------


def _bounds_of(b: _Bounds | None) -> tuple[int | None, int | None, bool]:
    return (None if b is None else b.lower, None if b is None else b.upper, bool(b and b.exact))


def _first_decisions(quantities, released, threshold: int) -> tuple[dict[tuple, bool], dict[tuple, str]]:
    """Before complements: a zero is shown, a count under the threshold hidden (primary), the rest
    shown; what an earlier release decided stays as it was."""
    shown: dict[tuple, bool] = {}
    reason: dict[tuple, str] = {}
    for q in quantities:
        if q.value == 0:
            shown[q.key], reason[q.key] = True, "zero"
        elif q.value < threshold:
            shown[q.key], reason[q.key] = False, "primary"
        else:
            shown[q.key], reason[q.key] = True, "shown"
    for r in released:
        shown[r.quantity.key] = r.shown
        reason[r.quantity.key] = "released"
    return shown, reason


def _default_rank(everything: Sequence[Quantity]) -> Callable[[Quantity, Quantity], float]:
    """Lower first: a sibling (disjoint from the hidden count, inside a count that holds both —
    the same row or column) before a total that contains it, smaller counts first."""
    # the counts that contain each count (its row/column totals, the grand total, …)
    parents: dict[tuple, list[Quantity]] = {}
    for q in everything:
        parents[q.key] = [p for p in everything if p.key != q.key and q.atoms < p.atoms]

    def rank(narrow: Quantity, candidate: Quantity) -> float:
        if candidate.atoms & narrow.atoms:
            kind = 1
        elif any(narrow.atoms <= p.atoms and candidate.atoms <= p.atoms for p in parents.get(narrow.key, ())):
            kind = 0
        else:
            kind = 2
        return kind * 1e12 + candidate.value

    return rank


@dataclass
class _Suppression:
    """The state of one protection: what is shown, why, and which hidden count each complement protects."""

    attacker: Attacker
    by_key: dict[tuple, Quantity]
    known: Sequence[Quantity]
    new_keys: set[tuple]
    threshold: int
    rank: Callable[[Quantity, Quantity], float]
    shown: dict[tuple, bool]
    reason: dict[tuple, str]
    protects: dict[tuple, tuple] = field(default_factory=dict)
    final_bounds: dict[tuple, _Bounds] = field(default_factory=dict)

    def state(self) -> tuple[dict[tuple, int], list[tuple]]:
        """What the audience knows exactly (shown and known counts), and the hidden counts."""
        equal = {k: self.by_key[k].value for k, s in self.shown.items() if s}
        for q in self.known:
            equal[q.key] = q.value
        hidden = [k for k, s in self.shown.items() if not s]
        return equal, hidden

    def narrow(self) -> list[tuple]:
        """The hidden counts the audience can narrow below the threshold (exact integer bounds,
        kept in ``final_bounds``)."""
        equal, hidden = self.state()
        self.final_bounds.clear()
        narrow = []
        for target in hidden:
            b = self.attacker.bounds(target, equal, hidden, integer=True, stop_below=self.threshold)
            self.final_bounds[target] = b
            if b.width < self.threshold:
                narrow.append(target)
        return narrow

    def widen(self, target: tuple) -> None:
        """Hide one more count so that ``target`` is no longer narrow (unless another complement of
        this round widened it already)."""
        eq, hid = self.state()
        current = self.attacker.bounds(target, eq, hid, integer=True, stop_below=self.threshold)
        if current.width >= self.threshold:
            return
        relaxed = current if current.relaxed else self.attacker.bounds(target, eq, hid)
        chosen = _choose_complement(
            self.attacker, self.by_key, target, relaxed, eq, hid, self.new_keys, self.shown, self.threshold, self.rank
        )
        if chosen is None:
            raise SDCError(f"count {self.by_key[target].label or target} cannot be protected by suppression")
        self.shown[chosen] = False
        self.reason[chosen] = "complementary"
        self.protects[chosen] = target

    def run(self, max_rounds: int) -> None:
        for round_no in range(max_rounds):
            narrow = self.narrow()
            if not narrow:
                return
            for target in narrow:
                self.widen(target)
            log.debug("sdc round %d: %d narrow", round_no, len(narrow))
        raise SDCError("complementary suppression did not converge")

    def protection(self, quantities: Sequence[Quantity], released: Sequence[Released]) -> Protection:
        protection = Protection(self.threshold)
        for q in quantities:
            protection.decisions[q.key] = Decision(
                q.key,
                q.label,
                q.value,
                self.shown[q.key],
                self.reason[q.key],
                self.protects.get(q.key),
                *_bounds_of(self.final_bounds.get(q.key)),
            )
        for r in released:
            k = r.quantity.key
            if not r.shown:
                protection.released[k] = Decision(
                    k,
                    r.quantity.label,
                    r.quantity.value,
                    False,
                    "released",
                    None,
                    *_bounds_of(self.final_bounds.get(k)),
                )
        return protection


def protect(
    space: Space,
    quantities: Sequence[Quantity],
    threshold: int,
    *,
    known: Sequence[Quantity] = (),
    released: Sequence[Released] = (),
    prefer: Callable[[Quantity, Quantity], float] | None = None,
    max_rounds: int = 200,
    shortcuts: bool = True,
) -> Protection:
    """Decide which of ``quantities`` to show, so that no hidden count — of this release or of an
    earlier one (``released``) — can be narrowed below ``threshold`` possible values by the
    audience, who also holds ``known`` (exact counts from elsewhere, e.g. its microdata).

    ``prefer(narrow, candidate)`` ranks complementary candidates (lower first; default: the
    smallest count, then counts sharing atoms with the hidden one). Raises :class:`SDCError`
    when a count cannot be protected by hiding others (withhold the table instead).
    ``shortcuts=False``: every programme solved in full (:class:`Attacker`; the same decisions).
    """
    if threshold < 1:
        # no suppression at all (e.g. the coordinator, who sees the children anyway)
        return Protection(
            threshold,
            {q.key: Decision(q.key, q.label, q.value, True, "zero" if q.value == 0 else "shown") for q in quantities},
        )
    keys = [q.key for q in quantities]
    if len(set(keys)) != len(keys):
        raise ValueError("quantity keys must be unique")
    everything = [*quantities, *known, *(r.quantity for r in released)]
    shown, reason = _first_decisions(quantities, released, threshold)
    suppression = _Suppression(
        attacker=Attacker(space, everything, shortcuts=shortcuts),
        by_key={q.key: q for q in everything},
        known=known,
        new_keys=set(keys),
        threshold=threshold,
        rank=prefer or _default_rank(everything),
        shown=shown,
        reason=reason,
    )
    suppression.run(max_rounds)
    protection = suppression.protection(quantities, released)
    protection.solves = dict(suppression.attacker.solves)
    log.info("sdc: %s (threshold %d; solved %s)", protection.counts(), threshold, protection.solves)
    return protection


def _choose_complement(attacker, by_key, target, bounds, eq, hid, new_keys, shown, threshold, rank):
    """The shown count of this release whose hiding widens ``target`` most cheaply, or None."""
    candidates = [k for k in eq if k in new_keys and shown.get(k) and by_key[k].value > 0]
    if not candidates:
        return None
    narrow_q = by_key[target]
    by_dual = [k for k in candidates if attacker.index[k] in bounds.duals]
    rest = [k for k in candidates if attacker.index[k] not in bounds.duals]
    ordered = sorted(by_dual, key=lambda k: rank(narrow_q, by_key[k])) + sorted(
        rest, key=lambda k: rank(narrow_q, by_key[k])
    )
    best, best_width = None, bounds.width
    for tried, k in enumerate(ordered):
        trial_eq = {kk: v for kk, v in eq.items() if kk != k}
        b = attacker.bounds(target, trial_eq, [*hid, k], integer=False)
        if b.width >= threshold:
            return k
        if b.width > best_width:
            best, best_width = k, b.width
        if tried >= 24:
            break
    # no single count widens it (it is pinned by several equations): hide the most binding one
    # and let the next round find the next
    return best if best is not None else ordered[0]


# --- one table with its margins -----------------------------------------------------------------


def protect_table(
    table,
    dims: Sequence[str],
    value: str,
    threshold: int,
    *,
    margins: Sequence[Sequence[str]] | None = None,
    known: Sequence[tuple[Mapping[str, Any], int]] = (),
    released: Sequence[tuple[Mapping[str, Any], int, bool]] = (),
):
    """Protect one pandas table of counts (one row per combination of ``dims``, missing = 0) that
    is published with its ``margins`` (lists of dims kept; default: every sub-total down to the
    grand total). ``known``/``released``: (filter on dims, value[, shown]) facts the audience
    already has (a filter is a partial dims mapping: a margin cell). Returns (cells, protection):
    a DataFrame with one row per interior and margin cell (dims, ``value``, ``shown``,
    ``display``, ``reason``) and the :class:`Protection` (its ``audit()`` says why)."""
    import pandas as pd

    dims = list(dims)
    domain = {d: sorted(table[d].dropna().unique().tolist(), key=str) for d in dims}
    counts: dict[tuple, int] = {}
    for row in table[[*dims, value]].itertuples(index=False):
        key = tuple(row[:-1])
        counts[key] = counts.get(key, 0) + int(row[-1])
    frame = Frame.from_counts(dims, counts, domain=domain)
    if margins is None:
        margins = [list(c) for r in range(len(dims) - 1, -1, -1) for c in itertools.combinations(dims, r)]
    quantities = []
    for kept in [dims, *[list(m) for m in margins]]:
        for combo in itertools.product(*(domain[d] for d in kept)):
            where = dict(zip(kept, combo, strict=True))
            key = tuple(where.get(d, "*") for d in dims)
            quantities.append(frame.quantity(key, where, label=" × ".join(str(where.get(d, "計")) for d in dims)))
    known_q = [Quantity(("known", i), frame.select(dict(w)), int(v), "known") for i, (w, v) in enumerate(known)]
    released_q = [
        Released(Quantity(("released", i), frame.select(dict(w)), int(v), "released"), bool(s))
        for i, (w, v, s) in enumerate(released)
    ]
    protection = protect(frame, quantities, threshold, known=known_q, released=released_q)
    rows = []
    for q in quantities:
        d = protection.decisions[q.key]
        rows.append(
            {
                **dict(zip(dims, q.key, strict=True)),
                value: q.value,
                "shown": d.shown,
                "display": d.display,
                "reason": d.reason,
            }
        )
    return pd.DataFrame(rows), protection
