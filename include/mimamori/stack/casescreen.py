"""The case screen in the local stack: tables, uvicorn on 127.0.0.1:<casescreen_port>, health.

Runs from the Airflow venv (FastAPI, uvicorn, psycopg, argon2-cffi are in its lock file).
``python -m mimamori.stack.casescreen init|start|stop|status``. Access logging is off: URLs carry
宛名番号, and the audit table is the record of who saw what.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

from mimamori.settings import Settings, get_settings
from mimamori.stack import procs

NAME = "casescreen"


def url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.casescreen_port}"


def env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    base = dict(os.environ)
    base.update(
        {
            "PYTHONPATH": str(settings.root / "include"),
            "MIMAMORI_STATE_DIR": str(settings.state_dir),
            "MIMAMORI_PG_HOST": settings.pg_host,
            "MIMAMORI_PG_PORT": str(settings.pg_port),
            "MIMAMORI_CASESCREEN_PORT": str(settings.casescreen_port),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
        }
    )
    base.update(extra or {})
    return base


def init(settings: Settings) -> list[str]:
    """Create the screen's tables (idempotent; as role transformer)."""
    from mimamori.casescreen.config import load_config
    from mimamori.casescreen.schema import init_db

    return init_db(load_config(settings))


def ensure_admin(settings: Settings) -> None:
    """The local stack's coordinator account `admin` (password MIMAMORI_CASESCREEN_ADMIN_PASSWORD in .env)."""
    import psycopg

    from mimamori.casescreen import auth
    from mimamori.casescreen.config import load_config

    config = load_config(settings)
    with psycopg.connect(config.dsn()) as conn:
        auth.add_user(
            conn, config.casework_schema, "admin", "coordinator", settings.casescreen_admin_password, "管理者"
        )


def running(settings: Settings) -> int | None:
    return procs.read_pid(settings, NAME)


def start(settings: Settings, extra_env: Mapping[str, str] | None = None) -> int:
    """Start uvicorn (no-op if ours already runs); returns its PID."""
    pid = procs.ours_or_free(settings, NAME, settings.casescreen_port, "MIMAMORI_CASESCREEN_PORT")
    if pid:
        return pid
    argv = [sys.executable, "-m", "mimamori.casescreen", "serve"]
    return procs.start(settings, NAME, argv, env=env(settings, extra_env), cwd=settings.root)


def health(settings: Settings, timeout: float = 2.0) -> bool:
    return procs.answers(f"{url(settings)}/healthz", b"ok", timeout)


def wait_healthy(settings: Settings, timeout: float = 60) -> float:
    return procs.wait_healthy(settings, NAME, "the case screen", f"{url(settings)}/healthz", b"ok", timeout, 0.3)


def stop(settings: Settings) -> bool:
    return procs.stop(settings, NAME, timeout=15.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The case screen (ケース画面) in the local stack")
    parser.add_argument("command", choices=["init", "start", "stop", "status"])
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "init":
        for table in init(settings):
            print(f"casescreen: {table} ready")
    elif args.command == "start":
        init(settings)
        pid = start(settings)
        waited = wait_healthy(settings)
        print(
            f"casescreen: {url(settings)} (pid {pid}, healthy after {waited:.1f}s); add staff with "
            "`python -m mimamori.casescreen add-user NAME --role caseworker`"
        )
    elif args.command == "stop":
        print("casescreen: stopped" if stop(settings) else "casescreen: not running")
    else:
        pid = running(settings)
        state = f"running (pid {pid}) {'healthy' if health(settings) else 'not healthy yet'}" if pid else "stopped"
        print(f"casescreen: {state} — {url(settings)}")
        if not pid:
            sys.exit(3)


if __name__ == "__main__":
    main()
