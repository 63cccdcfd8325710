"""Backup and restore of the warehouse — every schema, the casework record included.

    python -m mimamori.backup backup  [--file F]   # pg_dump -Fc → <state_dir>/backups/warehouse-<time>.dump
    python -m mimamori.backup restore [--file F]   # latest backup unless --file; asks nothing, see below
    python -m mimamori.backup list

(``make backup`` / ``make restore [FILE=…]``.) Uses PostgreSQL's own ``pg_dump``/``pg_restore``
(the cluster's binaries, ``mimamori.stack.pg.pg_bin()``), connected as the cluster superuser over
TCP with the password from the settings (``PGPASSWORD`` in the child's environment only).

Restore replaces the warehouse's contents with the backup's: it first takes a safety backup
(``pre-restore-<time>.dump``), then in one transaction drops every application schema (all but
``public`` and the system schemas) and runs ``pg_restore --single-transaction`` — owners, grants
and default privileges come back as they were (roles themselves are cluster-wide and are not
touched; ``python -m mimamori.stack pg`` provisions them). Stop the case screen and the DAG while
restoring: their sessions hold locks (``lock_timeout`` 60 s, then restore fails with nothing
changed). Airflow's and Superset's own databases are not part of this backup.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from psycopg import sql

from mimamori.settings import Settings, get_settings

SYSTEM_SCHEMAS = ("public", "information_schema")


class BackupError(RuntimeError):
    pass


def backup_dir(settings: Settings) -> Path:
    return settings.state_dir / "backups"


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": settings.pg_host,
            "PGPORT": str(settings.pg_port),
            "PGUSER": settings.pg_superuser,
            "PGDATABASE": settings.warehouse_db,
        }
    )
    if settings.pg_password:
        env["PGPASSWORD"] = settings.pg_password
    return env


def _bin(name: str) -> str:
    from mimamori.stack import pg

    return str(pg.pg_bin() / name)


def backup(settings: Settings, file: Path | None = None, *, prefix: str = "warehouse") -> Path:
    """pg_dump (custom format, compressed) of the whole warehouse database; returns the file."""
    if file is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        file = backup_dir(settings) / f"{prefix}-{stamp}.dump"
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(file.suffix + ".part")
    proc = subprocess.run(
        [_bin("pg_dump"), "--format=custom", "--file", str(tmp), settings.warehouse_db],
        env=_env(settings),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {proc.stderr.strip()}")
    os.chmod(tmp, 0o600)
    tmp.replace(file)
    return file


def latest(settings: Settings) -> Path | None:
    files = sorted(backup_dir(settings).glob("warehouse-*.dump"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None


def _dump_schemas(file: Path) -> list[str]:
    proc = subprocess.run([_bin("pg_restore"), "--list", str(file)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(f"not a pg_dump archive: {file}: {proc.stderr.strip()}")
    schemas = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        # e.g. "123; 2615 16390 SCHEMA - raw loader"
        if len(parts) >= 6 and parts[3] == "SCHEMA":
            schemas.append(parts[5])
    return schemas


def restore(settings: Settings, file: Path | None = None, *, safety_backup: bool = True) -> dict:
    """Replace the warehouse's schemas with the backup's (see the module doc)."""
    from mimamori import db

    file = file or latest(settings)
    if file is None or not Path(file).is_file():
        raise BackupError(f"no backup file to restore (looked in {backup_dir(settings)})")
    file = Path(file)
    in_dump = _dump_schemas(file)
    t0 = time.monotonic()
    safety = backup(settings, prefix="pre-restore") if safety_backup else None
    with db.connect(settings) as conn:
        with conn.transaction():
            conn.execute("set local lock_timeout = '60s'")
            present = [
                r[0]
                for r in conn.execute(
                    "select nspname from pg_namespace where nspname !~ '^pg_' and nspname <> all(%s)",
                    (list(SYSTEM_SCHEMAS),),
                ).fetchall()
            ]
            for schema in present:
                conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
    proc = subprocess.run(
        [
            _bin("pg_restore"),
            "--dbname",
            settings.warehouse_db,
            "--single-transaction",
            "--exit-on-error",
            str(file),
        ],
        env=_env(settings),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BackupError(
            f"pg_restore failed (the schemas were dropped; the safety backup is {safety}): {proc.stderr.strip()}"
        )
    return {
        "restored": str(file),
        "schemas": sorted(s for s in in_dump if s not in SYSTEM_SCHEMAS),
        "dropped": sorted(present),
        "safety_backup": str(safety) if safety else None,
        "seconds": round(time.monotonic() - t0, 1),
    }


def table_checksums(settings: Settings, schemas: tuple[str, ...] = ("published", "casework")) -> dict[str, str]:
    """md5 of every table's contents (rows as text, sorted) in ``schemas`` — to compare a restore."""
    from mimamori import db

    out: dict[str, str] = {}
    with db.connect(settings, autocommit=True) as conn:
        for schema, table in db.base_tables(conn, schemas):
            digest = conn.execute(
                sql.SQL(
                    "select count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '')"
                    " from {} as t"
                ).format(sql.Identifier(schema, table))
            ).fetchone()[0]
            out[f"{schema}.{table}"] = digest
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimamori.backup", description="倉庫（warehouse）のバックアップと復元"
    )
    parser.add_argument("command", choices=("backup", "restore", "list"))
    parser.add_argument(
        "--file", type=Path, help="バックアップファイル（既定: backup は新しいファイル、restore は最新）"
    )
    parser.add_argument(
        "--no-safety-backup", action="store_true", help="restore の前の安全のためのバックアップを取らない"
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        if args.command == "backup":
            print(backup(settings, args.file))
        elif args.command == "restore":
            print(json.dumps(restore(settings, args.file, safety_backup=not args.no_safety_backup), ensure_ascii=False))
        else:
            for f in sorted(backup_dir(settings).glob("*.dump"), key=lambda p: p.stat().st_mtime):
                print(f"{f}\t{f.stat().st_size:,} bytes")
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
