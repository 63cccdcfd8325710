"""Run dbt (its own virtualenv) for a run month and summarise its results.

dbt lives in `.local/venv/dbt` (docs/decisions.md says why); the monthly DAG, the Makefile
and the tests all call it through :func:`run`, so they build the same thing the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mimamori.settings import Settings


@dataclass
class DbtResult:
    command: list[str]
    returncode: int
    seconds: float
    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def project_dir(settings: Settings) -> Path:
    return settings.root / "dbt_project"


def executable(settings: Settings) -> Path:
    return settings.root / ".local" / "venv" / "dbt" / "bin" / "dbt"


def env(settings: Settings, role: str = "transformer") -> dict[str, str]:
    result = dict(os.environ)
    result.update(
        {
            "DBT_PROFILES_DIR": str(project_dir(settings)),
            "DBT_TARGET_PATH": str(settings.state_dir / "dbt" / "target"),
            "DBT_LOG_PATH": str(settings.state_dir / "dbt" / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_USE_COLORS": "false",
            # Info level in the file log: debug would write compiled SQL, unit-test fixtures included.
            "DBT_LOG_LEVEL_FILE": "info",
            "DO_NOT_TRACK": "1",
            "MIMAMORI_DBT_HOST": settings.pg_host,
            "MIMAMORI_DBT_PORT": str(settings.pg_port),
            "MIMAMORI_DBT_USER": role,
            "MIMAMORI_DBT_PASSWORD": settings.role_passwords.get(role, ""),
            "MIMAMORI_DBT_DBNAME": settings.warehouse_db,
            # The analyst's pseudonyms (HMAC key): a new key gives new ids.
            "MIMAMORI_PSEUDO_KEY": settings.pseudo_key,
        }
    )
    return result


#: var run_id when a month has no attempt at all: it matches no raw row.
NO_ATTEMPT = "none"


def default_attempt(settings: Settings, run_month: str) -> str:
    """The month's latest attempt (what a build outside the monthly DAG reads), else NO_ATTEMPT."""
    from mimamori import db
    from mimamori.attempts import latest_attempt

    with db.connect(settings, role="transformer", autocommit=True) as conn:
        return latest_attempt(conn, run_month) or NO_ATTEMPT


def _ensure_casework_tables(settings: Settings) -> None:
    """The casework tables the models read as sources (their owner is the case screen's schema module)."""
    from mimamori import db
    from mimamori.casescreen.schema import create_tables

    with db.connect(settings, role="transformer") as conn:
        create_tables(conn)


def run(
    settings: Settings,
    args: list[str],
    run_month: str | None = None,
    log: Callable[[str], None] = print,
    extra_vars: dict | None = None,
    run_id: str | None = None,
) -> DbtResult:
    """`dbt <args> --vars {run_month: ..., run_id: ...}`; streams dbt's log lines to `log`.

    ``run_id``: the attempt whose raw rows the models read; the monthly DAG passes its own.
    Without it, the month's latest attempt (:func:`default_attempt`).
    """
    variables = dict(extra_vars or {})
    if run_month:
        variables["run_month"] = run_month
        variables["run_id"] = run_id or default_attempt(settings, run_month)
    command = [str(executable(settings)), *args]
    if args and args[0] in {"build", "run", "test"}:
        _ensure_casework_tables(settings)
    if variables and args and args[0] in {"build", "run", "test", "seed", "compile", "docs", "show", "ls"}:
        command += ["--vars", json.dumps(variables)]
    t0 = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=project_dir(settings),
        env=env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        log(line.rstrip())
    returncode = proc.wait()
    result = DbtResult(command=command, returncode=returncode, seconds=time.monotonic() - t0)
    results_file = settings.state_dir / "dbt" / "target" / "run_results.json"
    if results_file.exists() and results_file.stat().st_mtime >= time.time() - result.seconds - 5:
        data = json.loads(results_file.read_text())
        for item in data.get("results", []):
            status = str(item.get("status"))
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status in {"error", "fail"}:
                result.failures.append(item.get("unique_id", "?"))
    return result
