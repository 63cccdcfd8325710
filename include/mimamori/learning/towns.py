"""Run the pipeline once per town-month and cache what a rule variant needs.

A town is a folder with ``inbox/<YYYY-MM>/<source>/…`` (the contract's files) and, for the
benchmark, ``truth/<YYYY-MM>/children.csv`` (``atena_no`` and one 0/1 column per latent
difficulty: docs/evaluation.md). It may come from mimamori.synth or from any other generator.

Per month the warehouse ingests the inbox and dbt builds identity and items (``dbt run``, not the
marts' tests: the suite tests those); then three small tables are written to
``<cache>/<month>/``. The months are ingested first, each as its own attempt (raw keeps attempts
side by side), and dbt parses the project **once** per town (:class:`OneParse`): called month by
month with new ``--vars``, dbt parses all of it again each time, which under load cost more than
the models. ``one_parse=False`` runs ``dbt run`` per month the ordinary way (the same cache).

* ``matches.csv.gz`` — person_id, item_code of every matched item (status true);
* ``children.csv.gz`` — person_id, household_id, age, age_band, sex, area (the reporting area:
  支援措置 folded, int_items__reporting_areas), adults (residents ≥ 18 in the household),
  is_already_supported;
* ``done`` — written last, so an interrupted month is rebuilt.

Re-scoring these for each rule variant (mimamori.learning.rules) costs milliseconds; the
pipeline costs tens of seconds per month. The cache never leaves the machine (it is person-level).
"""

from __future__ import annotations

import json
import logging
import subprocess
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


def cached_count(cache_dir: Path) -> int:
    """How many months of a town are cached (the benchmark reports its pipeline cost per month)."""
    return sum(1 for _ in Path(cache_dir).glob("*/done"))


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


class OneParse:
    """dbt with one parse for many commands: a worker in dbt's virtualenv
    (mimamori.learning.dbt_worker) parses the project once with ``parse_vars``; each :meth:`run`
    reuses that manifest. Use as a context manager (the worker ends with it)."""

    def __init__(self, settings: Settings, parse_vars: dict, log: Callable[[str], None] = lambda _line: None):
        from mimamori import dbt

        self.log = log
        worker = Path(__file__).resolve().parent / "dbt_worker.py"
        python = dbt.executable(settings).parent / "python"
        self.proc = subprocess.Popen(
            [str(python), str(worker)],
            cwd=dbt.project_dir(settings),
            env=dbt.env(settings),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        answer = self._call(["parse", "--vars", json.dumps(parse_vars)])
        if not answer["ok"]:
            self.close()
            raise RuntimeError("dbt parse failed")

    def _call(self, args: list[str]) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"args": args}) + "\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith("@@mimamori "):
                return json.loads(line[len("@@mimamori ") :])
            self.log(line.rstrip())
        raise RuntimeError("the dbt worker ended: " + str(self.proc.wait()))

    def run(self, args: list[str], variables: dict) -> dict:
        """``dbt <args> --vars <variables>`` on the parsed project: {ok, failures, seconds}."""
        return self._call([*args, "--vars", json.dumps(variables)])

    def close(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> OneParse:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _write_month(settings: Settings, cache_dir: Path, month: str) -> tuple[int, int]:
    """The month's children and matched items from the warehouse into ``<cache>/<month>/``."""
    from mimamori import db
    from mimamori.months import as_of_date

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
    return len(children), len(matches)


def build_cache(
    settings: Settings,
    town_dir: Path,
    cache_dir: Path,
    *,
    months: list[str] | None = None,
    reset: bool = True,
    one_parse: bool = True,
    say: Callable[[str], None] = lambda _line: None,
) -> list[str]:
    """Ingest and judge each month of ``town_dir`` not yet cached; returns the months cached.

    ``reset`` drops the warehouse first (the cluster of ``settings``, never a configured external
    one), so one town's months never mix with another's. ``one_parse``: dbt parses the project
    once for all the town's months (:class:`OneParse`), else once per month."""
    from mimamori import attempts, dbt
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
    # every month's raw rows first, each its own attempt: dbt reads exactly the rows of the
    # attempt it is given (mimamori.attempts), so the months never mix
    ingested = {}
    for month in todo:
        t0 = time.monotonic()
        run_id = attempts.new_attempt_id("learning")
        ingested[month] = (run_id, _ingest(settings, town_dir / "inbox", month, cache_dir / "quarantine", run_id))
        ingested[month] += (time.monotonic() - t0,)

    def variables(month: str) -> dict:
        run_id, skipped, _ = ingested[month]
        return {"skipped_sources": skipped, "run_month": month, "run_id": run_id}

    def report(month: str, counts: tuple[int, int], t0: float) -> None:
        skipped, seconds = ingested[month][1], ingested[month][2]
        say(
            f"[learning] {town_dir.name} {month}: {counts[0]} children, {counts[1]} matches"
            f"{', skipped ' + ' '.join(skipped) if skipped else ''} (ingest {seconds:.0f}s, "
            f"dbt + cache {time.monotonic() - t0:.0f}s)"
        )

    if one_parse:
        dbt._ensure_casework_tables(settings)  # as dbt.run does before a run
        t0 = time.monotonic()
        with OneParse(settings, variables(todo[0]), log=lines.append) as session:
            say(f"[learning] {town_dir.name}: dbt parsed once in {time.monotonic() - t0:.0f}s")
            for month in todo:
                t0 = time.monotonic()
                lines.clear()
                result = session.run(["run", "--select", *SELECT], variables(month))
                if not result["ok"]:
                    raise RuntimeError(
                        f"dbt run {month} failed: " + ", ".join(result["failures"]) + "\n" + "\n".join(lines[-20:])
                    )
                report(month, _write_month(settings, cache_dir, month), t0)
        return months
    for month in todo:
        t0 = time.monotonic()
        lines.clear()
        v = variables(month)
        result = dbt.run(
            settings,
            ["run", "--select", *SELECT],
            run_month=month,
            log=lines.append,
            extra_vars={"skipped_sources": v["skipped_sources"]},
            run_id=v["run_id"],
        )
        if not result.ok:
            raise RuntimeError(f"dbt run {month} failed: " + ", ".join(result.failures) + "\n" + "\n".join(lines[-20:]))
        report(month, _write_month(settings, cache_dir, month), t0)
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
