"""`python -m mimamori.stack up|down|status|logs|pg|pause|unpause` — the local stack (see `make help`)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from mimamori.settings import get_settings
from mimamori.stack import procs


def _say(message: str) -> None:
    print(f"[mimamori] {message}", flush=True)


def up(with_superset: bool = True) -> None:
    from mimamori.stack import airflow, pg

    settings = get_settings()
    t0 = time.monotonic()
    pg.ensure(settings)
    _say(f"PostgreSQL ready on 127.0.0.1:{settings.pg_port} ({time.monotonic() - t0:.1f}s)")
    start_mail(settings)
    from mimamori.stack import docs

    docs.start(settings)
    airflow.migrate(settings, log=_say)
    airflow.start(settings, log=_say)
    if with_superset:
        from mimamori.stack import superset

        superset.init(settings)
        superset.start(settings)
    from mimamori.stack import casescreen

    casescreen.init(settings)
    casescreen.ensure_admin(settings)
    casescreen.start(settings)
    airflow.wait_healthy(settings)
    _say(f"Airflow ready at {airflow.url(settings)}")
    casescreen.wait_healthy(settings)
    _say(f"case screen ready at {casescreen.url(settings)}")
    if with_superset:
        superset.wait_healthy(settings)
        from mimamori import superset_assets

        superset_assets.main(["all"])
        _say(f"Superset ready at {superset.url(settings)} (dashboards, roles and users provisioned)")


def start_mail(settings) -> None:
    exe = settings.root / ".local" / "venv" / "airflow" / "bin" / "python"
    procs.start(
        settings,
        "mailcatcher",
        [
            str(exe),
            "-m",
            "mimamori.stack.mailcatcher",
            "--port",
            str(settings.smtp_port),
            "--dir",
            str(settings.mail_dir),
        ],
        env={"PYTHONPATH": str(settings.root / "include"), "PATH": "/usr/bin:/bin"},
    )
    procs.wait_port(settings.smtp_port, 20, "mail catcher")


def down() -> None:
    from mimamori.stack import airflow, pg

    settings = get_settings()
    stopped = []
    try:
        from mimamori.stack import superset

        if superset.stop(settings):
            stopped.append("superset")
    except ImportError:
        pass
    from mimamori.stack import casescreen

    if casescreen.stop(settings):
        stopped.append("casescreen")
    stopped += airflow.stop(settings)
    from mimamori.stack import docs

    if docs.stop(settings):
        stopped.append("docs")
    if procs.stop(settings, "mailcatcher"):
        stopped.append("mailcatcher")
    if pg.stop(settings):
        stopped.append("postgresql")
    _say("stopped: " + (", ".join(stopped) or "nothing was running"))


def status() -> int:
    from mimamori.stack import airflow, pg

    settings = get_settings()
    rows = [
        ("postgresql", pg.is_running(settings), f"postgresql://127.0.0.1:{settings.pg_port}/{settings.warehouse_db}")
    ]
    rows.append(
        (
            "mailcatcher",
            bool(procs.read_pid(settings, "mailcatcher")),
            f"smtp://127.0.0.1:{settings.smtp_port} → {settings.mail_dir}/*.eml",
        )
    )
    from mimamori.stack import casescreen

    rows.append(("casescreen", bool(procs.read_pid(settings, "casescreen")), casescreen.url(settings)))
    rows.append(
        ("docs", bool(procs.read_pid(settings, "docs")), f"{settings.docs_url}/  (GX data docs /gx/, dbt docs /dbt/)")
    )
    for name in airflow.SERVICES:
        rows.append(
            (name, bool(procs.read_pid(settings, name)), airflow.url(settings) if name.endswith("api-server") else "")
        )
    try:
        from mimamori.stack import superset

        rows.append(("superset", bool(procs.read_pid(settings, "superset")), superset.url(settings)))
    except ImportError:
        pass
    width = max(len(r[0]) for r in rows)
    for name, running, where in rows:
        print(f"  {name:<{width}}  {'running' if running else 'stopped':<8} {where}")
    print(
        "\n  login: admin, one password per service in .env — MIMAMORI_AIRFLOW_ADMIN_PASSWORD,"
        " MIMAMORI_SUPERSET_ADMIN_PASSWORD, MIMAMORI_CASESCREEN_ADMIN_PASSWORD"
    )
    print(f"  inbox: {settings.inbox_dir}")
    print(f"  logs:  {procs.log_dir(settings)}  (make logs)")
    print(f"  monthly DAG: {schedule_state(settings)}")
    return 0


def schedule_state(settings) -> str:
    """The monthly DAG's schedule as the IT person reads it (paused or not, and the next run)."""
    from mimamori.stack import airflow, pg

    if not pg.is_running(settings):
        return "unknown (PostgreSQL is stopped)"
    try:
        with pg.connect(settings, settings.airflow_db, role="airflow") as conn:
            row = conn.execute(
                "select is_paused, next_dagrun_create_after from dag where dag_id = %s", (airflow.DAG_ID,)
            ).fetchone()
    except Exception as exc:  # noqa: BLE001 - status never fails on this line
        return f"unknown ({type(exc).__name__})"
    if row is None:
        return f"{airflow.DAG_ID} not yet in Airflow (the DAG processor adds it after make up)"
    paused, next_run = row
    if paused:
        return f"{airflow.DAG_ID} 一時停止中 (paused: no scheduled run; make unpause)"
    return f"{airflow.DAG_ID} 有効 (unpaused), next scheduled run {next_run:%Y-%m-%d %H:%M} UTC (make pause)"


def pause(paused: bool) -> int:
    """`make pause` / `make unpause`: Airflow's own CLI (the same as the toggle in its UI)."""
    from mimamori.stack import airflow, pg

    settings = get_settings()
    if not pg.is_running(settings):
        _say("PostgreSQL is stopped: run make up first")
        return 1
    result = airflow._airflow(settings, "dags", "pause" if paused else "unpause", airflow.DAG_ID, check=False)
    print(f"  monthly DAG: {schedule_state(settings)}")
    return result.returncode


def logs(lines: int) -> None:
    settings = get_settings()
    for path in sorted(procs.log_dir(settings).glob("*.log")):
        print(f"==> {path} <==")
        subprocess.run(["tail", "-n", str(lines), str(path)], check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimamori.stack", description="mimamori local stack")
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start PostgreSQL, the mail catcher, Airflow and Superset")
    p_up.add_argument("--no-superset", action="store_true")
    sub.add_parser("down", help="stop everything the project started (by PID file)")
    sub.add_parser("status", help="what runs, on which URL, logins")
    p_logs = sub.add_parser("logs", help="the last lines of every service log")
    p_logs.add_argument("-n", type=int, default=30)
    sub.add_parser("pg", help="start only the project-local PostgreSQL")
    sub.add_parser("pause", help="pause the monthly DAG (no scheduled run until unpaused)")
    sub.add_parser("unpause", help="unpause the monthly DAG (the scheduler runs it on the 16th)")
    args = parser.parse_args(argv)
    if args.command == "up":
        up(with_superset=not args.no_superset)
        return status()
    if args.command == "down":
        down()
    elif args.command == "status":
        return status()
    elif args.command == "logs":
        logs(args.n)
    elif args.command in ("pause", "unpause"):
        return pause(args.command == "pause")
    elif args.command == "pg":
        from mimamori.stack import pg

        pg.ensure(get_settings())
    return 0


if __name__ == "__main__":
    sys.exit(main())
