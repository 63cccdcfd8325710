"""``python -m mimamori.bench.learning`` — does learning from the conference find more children?

A benchmark script, not a test (docs/evaluation.md). For several towns of different sizes and
prevalences (mimamori.learning.towns: five to fit, five never used for fitting; more with
``--town NAME=DIR``, e.g. towns of another generator with their own latent model):

1. the pipeline runs once per town-month (ingest + dbt), cached;
2. each fitting town lives 12 months of conferences under the current rule at its capacity
   (mimamori.synth.conferences: imperfect judgement); its margins give a **single-town proposal**
   (the first fitting town, in-town margins) and, exported through mimamori.sdc exactly as
   ``python -m mimamori.pool export`` does, a **pooled proposal** (``pool fit``);
3. on each held-out town, each rule (current, single-town, pooled) gets its thresholds from that
   town's own months (no outcomes, no truth) and lives the same 12 months of conferences;
   measured per type over the proposed children flagged in it: the **yield** (share with the
   type's latent difficulty: seed type_latents) and the **discovery** share (of those, not known
   to the town: seed known_registers);
4. printed: per type and rule, the mean over held-out towns with a 95 % t-interval, the pooled
   Wilson interval, and the paired difference to the current rule.

Everything stays on this machine; the towns are synthetic. The script starts its own
PostgreSQL cluster (``<root>/state``, port ``--pg-port``, default 55329: apart from
the demo stack's 54329 and the suites' offsets) and stops it at the end. The full run (ten towns
at 0.6–1.0 × Kaisei, 12 months) takes hours on two cores; ``--months`` and ``--scale`` make a
smaller one (each combination has its own cache under ``<root>``). Usage::

    python -m mimamori.bench.learning [--root .local/bench/learning] [--months 12] [--scale 1.0]
        [--town NAME=DIR ...] [--fit-town NAME=DIR ...] [--latent-map FILE]
        [--fit-towns LIST|none] [--test-towns LIST|none] [--out results.md]

Towns of another generator (``--town`` held out, ``--fit-town`` fitted: e.g. the mirror run that
fits on them and holds out this project's) are read through the same contract as ours; their
truth columns are mapped to types by ``--latent-map``. Each town set is printed with the
generator it came from (``generator`` of the town's ``manifest.json``, else ``--generator``).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[3]
DEFAULT_ROOT = REPO / ".local" / "bench" / "learning"
PG_PORT = "55329"
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, c - h), min(1.0, c + h)


def mean_ci(values: list[float]) -> tuple[float, float, float]:
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return (float("nan"),) * 3
    m = sum(vals) / len(vals)
    if len(vals) < 2:
        return m, float("nan"), float("nan")
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))
    h = T_975.get(len(vals) - 1, 1.96) * sd / math.sqrt(len(vals))
    return m, m - h, m + h


def town_months(root: Path, name: str, town_dir: Path, latents, settings, say, first: int | None = None):
    from mimamori.learning import towns
    from mimamori.synth.conferences import MonthData, load_truth

    cache = root / "cache" / name
    wanted = towns.months_of(town_dir)[:first] if first else None
    months = towns.build_cache(settings, town_dir, cache, months=wanted, say=say)
    out = []
    for m in months:
        children, matches = towns.load_month(cache, m)
        out.append(MonthData(m, children, matches, load_truth(town_dir, m, latents)))
    return out


SYNTH = "mimamori.synth"


def generator_of(town_dir: Path, default: str) -> str:
    """The generator that wrote a town: its manifest's ``generator`` (or ``generator.name``), else ``default``."""
    import json

    manifest = Path(town_dir) / "manifest.json"
    if manifest.exists():
        try:
            g = json.loads(manifest.read_text(encoding="utf-8")).get("generator")
        except (ValueError, AttributeError):
            g = None
        if isinstance(g, dict):
            g = g.get("name")
        if isinstance(g, str) and g:
            return g
    return default


def town_set(names: list[str], generators: dict[str, str]) -> str:
    """``a, b (generator G); c (generator H)`` in the order given."""
    groups: list[tuple[str, list[str]]] = []
    for n in names:
        if groups and groups[-1][0] == generators[n]:
            groups[-1][1].append(n)
        else:
            groups.append((generators[n], [n]))
    return "; ".join(f"{', '.join(ns)} (generator {g})" for g, ns in groups) or "none"


def measure(history: pd.DataFrame, types: list[str]) -> dict[str, tuple[int, int, int]]:
    """type → (proposed children flagged in it, … with its latent difficulty, … of those not known)."""
    out = {}
    for t in [*types, "_any"]:
        if history.empty:
            out[t] = (0, 0, 0)
            continue
        if t != "_any" and f"lat_{t}" not in history.columns:
            out[t] = (0, 0, 0)  # the town's truth has no column for this type: not measured
            continue
        sel = history if t == "_any" else history[history["flagged_types"].map(lambda ts, t=t: t in ts)]
        lat = sel["has_difficulty"] if t == "_any" else sel[f"lat_{t}"]
        found = sel[lat.astype(bool)]
        out[t] = (len(sel), len(found), int((~found["is_known"].astype(bool)).sum()))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimamori.bench.learning", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument(
        "--town",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="an extra held-out town (inbox/ and truth/<month>/children.csv), e.g. of another generator",
    )
    parser.add_argument(
        "--fit-town",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="an extra town to fit on (same format as --town): e.g. fit on another generator's towns",
    )
    parser.add_argument(
        "--generator",
        default="external",
        help="label of the --town/--fit-town towns' generator when their manifest.json names none",
    )
    parser.add_argument(
        "--latent-map",
        type=Path,
        default=None,
        help="type_latents.csv for the extra towns (default: each town's own latent_map.csv, else the seed)",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the tables here (Markdown)")
    parser.add_argument("--seed", default="bench-23", help="key of the conference's draws")
    parser.add_argument(
        "--pg-port", default=PG_PORT, help=f"port of the benchmark's own PostgreSQL cluster (default {PG_PORT})"
    )
    parser.add_argument(
        "--fit-towns", default=None, help="comma-separated synthetic towns to fit on (default: the five; 'none')"
    )
    parser.add_argument(
        "--test-towns", default=None, help="comma-separated synthetic held-out towns (default: the five; 'none')"
    )
    parser.add_argument("--months", type=int, default=12, help="months of conferences per town (default 12)")
    parser.add_argument(
        "--first",
        type=int,
        default=None,
        metavar="K",
        help="use only each town's first K months (a smaller run that reuses a larger one's cache)",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies every town's size (default 1.0: 0.6–1.0 × Kaisei)"
    )
    args = parser.parse_args(argv)
    if args.months < 2:
        parser.error("--months: at least 2 (a threshold is chosen on months, a conference needs a history)")
    # each (months, scale) has its own towns and cache: a smaller run never reuses a larger one's
    work = args.root if (args.months, args.scale) == (12, 1.0) else args.root / f"m{args.months}-s{args.scale:g}"

    # its own state and cluster, always: build_cache drops the warehouse of each town it runs
    sys.path.insert(0, str(REPO / "include"))
    from mimamori.stack import pg

    with pg.own_cluster(args.root.resolve() / "state", args.pg_port) as settings:
        return _run(args, work, settings)


def analyst_threshold() -> int:
    """The analyst audience's threshold (seed rules.disclosure_rules): what ``pool export`` uses."""
    seed = REPO / "dbt_project" / "seeds" / "rules" / "disclosure_rules.csv"
    with seed.open(encoding="utf-8", newline="") as f:
        return next(int(r["threshold"]) for r in csv.DictReader(f) if r["audience"] == "analyst")


def _towns(args, work: Path, settings, latents, extra_latents, say) -> dict[str, Any]:
    """1. The fitting and held-out towns' months: data per town, fitting and held-out names, the
    generator of each town and the pipeline's cost (seconds, town-months built)."""
    from mimamori.learning import towns

    by_name = {t[0]: t for t in towns.FIT_TOWNS + towns.HELD_OUT_TOWNS}

    def specs(arg, default):
        if arg is None:
            return list(default)
        return [] if arg == "none" else [by_name[n] for n in arg.split(",")]

    fit_specs = specs(args.fit_towns, towns.FIT_TOWNS)
    test_specs = specs(args.test_towns, towns.HELD_OUT_TOWNS)
    data, generators, cost = {}, {}, []

    def build(name: str, town_dir: Path, town_latents) -> None:
        t1, n1 = time.monotonic(), towns.cached_count(work / "cache" / name)
        data[name] = town_months(work, name, town_dir, town_latents, settings, say, first=args.first)
        cost.append((time.monotonic() - t1, towns.cached_count(work / "cache" / name) - n1))

    for name, seed, scale, prevalence in fit_specs + test_specs:
        d = towns.synth_town(work / "towns", name, seed, round(scale * args.scale, 3), prevalence, months=args.months)
        build(name, d, latents)
        generators[name] = SYNTH
    fit_names = [t[0] for t in fit_specs]
    test_names = [t[0] for t in test_specs]
    for spec, names in [(s, fit_names) for s in args.fit_town] + [(s, test_names) for s in args.town]:
        name, _, path = spec.partition("=")
        build(name, Path(path), extra_latents(path))
        generators[name] = generator_of(Path(path), args.generator)
        names.append(name)
    if not fit_names or not test_names:
        raise SystemExit("no town to fit on or none held out")
    if set(fit_names) & set(test_names):
        say("[bench] WARNING: a town is both fitted and evaluated: not a held-out measure")
    return {
        "data": data,
        "fit_names": fit_names,
        "test_names": test_names,
        "generators": generators,
        "built_s": sum(c[0] for c in cost),
        "built_n": sum(c[1] for c in cost),
    }


def _fits(args, rules, data: dict, fit_names: list[str], say) -> dict[str, Any]:
    """2. The fitting towns' histories, margins and exports, and the fits: single, pooled, pooled_raw."""
    from mimamori import pool
    from mimamori.learning import fit
    from mimamori.synth import conferences as conf

    margins, exports = [], []
    threshold = analyst_threshold()
    for name in fit_names:
        h = conf.simulate(rules, data[name], seed=f"{args.seed}|{name}")
        h = h.rename(columns={"month": "judged_run_month"})
        margins.append(fit.margins_from_history(h, rules, name))
        months = [md.month for md in data[name]]
        exports.append(pool.export_margins(h, rules, months, threshold=threshold, town=name).document)
        say(
            f"[bench] {name}: {len(h)} discussed, {int((h['outcome'] == '要支援').sum())} 要支援, "
            f"export {exports[-1]['suppressed']}/{len(exports[-1]['cells'])} hidden"
        )
    single_fits = fit.fit(margins[0], rules)
    pooled_fits, pooled_margins = pool.pool_fit(exports, rules)
    return {
        "fits": {
            "single": single_fits,
            "pooled": pooled_fits,
            "pooled_raw": fit.fit(pd.concat(margins, ignore_index=True), rules),
        },
        "pooled_margins": pooled_margins,
        "exports": exports,
    }


def _held_out(args, rules, types, variants: dict, data: dict, test_names: list[str]):
    """3. Each rule variant on the held-out towns: (town, rule, type, n, k, d) rows, guard refusals."""
    from mimamori.learning import whatif
    from mimamori.synth import conferences as conf

    results = []  # (town, rule, type, n, k, d)
    guard_notes = []
    for name in test_names:
        for rule_name, weights in variants.items():
            rs = rules if weights is None else whatif.choose_thresholds(rules, weights, data[name], name=rule_name)
            if weights is not None:
                w = whatif.what_if(rules, rs, data[name][-3:])
                refusals = whatif.guard(w)
                guard_notes.append((name, rule_name, len(refusals)))
            h = conf.simulate(rs, data[name], seed=f"{args.seed}|{name}")
            for t, (n, k, d) in measure(h, types).items():
                results.append((name, rule_name, t, n, k, d))
    df = pd.DataFrame(results, columns=["town", "rule", "type", "proposed", "with_difficulty", "not_known"])
    return df, guard_notes


def _yield_rows(df, types, variants: dict) -> list[str]:
    """4. The table's rows: per type and rule, yield and discovery with their intervals."""
    lines = []
    base = df[df["rule"] == "current"].set_index(["town", "type"])
    for t in [*types, "_any"]:
        for rule_name in variants:
            g = df[(df["type"] == t) & (df["rule"] == rule_name)].set_index("town")
            yields = [r.with_difficulty / r.proposed if r.proposed else float("nan") for r in g.itertuples()]
            disc = [r.not_known / r.with_difficulty if r.with_difficulty else float("nan") for r in g.itertuples()]
            diffs = []
            for town, r in g.iterrows():
                b = base.loc[(town, t)]
                if r.proposed and b.proposed:
                    diffs.append(r.with_difficulty / r.proposed - b.with_difficulty / b.proposed)
            m, lo, hi = mean_ci(yields)
            wl, wh = wilson(int(g["with_difficulty"].sum()), int(g["proposed"].sum()))
            dm, dlo, dhi = mean_ci(diffs) if rule_name != "current" else (float("nan"),) * 3
            cm, clo, chi = mean_ci(disc)
            lines.append(
                f"| {t} | {rule_name} | {int(g['proposed'].sum())} | {m:.2f} [{lo:.2f}, {hi:.2f}] | "
                f"{wl:.2f}–{wh:.2f} | "
                + ("—" if rule_name == "current" else f"{dm:+.2f} [{dlo:+.2f}, {dhi:+.2f}]")
                + f" | {int(g['with_difficulty'].sum())} | {cm:.2f} [{clo:.2f}, {chi:.2f}] |"
            )
    return lines


def _header(args, rules, towns_: dict) -> list[str]:
    """The table's head: which towns (and generators) were held out and fitted, months, sizes."""
    data, generators = towns_["data"], towns_["generators"]
    fit_names, test_names = towns_["fit_names"], towns_["test_names"]

    def spans(names):
        return sorted({f"{len(data[n])} months ({data[n][0].month}–{data[n][-1].month})" for n in names})

    return [
        f"held-out towns: {town_set(test_names, generators)}",
        f"fitted on: {town_set(fit_names, generators)}",
        f"capacity {rules.households_per_month} households/month; held out: {', '.join(spans(test_names))}; "
        f"fitted: {', '.join(spans(fit_names))}; synthetic town sizes × {args.scale:g}",
        "children per town (first month): "
        + ", ".join(f"{n} {len(data[n][0].children)}" for n in [*fit_names, *test_names]),
        "",
        "| type | rule | proposed (sum) | yield mean [95% t] | yield pooled [Wilson] | Δ yield vs current [95% t] "
        "| found (sum) | discovery mean [95% t] |",
        "|---|---|---:|---|---|---|---:|---|",
    ]


def _run(args, work: Path, settings) -> int:
    from mimamori import pool
    from mimamori.learning import fit
    from mimamori.learning.rules import RuleSet
    from mimamori.synth import conferences as conf

    rules = RuleSet.load()
    types = rules.enabled_types()
    latents = conf.load_type_latents()

    def extra_latents(town_dir):
        own = Path(town_dir) / "latent_map.csv"
        path = args.latent_map or (own if own.exists() else None)
        return conf.load_type_latents(path) if path else latents

    say = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    t0 = time.monotonic()
    towns_ = _towns(args, work, settings, latents, extra_latents, say)
    data, fit_names, test_names = towns_["data"], towns_["fit_names"], towns_["test_names"]
    say(f"[bench] towns ready in {time.monotonic() - t0:.0f}s")
    fitted = _fits(args, rules, data, fit_names, say)
    fits, exports = fitted["fits"], fitted["exports"]
    variants = {"current": None, **{name: fit.proposed_weights(f) for name, f in fits.items()}}
    df, guard_notes = _held_out(args, rules, types, variants, data, test_names)
    lines = [*_header(args, rules, towns_), *_yield_rows(df, types, variants)]
    changed = {name: sum(1 for f in fs if f.points != f.current_points) for name, fs in fits.items()}
    built_s, built_n = towns_["built_s"], towns_["built_n"]
    lines += [
        "",
        f"features whose points changed: {changed} (of {len(fits['single'])})",
        f"guard refusals on held-out towns (town, rule, refusals): {guard_notes}",
        f"export cells hidden per fitting town: {[e['suppressed'] for e in exports]} of {len(exports[0]['cells'])}",
        f"seconds: {time.monotonic() - t0:.0f}"
        + (f"; pipeline {built_s:.0f} s for {built_n} town-months ({built_s / built_n:.0f} s each)" if built_n else ""),
    ]
    text = "\n".join(lines)
    print(text)
    contrib = pool.contribution_table(fits["pooled"], fitted["pooled_margins"])
    print("\npooled contributions:\n" + contrib.to_string(index=False))
    for name, fs in fits.items():
        moved = [f"{f.type_code}/{f.feature} {f.current_points}→{f.points}" for f in fs if f.points != f.current_points]
        print(f"{name}: {', '.join(moved) or 'no change'}")
    if args.out:
        args.out.write_text(text + "\n\n" + contrib.to_markdown(index=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
