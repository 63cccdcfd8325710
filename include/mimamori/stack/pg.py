"""The project-local PostgreSQL cluster (Debian's server binaries, C.UTF-8, contrib).

postgres refuses to run as root: when we are root, the cluster belongs to the ``postgres``
system user and every server binary is run through ``runuser``; as an ordinary user it is
simply ours. Host connections need a password (scram-sha-256); the Unix socket lives in
``.local/pg/run`` and is trusted for the cluster's owner only.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

from mimamori.settings import ROLES, Settings

PG_BIN_CANDIDATES = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin")]
EXTENSIONS = ("pg_trgm", "fuzzystrmatch", "unaccent")


def pg_bin() -> Path:
    env = os.environ.get("MIMAMORI_PG_BIN")
    candidates = [Path(env)] if env else PG_BIN_CANDIDATES
    for path in candidates:
        if (path / "initdb").exists():
            return path
    raise FileNotFoundError(
        "PostgreSQL server binaries not found (looked in "
        + ", ".join(map(str, candidates))
        + "); run `make deps` as root or set MIMAMORI_PG_BIN"
    )


def _as_root() -> bool:
    return os.geteuid() == 0


def _run_as_owner(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    if _as_root():
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, check=True, **kwargs)


def data_dir(settings: Settings) -> Path:
    return settings.pg_dir / "data"


def socket_dir(settings: Settings) -> Path:
    return settings.pg_dir / "run"


def log_file(settings: Settings) -> Path:
    return settings.pg_dir / "postgresql.log"


def _prepare_dirs(settings: Settings) -> None:
    for path in (settings.pg_dir, socket_dir(settings)):
        path.mkdir(parents=True, exist_ok=True)
    if _as_root():
        # postgres must be able to traverse every parent of its data directory.
        for parent in reversed(settings.pg_dir.parents):
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o011)
        owner = pwd.getpwnam("postgres")
        for path in (settings.pg_dir, socket_dir(settings)):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        log = log_file(settings)
        log.touch(exist_ok=True)
        os.chown(log, owner.pw_uid, owner.pw_gid)


def is_initialised(settings: Settings) -> bool:
    return (data_dir(settings) / "PG_VERSION").exists()


def init(settings: Settings) -> bool:
    """initdb on first use; returns True if a new cluster was made."""
    if is_initialised(settings):
        return False
    if not settings.pg_password:
        raise RuntimeError("MIMAMORI_PG_PASSWORD is empty: run `make env` to generate .env")
    _prepare_dirs(settings)
    pwfile = settings.pg_dir / ".pwfile"
    pwfile.write_text(settings.pg_password + "\n")
    os.chmod(pwfile, 0o600)
    if _as_root():
        owner = pwd.getpwnam("postgres")
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    try:
        _run_as_owner(
            [
                str(pg_bin() / "initdb"),
                "-D",
                str(data_dir(settings)),
                "-U",
                settings.pg_superuser,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            stdout=subprocess.DEVNULL,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    return True


def is_running(settings: Settings) -> bool:
    if not is_initialised(settings):
        return False
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", str(pg_bin() / "pg_ctl"), "-D", str(data_dir(settings)), "status"]
        if _as_root()
        else [str(pg_bin() / "pg_ctl"), "-D", str(data_dir(settings)), "status"],
        capture_output=True,
    )
    return result.returncode == 0


def start(settings: Settings) -> None:
    if settings.warehouse_dsn_override:
        return
    init(settings)
    if is_running(settings):
        return
    from mimamori.stack.procs import port_open

    if port_open(settings.pg_port, settings.pg_host):
        raise RuntimeError(
            f"port {settings.pg_host}:{settings.pg_port} is already in use by another program: "
            "stop it or set MIMAMORI_PG_PORT in .env"
        )
    _prepare_dirs(settings)
    options = (
        f"-p {settings.pg_port} -c listen_addresses={settings.pg_host} "
        f"-c unix_socket_directories={socket_dir(settings)} "
        "-c max_connections=200 -c shared_buffers=256MB -c work_mem=32MB "
        "-c maintenance_work_mem=256MB -c fsync=on -c synchronous_commit=off"
    )
    _run_as_owner(
        [
            str(pg_bin() / "pg_ctl"),
            "-D",
            str(data_dir(settings)),
            "-l",
            str(log_file(settings)),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        stdout=subprocess.DEVNULL,
    )


def stop(settings: Settings) -> bool:
    if not is_running(settings):
        return False
    _run_as_owner(
        [str(pg_bin() / "pg_ctl"), "-D", str(data_dir(settings)), "-m", "fast", "-w", "stop"],
        stdout=subprocess.DEVNULL,
    )
    return True


def connect(settings: Settings, db: str | None = None, role: str | None = None, **kwargs):
    import psycopg

    return psycopg.connect(settings.dsn(db, role), **kwargs)


def wait_ready(settings: Settings, timeout: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(settings.dsn("postgres"), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def provision(settings: Settings) -> None:
    """Databases, roles and grants (idempotent). Least privilege:

    - loader: owns schema ``raw`` (and ``ingest``: lineage, rejections); writes nothing else;
    - transformer: reads raw/ingest/casework, builds every dbt schema, publishes;
    - dashboard: reads ``published`` only;  analyst: reads ``published_pseudo`` only;
    - casework: reads ``published``, writes ``casework`` only (the case screen).
    """
    from psycopg import sql

    wait_ready(settings)
    with connect(settings, "postgres", autocommit=True) as conn:
        for role in ROLES:
            password = settings.role_passwords.get(role) or ""
            exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
            verb = "alter" if exists else "create"
            conn.execute(
                sql.SQL(verb + " role {} login password {}").format(sql.Identifier(role), sql.Literal(password))
            )
        for db, owner in (
            (settings.warehouse_db, settings.pg_superuser),
            (settings.airflow_db, "airflow"),
            (settings.superset_db, "superset"),
        ):
            if not conn.execute("select 1 from pg_database where datname = %s", (db,)).fetchone():
                conn.execute(sql.SQL("create database {} owner {}").format(sql.Identifier(db), sql.Identifier(owner)))
        conn.execute(sql.SQL("revoke connect on database {} from public").format(sql.Identifier(settings.warehouse_db)))
    with connect(settings, settings.warehouse_db, autocommit=True) as conn:
        for ext in EXTENSIONS:
            conn.execute(sql.SQL("create extension if not exists {}").format(sql.Identifier(ext)))
        stmts = [
            "revoke create on schema public from public",
            "grant connect on database {db} to loader, transformer, dashboard, casework, analyst",
            "grant create on database {db} to transformer",
            "create schema if not exists raw authorization loader",
            "create schema if not exists ingest authorization loader",
            "create schema if not exists casework authorization transformer",
            "create schema if not exists published authorization transformer",
            "create schema if not exists published_pseudo authorization transformer",
            "create schema if not exists history authorization transformer",
            "grant usage on schema raw, ingest to transformer",
            "grant select on all tables in schema raw, ingest to transformer",
            "alter default privileges for role loader in schema raw, ingest grant select on tables to transformer",
            "grant usage on schema published to dashboard, casework",
            # Every published month stays selectable (dashboards' month selector, score history).
            "grant usage on schema history to dashboard, casework",
            "alter default privileges for role transformer in schema history grant select on tables to dashboard, casework",
            "alter default privileges for role transformer in schema published grant select on tables to dashboard, casework",
            "grant usage on schema published_pseudo to analyst",
            "alter default privileges for role transformer in schema published_pseudo grant select on tables to analyst",
            "grant usage on schema casework to casework",
            "alter default privileges for role transformer in schema casework "
            "grant select, insert, update on tables to casework",
            "alter default privileges for role transformer in schema casework grant usage on sequences to casework",
        ]
        for stmt in stmts:
            conn.execute(stmt.format(db=sql.Identifier(settings.warehouse_db).as_string(conn)))


def reset_warehouse(settings: Settings) -> None:
    """Drop the warehouse database (all months, casework included) and provision it afresh.

    For the test suite, so every session starts from the empty warehouse a fresh clone has; never
    called by the monthly run or ``make`` targets.
    """
    from psycopg import sql

    if settings.warehouse_dsn_override:
        raise RuntimeError("refusing to drop a warehouse that is not the project-local cluster's")
    start(settings)
    wait_ready(settings)
    with connect(settings, "postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(settings.warehouse_db)))
    provision(settings)


def ensure(settings: Settings) -> None:
    """Initialise (first use), start and provision the cluster."""
    start(settings)
    if not settings.warehouse_dsn_override:
        provision(settings)


def server_available() -> bool:
    try:
        pg_bin()
    except FileNotFoundError:
        return False
    return shutil.which("runuser") is not None or not _as_root()
