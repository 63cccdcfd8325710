"""A judged synthetic town, built once per session (judgement, governance and identity tests).

Generates the default town (seed 42, scale 1, four months ending 2026-11), ingests 2026-10 into
the suite's warehouse and runs `dbt build` for that month; 2026-11 waits for "next month" tests.
Registered for the whole suite by tests/conftest.py, so it is built once per session, with
``published_town`` (that month published) and ``conference_on_case_screen`` (the coordinator
records the conference's outcomes through the real case screen: tests/e2e, tests/learning).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

MONTH = "2026-10"
#: Generated but not loaded by the fixture: the month after, for tests of "the next monthly run".
NEXT_MONTH = "2026-11"
SEED = 42
#: Longer than SHA-256's 64-byte block, so the HMAC's hash-the-key-first path is exercised.
PSEUDO_KEY = "judgement-test-key-" + "x" * 80


#: Towns generated in this session, by their arguments: (pristine copy, the generator's Summary).
_GENERATED: dict[tuple, tuple[Path, object]] = {}


def generate_town(out, *, seed: int, scale: float, months: int, end_month: str, faults=()):
    """``mimamori.synth.generate(out, ...)``, run once per session per set of arguments: a second
    suite asking for the same town gets a copy of the first one's output (the generator is
    deterministic by seed: tests/synth/test_determinism.py). The pristine copy is kept under the
    suite's state folder, apart from the ``out`` its first user may change (an inbox the DAG reads)."""
    import shutil

    from mimamori.settings import get_settings
    from mimamori.synth import generate

    key = (seed, float(scale), months, end_month, tuple(faults))
    out = Path(out)
    if key not in _GENERATED:
        pristine = get_settings().state_dir / "towns-generated" / str(len(_GENERATED))
        shutil.rmtree(pristine, ignore_errors=True)
        summary = generate(pristine, seed=seed, scale=scale, months=months, end_month=end_month, faults=faults)
        _GENERATED[key] = (pristine, summary)
    pristine, summary = _GENERATED[key]
    for sub in ("inbox", "truth"):
        shutil.rmtree(out / sub, ignore_errors=True)
    shutil.copytree(pristine, out, dirs_exist_ok=True)
    return copy.deepcopy(summary)


@dataclass(frozen=True)
class JudgedTown:
    settings: object
    town_dir: Path
    month: str
    dbt_seconds: float
    pseudo_key: str


@pytest.fixture(scope="session")
def judged_town(warehouse) -> JudgedTown:
    from mimamori import dbt
    from mimamori.synth import generate

    town_dir = warehouse.state_dir / "judgement" / "town"
    generate(town_dir, seed=SEED, scale=1.0, months=4, end_month=NEXT_MONTH)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(warehouse.root / "include"), env.get("PYTHONPATH")]))
    ingest = subprocess.run(
        [
            sys.executable,
            "-m",
            "mimamori.ingest",
            "--month",
            MONTH,
            "--inbox",
            str(town_dir / "inbox"),
            "--quarantine",
            str(town_dir / "quarantine"),
            "-q",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    # the pseudonymisation key is a setting like any other (mimamori.settings): a copy of the
    # settings carries the test's key to dbt, the process environment stays as it was
    lines: list[str] = []
    t0 = time.monotonic()
    result = dbt.run(
        dataclasses.replace(warehouse, pseudo_key=PSEUDO_KEY), ["build"], run_month=MONTH, log=lines.append
    )
    seconds = time.monotonic() - t0
    assert result.ok, "dbt build failed: " + ", ".join(result.failures) + "\n" + "\n".join(lines[-40:])
    return JudgedTown(warehouse, town_dir, MONTH, seconds, PSEUDO_KEY)


@pytest.fixture(scope="session")
def published_town(judged_town):
    """The judged month published (published.* and history.*), as the DAG's publish task does."""
    from mimamori import pipeline, publish

    settings = judged_town.settings
    tables, pseudo = pipeline.published_relations(settings)
    publish.publish(
        settings,
        MONTH,
        tables,
        pseudo,
        gate_summary={
            "raw": {s: {"status": "passed", "failed": 0} for s in ("jumin", "kodomo_shien", "fukushi")},
            "marts": {"judgement": {"status": "passed", "failed": 0}},
        },
    )
    return judged_town


#: What the conference decided for the month's proposed children, in candidate order (cycled).
OUTCOMES = ("要支援", "調査継続", "経過観察", "支援不要", "要支援", "支援不要")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def build_evaluation(settings, month: str) -> None:
    """The evaluation marts rebuilt for the month (real dbt, their data and unit tests included),
    as the month's run does: they read casework.conference_outcomes as it is now."""
    from mimamori import dbt

    lines: list[str] = []
    result = dbt.run(
        settings,
        ["build", "--select", "evaluation_children", "conference_outcome_history", "outcome_yield"],
        run_month=month,
        log=lines.append,
    )
    assert result.ok, "dbt build of the evaluation marts failed: " + ", ".join(result.failures)


@contextlib.contextmanager
def conference_on_case_screen(settings, month: str, recorder: str, outcomes=OUTCOMES):
    """The coordinator ``recorder`` (an account of the caller's own) records the conference's
    outcomes for the published month's proposed children through the case screen over HTTP (the
    FastAPI app itself: login, CSRF, the outcome form, validation, audit), as staff do after the
    conference; ``outcomes`` are given in candidate order, cycled. Yields [(person_id, outcome)].
    The outcomes are removed afterwards, so the suites after the caller find the casework as the
    judged town left it (the caller rebuilds the marts it changed)."""
    from fastapi.testclient import TestClient
    from mimamori import access
    from mimamori.casescreen import auth
    from mimamori.casescreen import repo as cs_repo
    from mimamori.casescreen.app import create_app
    from mimamori.casescreen.config import load_config
    from mimamori.casescreen.schema import init_db
    from mimamori.stack import pg

    config = load_config(settings, secret_key=uuid.uuid4().hex)
    init_db(config)
    cs_repo._columns_cache.clear()
    password = "conference-" + uuid.uuid4().hex
    with pg.connect(settings, role=access.PREAUTH_LOGIN) as conn:
        auth.add_user(conn, config.casework_schema, recorder, "coordinator", password, "会議の記録")
    with pg.connect(settings, autocommit=True) as conn:
        proposed = conn.execute(
            "select unnest(string_to_array(person_ids, ' ')) from published.household_candidates"
            " where is_proposed order by household_rank"
        ).fetchall()
    assert proposed, "the judged month proposes nobody: the yield would prove nothing"
    review = (date.today() + timedelta(days=90)).isoformat()
    recorded: list[tuple[str, str]] = []
    try:
        with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
            login = client.post(
                "/login",
                data={
                    "username": recorder,
                    "password": password,
                    "csrf_token": _csrf(client.get("/login").text),
                    "next": "",
                },
                follow_redirects=False,
            )
            assert login.status_code == 303, f"the coordinator could not log in: {login.status_code}"
            for (person,), outcome in zip(proposed, itertools.cycle(outcomes)):
                page = client.get(f"/children/{person}")
                assert page.status_code == 200, f"the child's page: {page.status_code}"
                saved = client.post(
                    f"/children/{person}/outcomes",
                    data={
                        "csrf_token": _csrf(page.text),
                        "run_month": month,
                        "outcome": outcome,
                        "reasons": "会議での検討結果",
                        "support_actions": ["面談"] if outcome == "要支援" else [],
                        "responsible": "こども家庭センター",
                        "next_review_date": review,
                    },
                    follow_redirects=False,
                )
                assert saved.status_code == 303 and "saved=outcome" in saved.headers["location"], (
                    f"the case screen did not save the outcome: {saved.status_code}"
                )
                recorded.append((person, outcome))
        yield recorded
    finally:
        with pg.connect(settings, autocommit=True) as conn:
            conn.execute("delete from casework.conference_outcomes where decided_by = %s", (recorder,))
