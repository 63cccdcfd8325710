"""Two published months of one town, as the monthly DAG leaves them, for the disclosure tests.

Reuses the session's judged town (town_fixtures.judged_town: seed 42, 2026-10 ingested and built)
and adds what the attack needs and the other suites do not: the month before (2026-09) ingested,
built, published and reported, then 2026-10 built, published and reported again — each with the
same pseudonym key, so the analyst's rows link across months as they would in a real town — and
a few conference outcomes in both months, so the reports' outcome series (this month and the
running total) hold small counts. After each build the people behind every category are
recorded (``Snapshot``): the membership tests need them, and history keeps aggregates only.
At the end the outcomes are deleted and the judgement downstream of them rebuilt, so the suites
after this one see the judged town as the fixture built it.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from town_fixtures import MONTH, PSEUDO_KEY

MONTHS = ("2026-09", MONTH)
DECIDED_BY = "sdc-test"
#: outcomes recorded per judged month: small counts on purpose (the series must hide them)
OUTCOMES = {
    "2026-09": {"要支援": 2, "調査継続": 1, "支援不要": 6},
    MONTH: {"要支援": 3, "調査継続": 4, "経過観察": 1, "支援不要": 2},
}


@dataclass
class Snapshot:
    """Who is in which category in one month (person-level; never printed)."""

    month: str
    children: dict[str, dict] = field(default_factory=dict)  # person_id → attributes
    groups: dict[str, set[str]] = field(default_factory=dict)  # item_relevance reference group → members


@dataclass
class Published:
    settings: object
    months: tuple[str, ...]
    reports: dict[str, Path]
    snapshots: dict[str, Snapshot]


def _ingest(settings, town_dir: Path, month: str) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(settings.root / "include"), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "mimamori.ingest", "--month", month, "--inbox", str(town_dir / "inbox"),
         "--quarantine", str(town_dir / "quarantine"), "-q"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def _dbt(settings, args: list[str], month: str) -> None:
    from mimamori import dbt

    lines: list[str] = []
    # the judged town's pseudonym key: a setting, carried by a copy of the settings
    keyed = dataclasses.replace(settings, pseudo_key=PSEUDO_KEY)
    result = dbt.run(keyed, args, run_month=month, log=lines.append)
    assert result.ok, ", ".join(result.failures) + "\n" + "\n".join(lines[-30:])


def _record_outcomes(conn, month: str) -> None:
    flagged = [
        r[0]
        for r in conn.execute(
            "select person_id from marts.child_scores where is_flagged order by md5(person_id || %s)", (month,)
        ).fetchall()
    ]
    taken = {
        r[0]
        for r in conn.execute(
            "select person_id from casework.conference_outcomes where decided_by = %s", (DECIDED_BY,)
        ).fetchall()
    }
    pool = [p for p in flagged if p not in taken]
    i = 0
    for outcome, n in OUTCOMES[month].items():
        for person in pool[i : i + n]:
            conn.execute(
                "insert into casework.conference_outcomes (person_id, judged_run_month, outcome, decided_by)"
                " values (%s, %s, %s, %s)",
                (person, month, outcome, DECIDED_BY),
            )
        i += n


def _snapshot(conn, month: str) -> Snapshot:
    snap = Snapshot(month)
    rows = conn.execute(
        """
        with adults as (
            select household_id, count(*) filter (where age >= 18) as adults
            from marts.residents group by household_id
        )
        select c.person_id, c.age_band, c.sex, r.has_dv_protection, a.reporting_area,
               coalesce(ad.adults, 0) = 1 as single_adult
        from marts.children c
        join marts.residents r on r.person_id = c.person_id
        join intermediate.int_items__reporting_areas a on a.person_id = c.person_id
        left join adults ad on ad.household_id = c.household_id
        """
    ).fetchall()
    for person, band, sex, dv, area, single in rows:
        snap.children[person] = {"age_band": band, "sex": sex, "dv": bool(dv), "area": area, "single": bool(single)}
    for person, outcome in conn.execute(
        "select distinct on (person_id) person_id, outcome from casework.conference_outcomes"
        " where superseded_by is null and judged_run_month < %s order by person_id, judged_run_month desc,"
        " decided_at desc",
        (month,),
    ).fetchall():
        snap.groups.setdefault(outcome, set()).add(person)
    snap.groups["already_supported"] = {
        r[0]
        for r in conn.execute(
            "select person_id from marts.child_exclusions where rule_kind = 'already_supported'"
        ).fetchall()
    }
    return snap


@pytest.fixture(scope="module")
def published_months(judged_town):
    from mimamori import pipeline, publish, report
    from mimamori.stack import pg

    settings = judged_town.settings
    reports: dict[str, Path] = {}
    snapshots: dict[str, Snapshot] = {}
    with pg.connect(settings, autocommit=True) as conn:
        conn.execute("delete from casework.conference_outcomes where decided_by = %s", (DECIDED_BY,))
        _record_outcomes(conn, MONTHS[0])
    try:
        _ingest(settings, judged_town.town_dir, MONTHS[0])
        for month in MONTHS:
            # models only: the session's judged town ran every data and unit test on this code
            _dbt(settings, ["run"], month)
            with pg.connect(settings, autocommit=True) as conn:
                snapshots[month] = _snapshot(conn, month)
            tables, pseudo = pipeline.published_relations(settings)
            publish.publish(
                settings, month, tables, pseudo, gate_summary={"raw": {"jumin": {"status": "passed", "failed": 0}}}
            )
            reports[month], _ = report.build_report(settings, month, pdf=False)
            if month != MONTHS[-1]:
                with pg.connect(settings, autocommit=True) as conn:
                    _record_outcomes(conn, MONTHS[MONTHS.index(month) + 1])
        yield Published(settings, MONTHS, reports, snapshots)
    finally:
        with pg.connect(settings, autocommit=True) as conn:
            conn.execute("delete from casework.conference_outcomes where decided_by = %s", (DECIDED_BY,))
        _dbt(settings, ["run", "--select", "source:judgement_casework.conference_outcomes+"], MONTH)
