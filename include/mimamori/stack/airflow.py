"""Airflow 3 for the local stack: environment, metadata DB, services, and `airflow dags test`.

The metadata database is the project-local PostgreSQL (`airflow` database and role). The
warehouse and SMTP connections are given to Airflow as ``AIRFLOW_CONN_*`` environment
variables built from the settings, so nothing secret is stored in Airflow's database.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mimamori.settings import Settings
from mimamori.stack import procs

DAG_ID = "mimamori_monthly"
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
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(airflow_home / "passwords.json"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url(settings)}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(settings.airflow_port),
            "AIRFLOW__API__BASE_URL": url(settings),
            "AIRFLOW__API__WORKERS": "1",
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
            "MIMAMORI_GX_DOCS_URL": settings.gx_docs_url,
        }
    )
    if settings.airflow_secret_key:
        result["AIRFLOW__API__SECRET_KEY"] = settings.airflow_secret_key
    jwt = os.environ.get("AIRFLOW__API_AUTH__JWT_SECRET") or _dotenv_value(settings, "AIRFLOW__API_AUTH__JWT_SECRET")
    if jwt:
        result["AIRFLOW__API_AUTH__JWT_SECRET"] = jwt
    result.update(connections(settings))
    # Settings the project's own code reads (the DAG runs in these processes).
    result["MIMAMORI_STATE_DIR"] = str(settings.state_dir)
    result["MIMAMORI_INBOX"] = str(settings.inbox_dir)
    result["MIMAMORI_PG_PORT"] = str(settings.pg_port)
    result["MIMAMORI_SMTP_PORT"] = str(settings.smtp_port)
    result["MIMAMORI_AIRFLOW_PORT"] = str(settings.airflow_port)
    return result


def _dotenv_value(settings: Settings, key: str) -> str:
    from mimamori.settings import _read_dotenv

    return _read_dotenv(settings.root / ".env").get(key, "")


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
    (airflow_home / "passwords.json").write_text(json.dumps({"admin": settings.admin_password}))
    (airflow_home / "passwords.json").chmod(0o600)
    marker = airflow_home / ".migrated"
    stamp = hashlib.sha256(
        (
            settings.dsn(settings.airflow_db, role="airflow")
            + (settings.root / "requirements" / "airflow.lock").read_text()
        ).encode()
    ).hexdigest()
    if marker.exists() and marker.read_text() == stamp:
        return False
    log("airflow: migrating the metadata database (first run takes ~10 s)")
    t0 = time.monotonic()
    _airflow(settings, "db", "migrate", capture=True)
    marker.write_text(stamp)
    log(f"airflow: metadata database ready in {time.monotonic() - t0:.1f}s")
    return True


def log_server_argv(settings: Settings, port: int) -> list[str]:
    """Airflow's log-server app (what serve-logs runs) on 127.0.0.1 only."""
    python = str(venv(settings) / "bin" / "python")
    app = "airflow.utils.serve_logs.log_server:get_app"
    return [python, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]


def start(settings: Settings) -> None:
    environ = env(settings)
    exe = str(venv(settings) / "bin" / "airflow")
    for name, argv in (
        ("airflow-api-server", [exe, "api-server"]),
        ("airflow-scheduler", [exe, "scheduler", "--skip-serve-logs"]),
        ("airflow-dag-processor", [exe, "dag-processor"]),
        ("airflow-triggerer", [exe, "triggerer", "--skip-serve-logs"]),
        ("airflow-log-server", log_server_argv(settings, settings.airflow_log_port)),
        ("airflow-trigger-log-server", log_server_argv(settings, settings.airflow_trigger_log_port)),
    ):
        procs.start(settings, name, argv, env=environ)


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
    """
    logical = logical_date or f"{_next_month(run_month)}-16"
    environ = env(settings)
    environ.update(extra_env or {})
    wait_healthy(settings, timeout=60)
    result = subprocess.run(
        [
            str(venv(settings) / "bin" / "airflow"),
            "dags",
            "test",
            DAG_ID,
            logical,
            "--use-executor",
            "--conf",
            json.dumps({"run_month": run_month}),
        ],
        env=environ,
        text=True,
        capture_output=True,
        timeout=timeout,
    )
    # Keep the run's log (task logs of `dags test` go to its output) for people and the privacy scan.
    log_file = settings.state_dir / "logs" / f"dags-test-{run_month}-{time.strftime('%Y%m%dT%H%M%S')}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text(result.stdout + result.stderr, encoding="utf-8")
    return result


def _next_month(month: str) -> str:
    year, mon = map(int, month.split("-"))
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return f"{year:04d}-{mon:02d}"


if __name__ == "__main__":  # pragma: no cover - debugging aid
    from mimamori.settings import get_settings

    print(json.dumps({k: v for k, v in env(get_settings()).items() if k.startswith("AIRFLOW__CORE")}, indent=1))
    sys.exit(0)
