"""A judged synthetic town, built once per session (judgement, governance and identity tests).

Generates the default town (seed 42, scale 1, four months ending 2026-11), ingests 2026-10 into
the suite's warehouse and runs `dbt build` for that month; 2026-11 waits for "next month" tests.
Registered for the whole suite by tests/conftest.py, so it is built once per session.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import subprocess
import sys
import time
from dataclasses import dataclass
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
