"""Run the pipeline once per town-month and cache what a rule variant needs.

A town is a folder with ``inbox/<YYYY-MM>/<source>/…`` (the contract's files) and, for the
benchmark, ``truth/<YYYY-MM>/children.csv`` (``atena_no`` and one 0/1 column per latent
difficulty: docs/evaluation.md). It may come from mimamori.synth or from any other generator.

Per month the warehouse ingests the inbox and dbt builds identity and items (``dbt run``, not the
marts' tests: the suite tests those); then three small tables are written to
``<cache>/<month>/``:

* ``matches.csv.gz`` — person_id, item_code of every matched item (status true);
* ``children.csv.gz`` — person_id, household_id, age, age_band, sex, area (the reporting area:
  支援措置 folded, int_items__reporting_areas), adults (residents ≥ 18 in the household),
  is_already_supported;
* ``done`` — written last, so an interrupted month is rebuilt.

Re-scoring these for each rule variant (mimamori.learning.rules) costs milliseconds; the
pipeline costs tens of seconds per month. The cache never leaves the machine (it is person-level).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from mimamori.settings import Settings

log = logging.getLogger("mimamori.learning.towns")

#: what dbt builds per month for the cache (with everything upstream)
SELECT = ["+child_item_matches", "+int_items__already_supported", "+int_items__reporting_areas"]

CHILDREN_SQL = """
with adults as (
    select household_id,
           count(*) filter (where extract(year from age(%(as_of)s::date + 1, birth_date)) >= 18) as adults
    from intermediate.int_items__residents
    group by household_id
)
select c.person_id, c.household_id, c.age, c.age_band, c.sex, r.reporting_area as area,
       coalesce(a.adults, 0)::integer as adults,
       exists (select 1 from intermediate.int_items__already_supported s where s.person_id = c.person_id)
           as is_already_supported
from intermediate.int_items__children c
join intermediate.int_items__reporting_areas r on r.person_id = c.person_id
left join adults a on a.household_id = c.household_id
order by c.person_id
"""
MATCHES_SQL = "select person_id, item_code from marts.child_item_matches where is_matched order by person_id, item_code"


def months_of(town_dir: Path) -> list[str]:
    inbox = Path(town_dir) / "inbox"
    return sorted(p.name for p in inbox.iterdir() if p.is_dir()) if inbox.is_dir() else []


def cached(cache_dir: Path, month: str) -> bool:
    return (Path(cache_dir) / month / "done").exists()


def load_month(cache_dir: Path, month: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(children, matches) of a cached month."""
    d = Path(cache_dir) / month
    children = pd.read_csv(d / "children.csv.gz", dtype={"person_id": str, "household_id": str, "sex": str})
    matches = pd.read_csv(d / "matches.csv.gz", dtype={"person_id": str, "item_code": str})
    return children, matches


def _ingest(settings: Settings, inbox: Path, month: str, quarantine: Path, run_id: str) -> list[str]:
    """Ingest every source of the registry as the attempt ``run_id``; returns the sources
    rejected (or absent) this month.

    A rejected source is left out of the month and its items are unknown (dbt var
    ``skipped_sources``), as the monthly DAG does under the registry policy ``skip`` — e.g. a small
    town's header-only 給食費.csv in April, when nobody is in arrears yet."""
    from mimamori.ingest.load import ingest_month

    results = ingest_month(month, inbox, settings.dsn(role="loader"), quarantine, run_id=run_id, log=lambda _line: None)
    skipped = sorted(name for name, res in results.items() if not res.ok)
    if "jumin" in skipped:  # no registry, no month
        raise RuntimeError(f"ingest {month}: the resident registry was rejected")
    return skipped


def build_cache(
    settings: Settings,
    town_dir: Path,
    cache_dir: Path,
    *,
    months: list[str] | None = None,
    reset: bool = True,
    say: Callable[[str], None] = lambda _line: None,
) -> list[str]:
    """Ingest and judge each month of ``town_dir`` not yet cached; returns the months cached.

    ``reset`` drops the warehouse first (the cluster of ``settings``, never a configured external
    one), so one town's months never mix with another's."""
    from mimamori import attempts, db, dbt
    from mimamori.months import as_of_date
    from mimamori.stack import pg

    town_dir, cache_dir = Path(town_dir), Path(cache_dir)
    months = months or months_of(town_dir)
    todo = [m for m in months if not cached(cache_dir, m)]
    if not todo:
        return months
    if reset:
        pg.reset_warehouse(settings)
    else:
        pg.ensure(settings)
    lines: list[str] = []
    seed = dbt.run(settings, ["seed"], run_month=todo[0], log=lines.append)
    if not seed.ok:
        raise RuntimeError("dbt seed failed: " + ", ".join(seed.failures))
    for month in months:
        if cached(cache_dir, month):
            continue
        t0 = time.monotonic()
        # one attempt per month: dbt reads exactly the raw rows this ingest wrote (mimamori.attempts)
        run_id = attempts.new_attempt_id("learning")
        skipped = _ingest(settings, town_dir / "inbox", month, cache_dir / "quarantine", run_id)
        lines.clear()
        result = dbt.run(
            settings,
            ["run", "--select", *SELECT],
            run_month=month,
            log=lines.append,
            extra_vars={"skipped_sources": skipped},
            run_id=run_id,
        )
        if not result.ok:
            raise RuntimeError(f"dbt run {month} failed: " + ", ".join(result.failures) + "\n" + "\n".join(lines[-20:]))
        out = cache_dir / month
        out.mkdir(parents=True, exist_ok=True)
        with db.connect(settings, role="transformer") as conn:
            cur = conn.execute(CHILDREN_SQL, {"as_of": as_of_date(month)})
            children = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
            cur = conn.execute(MATCHES_SQL)
            matches = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
        children.to_csv(out / "children.csv.gz", index=False)
        matches.to_csv(out / "matches.csv.gz", index=False)
        (out / "done").write_text("ok\n")
        say(
            f"[learning] {town_dir.name} {month}: {len(children)} children, {len(matches)} matches "
            f"{', skipped ' + ' '.join(skipped) if skipped else ''}({time.monotonic() - t0:.0f}s)"
        )
    return months


# --- the benchmark's synthetic towns --------------------------------------------------------------

#: (name, seed, scale, prevalence factor): sizes 0.6–1.0 × Kaisei, latent prevalences 0.7–1.5 ×
#: the default. The first five fit proposals; the other five are never used for fitting.
FIT_TOWNS = (
    ("fit-a", 101, 0.6, 1.0),
    ("fit-b", 102, 1.0, 0.7),
    ("fit-c", 103, 0.8, 1.4),
    ("fit-d", 104, 0.6, 1.2),
    ("fit-e", 105, 0.9, 0.9),
)
HELD_OUT_TOWNS = (
    ("test-a", 201, 0.7, 1.0),
    ("test-b", 202, 0.9, 1.3),
    ("test-c", 203, 0.6, 0.8),
    ("test-d", 204, 0.8, 1.1),
    ("test-e", 205, 0.8, 1.5),
)
#: 12 months whose first is not April: a small town's first April has header-only 給食費 files
#: (nobody in arrears yet), which the skip policy handles only when an earlier month exists
BENCH_END_MONTH = "2026-10"
BENCH_MONTHS = 12


def synth_town(
    root: Path,
    name: str,
    seed: int,
    scale: float,
    prevalence: float,
    months: int = BENCH_MONTHS,
    end_month: str = BENCH_END_MONTH,
) -> Path:
    """Generate one benchmark town with mimamori.synth (skipped when its manifest is there)."""
    from mimamori.synth import generate
    from mimamori.synth.prevalence import scaled

    out = Path(root) / name
    if (out / "manifest.json").exists() and len(months_of(out)) == months:
        return out
    with scaled(prevalence):
        generate(out, seed=seed, scale=scale, months=months, end_month=end_month)
    return out
