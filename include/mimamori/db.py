"""Connecting to the warehouse: the one way runtime code opens a PostgreSQL connection.

``connect(settings, role="transformer")`` logs in as one of the project's roles with its own
password (``Settings.dsn``). Starting, stopping and provisioning the local cluster is the local
stack's business (:mod:`mimamori.stack.pg`); the pipeline, gates, publish, report and tools only
connect, so they work the same against a town's own PostgreSQL server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

    from mimamori.settings import Settings


def connect(settings: Settings, db: str | None = None, role: str | None = None, **kwargs) -> psycopg.Connection:
    """A psycopg connection to database ``db`` (default: the warehouse) as ``role``."""
    import psycopg

    return psycopg.connect(settings.dsn(db, role), **kwargs)


def base_tables(conn, schemas) -> list[tuple[str, str]]:
    """(schema, table) of every base table in `schemas`, in name order (views left out)."""
    return conn.execute(
        "select table_schema, table_name from information_schema.tables where table_schema = any(%s)"
        " and table_type = 'BASE TABLE' order by 1, 2",
        (list(schemas),),
    ).fetchall()
