"""The project-local PostgreSQL cluster (Debian's server binaries, C.UTF-8, contrib).

postgres refuses to run as root: when we are root, the cluster belongs to the ``postgres``
system user and every server binary is run through ``runuser``; as an ordinary user it is
simply ours. Every connection needs a password (scram-sha-256), over TCP on 127.0.0.1 and on the
Unix socket alike: ``pg_hba.conf`` is written by :func:`write_hba` at every start and has no
``trust`` line. The socket lives in ``.local/pg/run``, a directory closed to other OS users (0700,
and the socket itself 0700), so another local account cannot even reach it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mimamori.settings import ROLES, Settings

PG_BIN_CANDIDATES = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin")]
EXTENSIONS = ("pg_trgm", "fuzzystrmatch", "unaccent")


def pg_bin() -> Path:
    from mimamori.settings import get_settings

    env = get_settings().pg_bin
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
    os.chmod(socket_dir(settings), 0o700)
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
                "--auth-local=scram-sha-256",
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


HBA = """\
# Written by mimamori.stack.pg at every start: edit write_hba() there, not this file.
# No trust: every connection, the Unix socket's included, needs its role's password.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  scram-sha-256
host    all       all   127.0.0.1/32   scram-sha-256
"""


def write_hba(settings: Settings) -> bool:
    """Write pg_hba.conf (scram only, loopback only); True when it changed (a reload is due)."""
    path = data_dir(settings) / "pg_hba.conf"
    if path.exists() and path.read_text() == HBA:
        return False
    path.write_text(HBA)
    os.chmod(path, 0o600)
    if _as_root():
        owner = pwd.getpwnam("postgres")
        os.chown(path, owner.pw_uid, owner.pw_gid)
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
    changed = write_hba(settings)
    if is_running(settings):
        _prepare_dirs(settings)
        if changed:  # a cluster from before: take its trust lines away now
            _run_as_owner(
                [str(pg_bin() / "pg_ctl"), "-D", str(data_dir(settings)), "reload"], stdout=subprocess.DEVNULL
            )
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
        f"-c unix_socket_directories={socket_dir(settings)} -c unix_socket_permissions=0700 "
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
    """The stack's own connections (provisioning, readiness); runtime code uses :func:`mimamori.db.connect`."""
    from mimamori import db as warehouse

    return warehouse.connect(settings, db, role, **kwargs)


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

    - loader: owns schemas ``raw`` and ``ingest`` (the extracts as delivered, lineage); writes nothing else;
    - transformer: reads raw/ingest/casework, builds every dbt schema, owns and publishes
      ``published``, ``published_pseudo`` and ``history``;
    - the audiences' roles and logins (``mimamori.access``, seeds in ``dbt_project/seeds/access``):
      what each may read is granted table by table from the declaration (:func:`access.apply_published`),
      never by default privileges;
    - airflow, superset: own their metadata databases; no other role may even connect to those.
    """
    from psycopg import sql

    from mimamori import access

    decl = access.declaration(str(settings.root))
    wait_ready(settings)
    logins = decl.login_roles()
    with connect(settings, "postgres", autocommit=True) as conn:
        for role in ROLES:
            password = settings.role_passwords.get(role) or ""
            exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
            verb = "alter" if exists else "create"
            conn.execute(
                sql.SQL(verb + " role {} login password {}").format(sql.Identifier(role), sql.Literal(password))
            )
        for stmt in access.role_statements(decl, settings.role_passwords):
            conn.execute(stmt)
        for db, owner in (
            (settings.warehouse_db, settings.pg_superuser),
            (settings.airflow_db, "airflow"),
            (settings.superset_db, "superset"),
        ):
            if not conn.execute("select 1 from pg_database where datname = %s", (db,)).fetchone():
                conn.execute(sql.SQL("create database {} owner {}").format(sql.Identifier(db), sql.Identifier(owner)))
        # nobody connects to a database that is not theirs (the owners keep their implicit right)
        for db in (settings.warehouse_db, settings.airflow_db, settings.superset_db, "postgres", "template1"):
            conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(sql.Identifier(db)))
    with connect(settings, settings.warehouse_db, autocommit=True) as conn:
        for ext in EXTENSIONS:
            conn.execute(sql.SQL("create extension if not exists {}").format(sql.Identifier(ext)))
        db = sql.Identifier(settings.warehouse_db)
        everyone = sql.SQL(", ").join(map(sql.Identifier, ["loader", "transformer", *logins]))
        stmts = [
            sql.SQL("revoke create on schema public from public"),
            sql.SQL("grant connect on database {} to {}").format(db, everyone),
            sql.SQL("grant create on database {} to transformer").format(db),
            # the pipeline's temporary tables (dbt unit tests, loads); the audiences get none
            sql.SQL("grant temporary on database {} to loader, transformer").format(db),
            sql.SQL("create schema if not exists raw authorization loader"),
            sql.SQL("create schema if not exists ingest authorization loader"),
            sql.SQL("create schema if not exists casework authorization transformer"),
            sql.SQL("create schema if not exists published authorization transformer"),
            sql.SQL("create schema if not exists published_pseudo authorization transformer"),
            sql.SQL("create schema if not exists history authorization transformer"),
            sql.SQL("grant usage on schema raw, ingest to transformer"),
            sql.SQL("grant select on all tables in schema raw, ingest to transformer"),
            sql.SQL(
                "alter default privileges for role loader in schema raw, ingest grant select on tables to transformer"
            ),
        ]
        # no default privileges for any audience (a cluster provisioned before keeps none of its old ones)
        managed = sql.SQL(", ").join(map(sql.Identifier, decl.managed_roles()))
        for schema in ("published", "published_pseudo", "history", "casework"):
            for kind in ("tables", "sequences", "functions"):
                stmts.append(
                    sql.SQL(
                        "alter default privileges for role transformer in schema {} revoke all on {} from {}"
                    ).format(sql.Identifier(schema), sql.SQL(kind), managed)
                )
        for stmt in stmts:
            conn.execute(stmt)
    # the casework tables (owned by the case screen's schema module), then exactly the
    # declaration's grants on what exists, now rather than at the next publication
    from mimamori.casescreen.schema import create_tables

    with connect(settings, settings.warehouse_db, role="transformer") as conn:
        create_tables(conn)
        access.apply_published(conn, decl)
        access.apply_casework(conn, decl)


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


@contextmanager
def own_cluster(state_dir: Path, port: int) -> Iterator[Settings]:
    """The settings of a cluster of this process's own (state under `state_dir`, on `port`, no
    warehouse DSN override); at the end the cluster is stopped unless it was running before."""
    os.environ["MIMAMORI_STATE_DIR"] = str(state_dir)
    os.environ["MIMAMORI_PG_PORT"] = str(port)
    os.environ.pop("MIMAMORI_WAREHOUSE_DSN", None)
    from mimamori.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    was_running = is_running(settings)
    try:
        yield settings
    finally:
        if not was_running:  # the cluster this process started: never left running
            stop(settings)


def server_available() -> bool:
    try:
        pg_bin()
    except FileNotFoundError:
        return False
    return shutil.which("runuser") is not None or not _as_root()
