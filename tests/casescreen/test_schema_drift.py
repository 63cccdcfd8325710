"""The casework tables have two creators that must agree: the dbt on-run-start hooks (so a fresh
warehouse's first run has them) and the case screen's ``init-db`` (so the screen can start
first). Both use ``create table if not exists``, so whichever runs first wins and a drift between
the two DDLs would go unnoticed. This test runs both orders in throw-away schemas and requires
the same tables, columns, types, nullability and check constraints either way.
"""

from __future__ import annotations

import dataclasses

import jinja2
import pytest

HOOK_MACROS = {
    "macros/identity/decisions.sql": "identity_create_decisions_table",
    "macros/judgement/casework_tables.sql": "create_judgement_casework_tables",
    "macros/governance/governance_tables.sql": "create_governance_casework_tables",
}
DBT_FIRST, SCREEN_FIRST = "cs_drift_dbt_first", "cs_drift_screen_first"


def _hook_sql(settings, schema: str) -> str:
    """The hooks as dbt renders them (execute = true), aimed at another schema."""
    project = settings.root / "dbt_project"
    rendered = []
    for path, macro in HOOK_MACROS.items():
        text = (project / path).read_text(encoding="utf-8")
        template = jinja2.Environment().from_string(text + "\n{{ " + macro + "() }}")
        rendered.append(template.render(execute=True))
    sql = ";\n".join(rendered)
    assert "casework." in sql
    return sql.replace("create schema if not exists casework", f"create schema if not exists {schema}").replace(
        "casework.", f"{schema}."
    )


def _shape(conn, schema: str) -> dict:
    columns = conn.execute(
        """
        select table_name, column_name, data_type, is_nullable
        from information_schema.columns
        where table_schema = %s
        order by table_name, column_name
        """,
        (schema,),
    ).fetchall()
    checks = conn.execute(
        """
        select rel.relname, pg_get_constraintdef(con.oid)
        from pg_constraint as con
        join pg_class as rel on rel.oid = con.conrelid
        join pg_namespace as nsp on nsp.oid = rel.relnamespace
        where nsp.nspname = %s and con.contype in ('c', 'p', 'u')
        order by 1, 2
        """,
        (schema,),
    ).fetchall()
    return {"columns": columns, "checks": checks}


@pytest.fixture()
def drift_schemas(cs_config, cw_conn):
    for schema in (DBT_FIRST, SCREEN_FIRST):
        cw_conn.execute(f"drop schema if exists {schema} cascade")
    yield
    for schema in (DBT_FIRST, SCREEN_FIRST):
        cw_conn.execute(f"drop schema if exists {schema} cascade")


def test_dbt_hooks_and_init_db_create_the_same_casework_tables(cs_config, cw_conn, drift_schemas):
    from mimamori.casescreen.schema import init_db
    from mimamori.stack import pg

    settings = cs_config.settings
    with pg.connect(settings, role="transformer", autocommit=True) as conn:
        conn.execute(_hook_sql(settings, DBT_FIRST))
    init_db(dataclasses.replace(cs_config, casework_schema=DBT_FIRST))

    init_db(dataclasses.replace(cs_config, casework_schema=SCREEN_FIRST))
    with pg.connect(settings, role="transformer", autocommit=True) as conn:
        conn.execute(_hook_sql(settings, SCREEN_FIRST))

    dbt_first, screen_first = _shape(cw_conn, DBT_FIRST), _shape(cw_conn, SCREEN_FIRST)
    shared = {"conference_outcomes", "hand_entries", "identity_decisions", "corrections"}
    assert shared <= {table for table, *_ in dbt_first["columns"]}
    differing = sorted(set(dbt_first["columns"]) ^ set(screen_first["columns"]))
    assert differing == [], f"columns differ with the order of creation: {differing}"
    assert dbt_first["checks"] == screen_first["checks"]
