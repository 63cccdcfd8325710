"""Run an independent town through the real pipeline and compare the flags with the latent truth.

    .local/venv/airflow/bin/python tools/independent_town/run_pipeline.py --town DIR [--pg-port 55629]

Per month: mimamori.learning.towns.build_cache (ingest every source as the monthly DAG does, then
``dbt run`` up to the item matches), then the default rules (mimamori.learning.rules) score the
cached matches; printed per type: children flagged, of them with the type's latent difficulty
(latent_map.csv), and the latent prevalence. Any source the ingest rejected is printed, with the
rule ids from ingest.rejections. Uses its own cluster (``<town>/.state``) on its own port and
stops it at the end when it started it. Prints counts only, never a person's value.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--town", type=Path, required=True)
    ap.add_argument("--pg-port", type=int, default=55629)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--no-gates", action="store_true", help="skip the raw and identity gates")
    a = ap.parse_args(argv)
    town = a.town.resolve()
    state = town.parent / (town.name + ".state")
    sys.path.insert(0, str(REPO / "include"))
    from mimamori.stack import pg

    with pg.own_cluster(state, a.pg_port) as settings:
        return _run(settings, town, a.cache or town.parent / (town.name + ".cache"), not a.no_gates)


def _run(settings, town: Path, cache: Path, gates: bool = True) -> int:
    from mimamori import db, quality
    from mimamori.learning import rules as rules_mod
    from mimamori.learning import towns
    from mimamori.synth.conferences import load_truth, load_type_latents

    months = towns.months_of(town)
    gate_failures = 0
    for i, m in enumerate(months):
        # one month at a time so that the raw and identity gates see this month's attempt and links
        towns.build_cache(settings, town, cache, months=[m], reset=i == 0, say=print)
        if not towns.cached(cache, m) or not gates:
            continue
        for stage, results in (
            ("raw", quality.validate_raw(settings, m)),
            ("identity", quality.validate_identity(settings, m)),
        ):
            for name, res in results.items():
                if not res.success:
                    gate_failures += 1
                    print(f"GATE {stage} {m} {name}: failed" + (f" ({res.reason})" if res.skipped else ""))
                    for f in res.failed:
                        print(
                            f"    {f.get('check_id')} {f.get('file')} {f.get('column')} "
                            f"unexpected={f.get('unexpected_count')} observed={f.get('observed')}"
                        )
                for n in res.notices:
                    print(
                        f"NOTICE {stage} {m} {name}: {n.get('kind')} {n.get('check_id', '')} {n.get('file')} {n.get('count')}"
                    )
            print(f"[gates] {m} {stage}: {sum(r.success for r in results.values())}/{len(results)} sources passed")
    with db.connect(settings, role="transformer") as conn:
        rej = conn.execute(
            "select run_month::text, source, file, rule, count(*) from ingest.rejections group by 1, 2, 3, 4 order by 1, 2, 3"
        ).fetchall()
    for r in rej:
        print("REJECTED", *r)
    print(f"rejections: {len(rej)}")
    latents = load_type_latents(town / "latent_map.csv")
    rules = rules_mod.RuleSet.load()
    for m in months:
        children, matches = towns.load_month(cache, m)
        truth = load_truth(town, m, latents)
        scores = rules_mod.type_scores(rules, matches, children)
        flagged = scores[scores["is_flagged"]]
        any_flag = flagged["person_id"].nunique()
        print(f"{m}: children {len(children)}, flagged any type {any_flag} ({any_flag / max(1, len(children)):.1%})")
        t = truth.set_index("person_id")
        for typ in rules.enabled_types():
            f = flagged[flagged["type_code"] == typ]["person_id"]
            if typ not in t.columns:
                print(f"  {typ:26s} flagged {len(f):4d}  (no latent column)")
                continue
            in_range = scores[(scores["type_code"] == typ) & scores["is_in_age_range"]]["person_id"]
            lat = t.reindex(in_range)[typ].fillna(False).astype(bool)
            hit = t.reindex(f)[typ].fillna(False).astype(bool)
            print(
                f"  {typ:26s} flagged {len(f):4d}  with latent {int(hit.sum()):4d} (precision {hit.mean() if len(f) else 0:.2f})"
                f"  latent in age range {int(lat.sum()):4d}  recall {hit.sum() / max(1, lat.sum()):.2f}"
            )
    print(f"gate failures: {gate_failures}")
    return 1 if rej or gate_failures else 0


if __name__ == "__main__":
    sys.exit(main())
