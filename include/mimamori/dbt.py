"""Run dbt (its own virtualenv) for a run month and summarise its results.

dbt lives in `.local/venv/dbt` (docs/decisions.md says why); the monthly DAG, the Makefile
and the tests all call it through :func:`run`, so they build the same thing the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
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


#: Saved parses kept per set of --vars (the newest; see _saved_parse).
SAVED_PARSES = 6


def _saved_parse(settings: Settings, variables: dict) -> Path:
    """Where the parse of a set of --vars is kept between calls.

    dbt re-parses the whole project (10-25 s here) whenever --vars differ from its previous call's,
    and the monthly DAG's retries and the tests alternate months and attempts. dbt reads its saved
    parse from DBT_PARTIAL_PARSE_FILE_PATH but always writes it to the target folder, so :func:`run`
    copies it here after each call; dbt still checks every file's hash, so a changed project is
    re-parsed as before."""
    folder = settings.state_dir / "dbt" / "saved_parses"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(json.dumps(variables, sort_keys=True).encode()).hexdigest()[:16]
    return folder / f"{digest}.msgpack"


def _keep_saved_parse(settings: Settings, saved: Path, since: float) -> None:
    written = settings.state_dir / "dbt" / "target" / "partial_parse.msgpack"
    if not written.exists() or written.stat().st_mtime < since:
        return  # this call wrote no parse (it stopped before parsing)
    shutil.copyfile(written, saved)
    for old in sorted(saved.parent.glob("*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)[SAVED_PARSES:]:
        old.unlink(missing_ok=True)


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
    saved = _saved_parse(settings, variables if "--vars" in command else {})
    run_env = env(settings)
    if saved.exists():
        run_env["DBT_PARTIAL_PARSE_FILE_PATH"] = str(saved)
        saved.touch()  # the newest are kept
    t0, started = time.monotonic(), time.time()
    proc = subprocess.Popen(
        command,
        cwd=project_dir(settings),
        env=run_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        log(line.rstrip())
    returncode = proc.wait()
    _keep_saved_parse(settings, saved, started - 1)
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
