"""Apache Superset 6.1 for the local stack: its environment, one-time set-up, gunicorn.

Superset lives in its own venv (``.local/venv/superset``, from ``requirements/superset.lock``)
and keeps its metadata in the local PostgreSQL database ``superset`` (role ``superset``), which
``mimamori.stack.pg.ensure`` creates. The configuration is ``superset/superset_config.py``; every
value reaches it through :func:`env`.

Run by hand: ``python -m mimamori.stack.superset init|start|stop|status``, or any Superset CLI
command with the right environment: ``python -m mimamori.stack.superset cli fab list-users``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mimamori.settings import Settings, get_settings
from mimamori.stack import procs

NAME = "superset"
ADMIN_USER = "admin"
#: gunicorn workers; each keeps its own login rate-limit count (superset_config.py)
WORKERS = 2
#: login attempts per client address, form and JSON API each (AUTH_RATE_LIMIT in superset_config.py)
LOGIN_RATE_LIMIT = "10 per minute"


def venv_dir(settings: Settings) -> Path:
    """Superset's own venv (override with MIMAMORI_SUPERSET_VENV)."""
    override = settings.superset_venv
    return Path(override) if override else settings.root / ".local" / "venv" / "superset"


def config_path(settings: Settings) -> Path:
    return settings.root / "superset" / "superset_config.py"


def home_dir(settings: Settings) -> Path:
    """Superset's DATA_DIR (SUPERSET_HOME): uploads and anything else it keeps on disk."""
    return settings.state_dir / "superset"


def url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.superset_port}"


def _bin(settings: Settings, program: str) -> Path:
    path = venv_dir(settings) / "bin" / program
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: build Superset's venv first (`make setup`)")
    return path


def env(settings: Settings) -> dict[str, str]:
    """The process environment for every Superset command (CLI, gunicorn, scripts)."""
    if not settings.superset_secret_key:
        raise RuntimeError("SUPERSET_SECRET_KEY is empty: run `make env` to generate .env")
    if not settings.role_passwords.get("superset"):
        raise RuntimeError("MIMAMORI_SUPERSET_PASSWORD is empty: run `make env` to generate .env")
    base = {
        k: v
        for k, v in os.environ.items()
        # nothing from the caller's Python (the Airflow venv) may leak into Superset's
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "FLASK_APP", "FLASK_DEBUG")
        and not k.startswith(("SUPERSET_", "AIRFLOW", "_AIRFLOW"))
    }
    bin_dir = venv_dir(settings) / "bin"
    base.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "VIRTUAL_ENV": str(venv_dir(settings)),
            "PYTHONPATH": str(settings.root / "include"),
            "SUPERSET_CONFIG_PATH": str(config_path(settings)),
            "SUPERSET_HOME": str(home_dir(settings)),
            "SUPERSET_SECRET_KEY": settings.superset_secret_key,
            "MIMAMORI_STATE_DIR": str(settings.state_dir),
            "MIMAMORI_PG_HOST": settings.pg_host,
            "MIMAMORI_PG_PORT": str(settings.pg_port),
            "MIMAMORI_SUPERSET_DB": settings.superset_db,
            "MIMAMORI_SUPERSET_PASSWORD": settings.role_passwords["superset"],
            "MIMAMORI_SUPERSET_PORT": str(settings.superset_port),
            **audience_env(settings),
            "MIMAMORI_SUPERSET_ALLOW_ADHOC_SUBQUERY": "1" if settings.superset_allow_adhoc_subquery else "0",
            "MIMAMORI_SUPERSET_LOGIN_RATE_LIMIT": LOGIN_RATE_LIMIT,
            "DO_NOT_TRACK": "1",
            "SCARF_ANALYTICS": "false",
            "LANG": os.environ.get("LANG", "C.UTF-8"),
        }
    )
    return base


def audience_env(settings: Settings) -> dict[str, str]:
    """What superset_config's DB_CONNECTION_MUTATOR needs: role → login, and each login's password."""
    from mimamori import access

    decl = access.declaration(str(settings.root))
    logins = decl.superset_logins()
    out = {
        "MIMAMORI_SUPERSET_AUDIENCE_LOGINS": json.dumps(logins, sort_keys=True),
        "MIMAMORI_SUPERSET_NO_ACCESS_LOGIN": access.SUPERSET_NO_ACCESS_LOGIN,
    }
    for login in sorted({*logins.values(), access.SUPERSET_NO_ACCESS_LOGIN}):
        password = settings.role_passwords.get(login)
        if not password:
            raise RuntimeError(f"{access.password_env_key(login)} is empty: run `make env` to generate .env")
        out[access.password_env_key(login)] = password
    return out


# --- one-time set-up ------------------------------------------------------------------------------


def _marker(settings: Settings) -> Path:
    return home_dir(settings) / "init-done.json"


def _superset_version(settings: Settings) -> str:
    found = sorted((venv_dir(settings) / "lib").glob("python3*/site-packages/apache_superset-*.dist-info"))
    return found[-1].name.removeprefix("apache_superset-").removesuffix(".dist-info") if found else "unknown"


def _fingerprint(settings: Settings) -> dict[str, str]:
    digest = hashlib.sha256(config_path(settings).read_bytes())
    # a new admin password or another metadata database means the set-up must run again
    for part in (settings.superset_admin_password, settings.pg_host, str(settings.pg_port), settings.superset_db):
        digest.update(b"\0" + part.encode())
    return {"superset": _superset_version(settings), "config": digest.hexdigest()}


def _db_state(settings: Settings) -> tuple[str | None, bool]:
    """(alembic revision, admin exists) of the metadata DB; (None, False) if not set up."""
    from mimamori.stack import pg

    try:
        with pg.connect(settings, settings.superset_db, role="superset", connect_timeout=5) as conn:
            if not conn.execute("select to_regclass('public.alembic_version')").fetchone()[0]:
                return None, False
            rev = conn.execute("select version_num from alembic_version").fetchone()
            if not conn.execute("select to_regclass('public.ab_user')").fetchone()[0]:
                return (rev[0] if rev else None), False
            admin = conn.execute("select 1 from ab_user where username = %s", (ADMIN_USER,)).fetchone()
            return (rev[0] if rev else None), admin is not None
    except Exception as exc:  # noqa: BLE001 - reported with context below
        raise RuntimeError(
            f"cannot reach Superset's metadata DB {settings.superset_db!r} as role superset on "
            f"{settings.pg_host}:{settings.pg_port}: {exc}. Start PostgreSQL first (pg.ensure)."
        ) from exc


def is_initialised(settings: Settings) -> bool:
    """True if the marker matches this Superset/config and the DB still holds the set-up."""
    try:
        recorded = json.loads(_marker(settings).read_text())
    except (FileNotFoundError, ValueError):
        return False
    if {k: recorded.get(k) for k in ("superset", "config")} != _fingerprint(settings):
        return False
    revision, admin = _db_state(settings)
    return admin and revision is not None and revision == recorded.get("revision")


def _run(settings: Settings, label: str, argv: list[str], stdin: str | None = None) -> None:
    started = time.monotonic()
    print(f"superset: {label} …", flush=True)
    log = procs.log_dir(settings) / "superset-init.log"
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        result = subprocess.run(
            argv,
            env=env(settings),
            cwd=str(home_dir(settings)),
            input=stdin.encode() if stdin is not None else None,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"`{' '.join(argv[:3])}` failed (exit {result.returncode}); see {log}:\n{tail}")
    print(f"superset: {label} done in {time.monotonic() - started:.0f}s", flush=True)


def init(settings: Settings, force: bool = False) -> bool:
    """Migrate the metadata DB, create/refresh the admin login, sync roles and permissions.

    Idempotent: a marker (Superset version + config hash + alembic revision) makes a repeated
    call return in well under a second. Needs PostgreSQL running and provisioned. Returns True
    if the set-up ran.
    """
    if not settings.superset_admin_password:
        raise RuntimeError("MIMAMORI_SUPERSET_ADMIN_PASSWORD is empty: run `make env` to generate .env")
    home_dir(settings).mkdir(parents=True, exist_ok=True)
    if not force and is_initialised(settings):
        return False
    started = time.monotonic()
    superset = str(_bin(settings, "superset"))
    _marker(settings).unlink(missing_ok=True)
    _run(settings, "db upgrade", [superset, "db", "upgrade"])
    password = f"{settings.superset_admin_password}\n{settings.superset_admin_password}\n"  # via stdin, not argv
    _, admin = _db_state(settings)
    if admin:
        _run(
            settings,
            "fab reset-password admin",
            [superset, "fab", "reset-password", "--username", ADMIN_USER],
            stdin=password,
        )
    else:
        domain = settings.mail_from.partition("@")[2] or "localhost"
        _run(
            settings,
            "fab create-admin",
            [
                superset,
                "fab",
                "create-admin",
                "--username",
                ADMIN_USER,
                "--firstname",
                "管理者",
                "--lastname",
                "mimamori",
                "--email",
                f"superset-admin@{domain}",
            ],
            stdin=password,
        )
    _run(settings, "init (roles and permissions)", [superset, "init"])
    revision, admin = _db_state(settings)
    if not admin:
        raise RuntimeError("superset init finished but user admin does not exist; see logs/superset-init.log")
    _marker(settings).write_text(json.dumps({**_fingerprint(settings), "revision": revision}, indent=2))
    print(f"superset: set-up complete in {time.monotonic() - started:.0f}s", flush=True)
    return True


# --- the web server ---------------------------------------------------------------------------------


def running(settings: Settings) -> int | None:
    """PID of the gunicorn master this project started, if it is alive."""
    return procs.read_pid(settings, NAME)


def start(settings: Settings) -> int:
    """Start gunicorn on 127.0.0.1:<superset_port> (no-op if ours already runs); returns its PID."""
    pid = procs.ours_or_free(settings, NAME, settings.superset_port, "MIMAMORI_SUPERSET_PORT")
    if pid:
        return pid
    home_dir(settings).mkdir(parents=True, exist_ok=True)
    argv = [
        str(_bin(settings, "gunicorn")),
        "-w",
        str(WORKERS),
        "-k",
        "gthread",
        "--threads",
        "4",
        "-b",
        f"127.0.0.1:{settings.superset_port}",
        "--timeout",
        "120",  # a worker's first start can exceed 30 s on a busy 2-core machine
        "--limit-request-line",
        "0",
        "--limit-request-field_size",
        "0",
        # gunicorn 27 otherwise opens a control socket in ~/.gunicorn/, shared by every instance
        "--no-control-socket",
        "superset.app:create_app()",
    ]
    return procs.start(settings, NAME, argv, env=env(settings), cwd=home_dir(settings))


def health(settings: Settings, timeout: float = 2.0) -> bool:
    return procs.answers(f"{url(settings)}/health", b"OK", timeout)


def wait_healthy(settings: Settings, timeout: float = 120) -> float:
    """Poll /health until it answers OK; returns the seconds waited. Fails fast if gunicorn died."""
    return procs.wait_healthy(settings, NAME, "Superset", f"{url(settings)}/health", b"OK", timeout, 1.0)


def stop(settings: Settings) -> bool:
    """Stop the gunicorn this project started (by PID file); True if it was running."""
    return procs.stop(settings, NAME, timeout=30.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Superset: set-up and gunicorn on 127.0.0.1")
    parser.add_argument("command", choices=["init", "start", "stop", "status", "cli"])
    parser.add_argument("args", nargs=argparse.REMAINDER, help="for cli: arguments of the superset command")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "cli":  # e.g. `... superset cli fab list-users`
        os.execve(str(_bin(settings, "superset")), ["superset", *args.args], env(settings))
    elif args.command == "init":
        if not init(settings):
            print("superset: already set up")
    elif args.command == "start":
        init(settings)
        pid = start(settings)
        waited = wait_healthy(settings)
        print(f"superset: {url(settings)} (pid {pid}, healthy after {waited:.0f}s), login admin")
    elif args.command == "stop":
        print("superset: stopped" if stop(settings) else "superset: not running")
    else:
        pid = running(settings)
        state = f"running (pid {pid}) {'healthy' if health(settings) else 'not healthy yet'}" if pid else "stopped"
        print(f"superset: {state} — {url(settings)}")
        if not pid:
            sys.exit(3)


if __name__ == "__main__":
    main()
