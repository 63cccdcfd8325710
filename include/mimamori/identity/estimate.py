"""Estimate the town's match weights from its own data, as a proposal to review — never applied by itself.

    python -m mimamori.identity.estimate --month 2026-10 [--out proposal.csv] [--truth records.csv]

The monthly pipeline scores with ``dbt_project/seeds/identity/match_weights.csv``, which a person
set. This reads the warehouse as dbt left it for ``--month`` (the matcher's queue, the spine with
its 学齢簿 context, the candidate pairs of both stages) and estimates the same comparisons' m and
u the way ``make match`` does (mimamori.identity.match): u of the exact level from value
frequencies and of the other levels from random record × resident pairs, m by EM over the
candidate pairs with u fixed, and the prior P(match) over all pairs. It writes the proposal in the
seed's format (with the prior as a row ``prior,prior``) and prints how each level's weight differs
from the seed's. With ``--truth`` (the synthetic town's truth file) it also scores the candidate
pairs with both sets under the shipped decision rule and prints precision and recall of each.

Adopting it is a reviewed diff: copy the proposal over the seed (the prior row comes along: with
u estimated on random pairs, scores become posterior log-odds and the thresholds keep their
meaning in bits). Counts and weights only are printed; no value of a record.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from mimamori.identity import match

SEED = match.SEEDS / "match_weights.csv"


def _weights(path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    _, rows = match._read(path, "utf-8")
    return {(r[0], r[1]): (float(r[2]), float(r[3])) for r in rows}


def _bits(mu: tuple[float, float] | None) -> float | None:
    return math.log2(mu[0] / mu[1]) if mu else None


def estimate(settings, month: str, out: Path, truth: Path | None = None, log=print) -> dict:
    from mimamori import db

    defaults = match.project_defaults()
    comparisons = defaults["comparisons"]
    m = match.load_macros()
    config = match.Config(
        mapping=Path("dbt_project.yml"),
        mode="link",
        encoding="utf-8",
        left={},
        right={},
        field_types={},
        date_formats=[],
        blocking_rules=defaults["blocking_rules"],
        comparisons=comparisons,
        thresholds=defaults["thresholds"],
        max_block_size=defaults["max_block_size"],
        address_prefixes=defaults["address_prefixes"],
        weights="estimate",
        random_pairs=match.RANDOM_PAIRS,
    )
    levels = {c["comparison"]: match.comparison_levels(c, m) for c in comparisons}
    with db.connect(settings, role="transformer") as conn:
        conn.execute("set search_path = pg_temp, public")
        conn.execute("set jit = off")  # the name macros' cost estimates make JIT compile for seconds
        conn.execute(m.identity_create_functions("pg_temp").replace("create schema if not exists pg_temp;", ""))
        conn.execute("create temp table l on commit drop as select * from intermediate.int_identity__match_queue")
        conn.execute(
            "create temp table r on commit drop as select * from intermediate.int_identity__spine_with_context"
        )
        conn.execute(
            "create temp table pairs on commit drop as "
            "select left_id, right_id, blocking_rules from intermediate.int_identity__register_pairs "
            "union all select left_id, right_id, blocking_rules from intermediate.int_identity__school_pairs"
        )
        conn.execute("analyze l; analyze r; analyze pairs")
        conn.execute(
            "create temp table pair_levels on commit drop as "
            + m.identity_pair_levels("pairs", "l", "r", comparisons, "pg_temp")
        )
        n_left = conn.execute("select count(*) from l").fetchone()[0]
        n_right = conn.execute("select count(*) from r").fetchone()[0]
        if not n_left:
            raise SystemExit(f"no records in the matcher's queue for {month}: run dbt build for the month first")
        est = match._estimate(conn, config, m, levels, "r", n_left, n_right, 0.42)
        proposed = {
            (c, lv): (est.m[c][lv], est.u[c][lv]) for c in [x["comparison"] for x in comparisons] for lv in levels[c]
        }
        proposed[("prior", "prior")] = (est.prior, 1 - est.prior)
        quality = {}
        if truth is not None:
            quality = _compare(conn, m, config, _weights(SEED), proposed, truth)
    current = _weights(SEED)
    descriptions = {(r[0], r[1]): r[4] for r in match._read(SEED, "utf-8")[1]}
    out.parent.mkdir(parents=True, exist_ok=True)
    match._write_weights(
        out,
        [
            (
                c,
                lv,
                f"{mu[0]:.6g}",
                f"{mu[1]:.6g}",
                descriptions.get((c, lv), "estimated (prior: P(match) over all pairs)"),
            )
            for (c, lv), mu in proposed.items()
        ],
    )
    log(
        f"estimated on {month}: {n_left} queued records x {n_right} residents, {est.candidate_pairs} candidate pairs,"
        f" {est.random_pairs} random pairs, EM {est.iterations} iteration(s); prior {_bits((est.prior, 1 - est.prior)):+.2f} bits"
    )
    log(f"{'comparison':<12} {'level':<12} {'seed bits':>10} {'estimated':>10} {'change':>8}")
    rows = []
    for key in sorted(set(current) | set(proposed), key=lambda k: (k[0] == "prior", k)):
        a, b = _bits(current.get(key)), _bits(proposed.get(key))
        rows.append((key, a, b))
        fmt = lambda x: "—" if x is None else f"{x:+.2f}"  # noqa: E731
        change = "—" if a is None or b is None else f"{b - a:+.2f}"
        log(f"{key[0]:<12} {key[1]:<12} {fmt(a):>10} {fmt(b):>10} {change:>8}")
    for name, q in quality.items():
        log(f"{name}: precision {q['precision']:.4f} recall {q['recall']:.4f} F1 {q['f1']:.4f} ({q['links']} links)")
    log(f"proposal written to {out} — adopt it as a reviewed diff of {SEED.relative_to(match.ROOT)}")
    return {"rows": rows, "quality": quality, "prior": est.prior, "out": str(out)}


def _compare(conn, m, config, current, proposed, truth: Path) -> dict:
    """Precision/recall of the best candidate under the shipped rule, scored with each weight set."""
    by_row = {}
    with truth.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r.get("source") != "jumin" and r.get("atena_no"):
                by_row[(r["file"], int(r["row_number"]))] = r["atena_no"]
    spine = {row[0] for row in conn.execute("select id from r")}
    true_person = {
        rid: by_row.get((f, n))
        for rid, f, n in conn.execute("select id, source_file, source_row_number from l").fetchall()
        if by_row.get((f, n)) in spine
    }
    t = config.thresholds
    out = {}
    for name, weights in (("seed weights", current), ("estimated weights", proposed)):
        conn.execute("drop table if exists weights")
        conn.execute(
            "create temp table weights (comparison text, level text, m_probability numeric, u_probability numeric,"
            " description text)"
        )
        with conn.cursor() as cur, cur.copy("copy weights from stdin") as copy:
            for (c, lv), (mp, up) in weights.items():
                copy.write_row((c, lv, mp, up, None))
        scored = m.identity_score_pairs("pairs", "l", "r", config.comparisons, "weights", "pg_temp")
        resolved = m.identity_resolve_pairs("scored", t["link"], t["review"], t["tie_margin"])
        links = conn.execute(
            f"with scored as ({scored}), resolved as ({resolved}) "
            "select left_id, right_id from resolved where link_status = 'linked'"
        ).fetchall()
        tp = sum(1 for a, b in links if true_person.get(a) == b)
        relevant = len(true_person)
        p = tp / len(links) if links else 0.0
        rc = tp / relevant if relevant else 0.0
        out[name] = {"precision": p, "recall": rc, "f1": 2 * p * rc / (p + rc) if p + rc else 0.0, "links": len(links)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimamori.identity.estimate", description=__doc__.split("\n")[0])
    parser.add_argument("--month", required=True, help="run month (YYYY-MM) whose dbt build is in the warehouse")
    parser.add_argument("--out", type=Path, default=None, help="proposal CSV (default .local/identity/…)")
    parser.add_argument("--truth", type=Path, default=None, help="synthetic town truth records.csv: compare P/R")
    args = parser.parse_args(argv)
    from mimamori.settings import get_settings

    settings = get_settings()
    out = args.out or settings.state_dir / "identity" / f"match_weights.proposed.{args.month}.csv"
    estimate(settings, args.month, out, args.truth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
