"""Airflow 3 for the local stack: environment, metadata DB, services, and `airflow dags test`.

The metadata database is the project-local PostgreSQL (`airflow` database and role). The
warehouse and SMTP connections are given to Airflow as ``AIRFLOW_CONN_*`` environment
variables built from the settings, so nothing secret is stored in Airflow's database.

Logins: the FAB auth manager (``apache-airflow-providers-fab``; users in the metadata DB, the
SimpleAuthManager is for development only). :func:`ensure_admin` creates or resets the user
``admin`` (role Admin, password ``MIMAMORI_AIRFLOW_ADMIN_PASSWORD``). Login attempts are limited
per client address on the form and on the token endpoints, and every response carries the
security headers, by the plugin in ``plugins/`` (``mimamori.webguard.AirflowGuard``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mimamori.settings import Settings
from mimamori.stack import procs

DAG_ID = "mimamori_monthly"
ADMIN_USER = "admin"
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
#: login attempts per client address (the form and the token endpoints share one count)
LOGIN_RATE_LIMIT = "5 per 40 second"
# Airflow's own serve-logs binds every interface ("" / "::", airflow/utils/serve_logs/core.py; no
# host setting): the scheduler and triggerer run with --skip-serve-logs, and the same log-server
# app runs as two services of ours on 127.0.0.1 and the project's ports (docs/manual-it.md).
LOG_SERVERS = ("airflow-log-server", "airflow-trigger-log-server")
SERVICES = ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", *LOG_SERVERS)


def loopback_hostname() -> str:
    """[core] hostname_callable: task instances record 127.0.0.1, where the log servers listen."""
    return "127.0.0.1"


def venv(settings: Settings) -> Path:
    return settings.root / ".local" / "venv" / "airflow"


def home(settings: Settings) -> Path:
    return settings.state_dir / "airflow"


def url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.airflow_port}"


def connections(settings: Settings) -> dict[str, str]:
    """The Airflow connections as AIRFLOW_CONN_* values (URI or JSON form)."""
    smtp = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": settings.smtp_port,
        "extra": {
            "disable_tls": True,
            "disable_ssl": True,
            "from_email": settings.mail_from,
            "timeout": 10,
            "retry_limit": 1,
        },
    }
    return {
        "AIRFLOW_CONN_WAREHOUSE_LOADER": settings.dsn(role="loader"),
        "AIRFLOW_CONN_WAREHOUSE_TRANSFORMER": settings.dsn(role="transformer"),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp),
    }


def env(settings: Settings) -> dict[str, str]:
    """The process environment for every airflow command of this project."""
    airflow_home = home(settings)
    meta = settings.dsn(settings.airflow_db, role="airflow").replace("postgresql://", "postgresql+psycopg://", 1)
    result = dict(os.environ)
    result.update(
        {
            "PATH": f"{venv(settings) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(settings.root / "include"),
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.root / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # Set-up leaves the monthly DAG unpaused, so the scheduler runs it on the 16th (the DAG's
            # timetable never makes a run right away; docs/manual-it.md §1 says how to pause it).
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
            "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.root / "plugins"),
            "AIRFLOW__FAB__AUTH_RATE_LIMITED": "True",
            "AIRFLOW__FAB__AUTH_RATE_LIMIT": LOGIN_RATE_LIMIT,
            "AIRFLOW__FAB__CONFIG_FILE": str(airflow_home / "webserver_config.py"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url(settings)}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(settings.airflow_port),
            "AIRFLOW__API__BASE_URL": url(settings),
            "AIRFLOW__API__WORKERS": "1",
            # Swagger UI and ReDoc load their scripts from a CDN: nothing off-host, and the CSP
            # would block them anyway. The API itself and its OpenAPI JSON stay.
            "AIRFLOW__API__ENABLE_SWAGGER_UI": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(settings.airflow_log_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(settings.airflow_trigger_log_port),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "mimamori.stack.airflow.loopback_hostname",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "60",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW__COSMOS__ENABLE_CACHE": "False",
            "DO_NOT_TRACK": "1",
            "SCARF_ANALYTICS": "false",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "GX_ANALYTICS_ENABLED": "false",
            "MIMAMORI_ROOT": str(settings.root),
        }
    )
    if settings.airflow_secret_key:
        result["AIRFLOW__API__SECRET_KEY"] = settings.airflow_secret_key
    if settings.airflow_jwt_secret:
        result["AIRFLOW__API_AUTH__JWT_SECRET"] = settings.airflow_jwt_secret
    result.update(connections(settings))
    # Settings the project's own code reads (the DAG runs in these processes).
    result["MIMAMORI_STATE_DIR"] = str(settings.state_dir)
    result["MIMAMORI_INBOX"] = str(settings.inbox_dir)
    result["MIMAMORI_PG_PORT"] = str(settings.pg_port)
    result["MIMAMORI_SMTP_PORT"] = str(settings.smtp_port)
    result["MIMAMORI_AIRFLOW_PORT"] = str(settings.airflow_port)
    return result


def _airflow(settings: Settings, *args: str, check: bool = True, capture: bool = False, timeout: float | None = None):
    return subprocess.run(
        [str(venv(settings) / "bin" / "airflow"), *args],
        env=env(settings),
        check=check,
        text=True,
        capture_output=capture,
        timeout=timeout,
    )


def migrate(settings: Settings, log=print) -> bool:
    """`airflow db migrate` when the Airflow version or DB changed; returns True if it ran."""
    airflow_home = home(settings)
    airflow_home.mkdir(parents=True, exist_ok=True)
    (airflow_home / "passwords.json").unlink(missing_ok=True)  # the SimpleAuthManager's, no longer used
    marker = airflow_home / ".migrated"
    stamp = hashlib.sha256(
        (
            settings.dsn(settings.airflow_db, role="airflow")
            + (settings.root / "requirements" / "airflow.lock").read_text()
        ).encode()
    ).hexdigest()
    if marker.exists() and marker.read_text() == stamp:
        ensure_admin(settings, log)
        return False
    log("airflow: migrating the metadata database (first run takes ~10 s)")
    t0 = time.monotonic()
    _airflow(settings, "db", "migrate", capture=True)
    marker.write_text(stamp)
    log(f"airflow: metadata database ready in {time.monotonic() - t0:.1f}s")
    ensure_admin(settings, log)
    return True


def ensure_admin(settings: Settings, log=print) -> bool:
    """Create or reset Airflow's user ``admin`` (role Admin) with MIMAMORI_AIRFLOW_ADMIN_PASSWORD.

    Runs in the Airflow venv (FAB's security manager); the password travels on stdin, never in
    argv. Skipped when a marker says this password is already set (a keyed hash of it, made
    with Airflow's secret key, is all the marker holds). Returns True if it ran.
    """
    password = settings.airflow_admin_password
    if not password:
        raise RuntimeError("MIMAMORI_AIRFLOW_ADMIN_PASSWORD is empty: run `make env` to generate .env")
    marker = home(settings) / ".admin"
    stamp = hmac.new(
        (settings.airflow_secret_key or "mimamori").encode(),
        (settings.dsn(settings.airflow_db, role="airflow") + "\0" + password).encode(),
        hashlib.sha256,
    ).hexdigest()
    if marker.exists() and marker.read_text() == stamp:
        return False
    t0 = time.monotonic()
    result = subprocess.run(
        [str(venv(settings) / "bin" / "python"), "-m", "mimamori.stack.airflow", "ensure-admin"],
        env=env(settings),
        input=password + "\n",
        text=True,
        capture_output=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"airflow: creating user {ADMIN_USER} failed:\n{result.stderr[-3000:]}")
    marker.write_text(stamp)
    marker.chmod(0o600)
    outcome = (result.stdout.strip().splitlines() or ["?"])[-1]  # Airflow logs to stdout too: the last line is ours
    log(f"airflow: user {ADMIN_USER} {outcome} in {time.monotonic() - t0:.1f}s")
    return True


def upsert_admin_in_process(password: str, email: str) -> str:
    """Inside the Airflow venv and environment: create or update user admin (FAB security manager)."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as appbuilder:
        sm = appbuilder.sm
        role = sm.find_role("Admin")
        if role is None:
            raise RuntimeError("FAB role Admin missing: run `airflow db migrate` first")
        user = sm.find_user(username=ADMIN_USER)
        if user is None:
            if not sm.add_user(ADMIN_USER, "管理者", "mimamori", email, role, password):
                raise RuntimeError(f"could not create user {ADMIN_USER}")
            return "created"
        user.active = True
        if role not in user.roles:
            user.roles = [*user.roles, role]
        sm.update_user(user)
        if not sm.reset_password(user.id, password):
            raise RuntimeError(f"could not set the password of {ADMIN_USER}")
        return "password set"


def log_server_argv(settings: Settings, port: int) -> list[str]:
    """Airflow's log-server app (what serve-logs runs) on 127.0.0.1 only."""
    python = str(venv(settings) / "bin" / "python")
    app = "airflow.utils.serve_logs.log_server:get_app"
    return [python, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]


def service_argv(settings: Settings, name: str) -> list[str]:
    """The command line of one of :data:`SERVICES` (also for a test that restarts one)."""
    exe = str(venv(settings) / "bin" / "airflow")
    return {
        "airflow-api-server": [exe, "api-server"],
        "airflow-scheduler": [exe, "scheduler", "--skip-serve-logs"],
        "airflow-dag-processor": [exe, "dag-processor"],
        "airflow-triggerer": [exe, "triggerer", "--skip-serve-logs"],
        "airflow-log-server": log_server_argv(settings, settings.airflow_log_port),
        "airflow-trigger-log-server": log_server_argv(settings, settings.airflow_trigger_log_port),
    }[name]


def start(settings: Settings, log=print) -> None:
    environ = env(settings)
    for name in SERVICES:
        procs.start(settings, name, service_argv(settings, name), env=environ)
    unpause_once(settings, log)


def wait_healthy(settings: Settings, timeout: float = 120.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url(settings)}/api/v2/monitor/health", timeout=3) as resp:
                if resp.status == 200:
                    return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            last = exc
        time.sleep(1)
    raise TimeoutError(f"Airflow API server not healthy at {url(settings)} after {timeout:.0f}s: {last}")


def stop(settings: Settings) -> list[str]:
    return [name for name in reversed(SERVICES) if procs.stop(settings, name)]


def set_paused(settings: Settings, paused: bool) -> bool | None:
    """Pause or unpause the monthly DAG; returns whether it was paused (None: not in Airflow yet).

    What Airflow's own pause does (``dag.is_paused``), without starting the CLI (seconds).
    """
    from mimamori.stack import pg

    with pg.connect(settings, settings.airflow_db, role="airflow") as conn:  # one transaction
        row = conn.execute("select is_paused from dag where dag_id = %s for update", (DAG_ID,)).fetchone()
        if row is not None:
            conn.execute("update dag set is_paused = %s where dag_id = %s", (paused, DAG_ID))
    return None if row is None else bool(row[0])


def unpause_once(settings: Settings, log=print, wait: float = 180.0) -> None:
    """Once per installation, as set-up: unpause the monthly DAG that an older set-up left paused.

    Airflow adds the DAG unpaused now (DAGS_ARE_PAUSED_AT_CREATION); one it added before stays
    paused until this. Only when its next run, as the DAG processor last computed it, is in the
    future: a value left by the former timetable may be a past 16th, which the scheduler would run
    at once. A marker keeps later pauses (make pause, the UI) as they are.
    """
    from mimamori.stack import pg

    marker = home(settings) / ".unpaused-once"
    if marker.exists():
        return
    deadline = time.monotonic() + wait
    while True:
        with pg.connect(settings, settings.airflow_db, role="airflow") as conn:  # one transaction
            row = conn.execute(
                "select is_paused, coalesce(next_dagrun_create_after > now(), false) from dag"
                " where dag_id = %s for update",
                (DAG_ID,),
            ).fetchone()
            if row is not None and row[0] and row[1]:
                conn.execute("update dag set is_paused = false where dag_id = %s", (DAG_ID,))
                log(f"airflow: {DAG_ID} unpaused (set-up leaves it so; make pause stops it)")
        if row is None or not row[0] or row[1]:
            marker.write_text("set-up unpaused the monthly DAG once; later pauses are kept\n")
            return
        if time.monotonic() > deadline:
            log(f"airflow: {DAG_ID} stays paused (its next run is not computed yet): run make unpause")
            return
        time.sleep(2)


def _pause_for_dags_test(settings: Settings, wait: float = 120.0) -> bool:
    """Pause the DAG for a `dags test` run; returns whether to leave it paused afterwards.

    The scheduler examines every running run of an unpaused DAG: beside `dags test`'s own loop it
    would schedule the same tasks a second time. Paused, the scheduler leaves the run alone (as it
    did when the DAG stayed paused after set-up); a scheduled 16th that falls meanwhile is created
    when the DAG is unpaused again. When Airflow does not know the DAG yet, wait for the DAG
    processor to add it (unpaused); without one, `dags test` adds it paused (its environment).
    """
    deadline = time.monotonic() + wait
    while True:
        before = set_paused(settings, True)
        if before is not None:
            return before
        if procs.read_pid(settings, "airflow-dag-processor") is None or time.monotonic() > deadline:
            return False
        time.sleep(2)


def dags_test_argv(
    settings: Settings, run_month: str, logical_date: str | None = None, *, use_executor: bool = True
) -> list[str]:
    """`airflow dags test` of the monthly DAG for ``run_month``: the logical date is now unless given.

    The run month travels in the conf; the logical date is only the run's record. Now, not a past
    16th: `dags test` records the run's start as its logical date (a past 16th made the UI show
    weeks as its duration, and a second attempt at the same date replaced the first one's record).
    ``use_executor``: tasks run under the LocalExecutor as in production (needs the API server).
    """
    import datetime as dt

    logical = logical_date or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    argv = [str(venv(settings) / "bin" / "airflow"), "dags", "test", DAG_ID, logical]
    if use_executor:
        argv.append("--use-executor")
    return [*argv, "--conf", json.dumps({"run_month": run_month})]


def dags_test(
    settings: Settings,
    run_month: str,
    logical_date: str | None = None,
    timeout: float = 900,
    extra_env: dict[str, str] | None = None,
):
    """Run the monthly DAG once with `airflow dags test` for `run_month`; returns CompletedProcess.

    ``--use-executor``: the tasks run as in production (LocalExecutor, one supervised process
    each) and write their logs under the log folder, so the UI and the API show them, failed
    tasks' included. The API server must be up (the tasks talk to its execution API).

    The logical date is now (the run month comes from the conf): `dags test` records the run's
    start as its logical date, so a past 16th made the UI show weeks as its duration, and a second
    attempt at the same logical date replaced the first one's record. The DAG is paused while the
    run goes and unpaused again afterwards unless it was paused before (:func:`_pause_for_dags_test`).
    """
    environ = env(settings)
    environ["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "True"  # if it adds the DAG: paused, as it runs
    environ.update(extra_env or {})
    wait_healthy(settings, timeout=60)
    leave_paused = _pause_for_dags_test(settings)
    try:
        result = subprocess.run(
            dags_test_argv(settings, run_month, logical_date),
            env=environ,
            text=True,
            capture_output=True,
            timeout=timeout,
        )
    finally:
        if not leave_paused:
            set_paused(settings, False)
    # Keep the run's log (task logs of `dags test` go to its output) for people and the privacy scan.
    log_file = settings.state_dir / "logs" / f"dags-test-{run_month}-{time.strftime('%Y%m%dT%H%M%S')}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text(result.stdout + result.stderr, encoding="utf-8")
    return result


if __name__ == "__main__":
    from mimamori.settings import get_settings

    if sys.argv[1:] == ["ensure-admin"]:  # run by ensure_admin() in the Airflow venv; password on stdin
        domain = get_settings().mail_from.partition("@")[2] or "localhost"
        print(upsert_admin_in_process(sys.stdin.readline().rstrip("\n"), f"airflow-admin@{domain}"))
    else:  # debugging aid
        print(json.dumps({k: v for k, v in env(get_settings()).items() if k.startswith("AIRFLOW__CORE")}, indent=1))
    sys.exit(0)
