"""One owner per table: the casework tables are created only by mimamori.casescreen.schema.

dbt reads them as sources (the case screen writes them; the next run reads them) and must never
create or alter them; provisioning and every dbt run call the owner's ``create_tables``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DBT = ROOT / "dbt_project"
_DDL_ON_CASEWORK = re.compile(r"\b(create|alter|drop)\s+(table|schema|index)\b[^;\n]*\bcasework\b", re.I)
THROWAWAY = "cw_owner_check"


def dbt_sql_texts() -> dict[str, str]:
    out = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in DBT.rglob("*.sql")}
    out["dbt_project/dbt_project.yml"] = (DBT / "dbt_project.yml").read_text(encoding="utf-8")
    return out


def casework_sources() -> set[str]:
    names = set()
    for path in (DBT / "models").rglob("*.yml"):
        for source in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("sources") or []:
            if source.get("schema") == "casework":
                names |= {t["name"] for t in source.get("tables") or []}
    return names


def test_dbt_never_creates_a_casework_table():
    found = [name for name, text in dbt_sql_texts().items() if _DDL_ON_CASEWORK.search(text)]
    assert found == [], f"DDL on schema casework outside its owner (mimamori.casescreen.schema): {found}"


def test_the_scan_sees_ddl():
    assert _DDL_ON_CASEWORK.search("{% macro x() %}\n  create table if not exists casework.hand_entries (a int)")
    assert not _DDL_ON_CASEWORK.search("select * from {{ source('casework', 'identity_decisions') }}")


def test_every_casework_source_has_its_owner():
    from mimamori.casescreen.schema import TABLES

    declared = casework_sources()
    assert declared, "no dbt source with schema casework found: the scan is broken"
    assert sorted(declared - set(TABLES)) == []


@pytest.fixture()
def throwaway(cw_conn):
    cw_conn.execute(f"drop schema if exists {THROWAWAY} cascade")
    yield THROWAWAY
    cw_conn.execute(f"drop schema if exists {THROWAWAY} cascade")


def test_create_tables_makes_every_table_and_is_idempotent(cs_config, throwaway):
    from mimamori import db
    from mimamori.casescreen.schema import TABLES, create_tables

    with db.connect(cs_config.settings, role="transformer", autocommit=True) as conn:
        first = create_tables(conn, throwaway)
        conn.execute(
            f"insert into {throwaway}.purge_log (run_month, target, cutoff, rows_deleted) values ('2026-10', 'raw.x', '2021-10', 3)"
        )
        second = create_tables(conn, throwaway)
        made = {
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s", (throwaway,)
            )
        }
        kept = conn.execute(f"select count(*) from {throwaway}.purge_log").fetchone()[0]
    assert first == second == [f"{throwaway}.{t}" for t in TABLES]
    assert made == set(TABLES)
    assert kept == 1, "a second create_tables must leave the rows alone"


def test_a_provisioned_warehouse_has_the_casework_tables(cs_config):
    """Provisioning creates them, so a fresh warehouse's first dbt run finds its sources."""
    from mimamori import db
    from mimamori.casescreen.schema import TABLES

    with db.connect(cs_config.settings, role="transformer") as conn:
        missing = [
            t for t in TABLES if conn.execute("select to_regclass(%s)", (f"casework.{t}",)).fetchone()[0] is None
        ]
    assert missing == []


def test_the_database_refuses_an_outcome_the_seed_does_not_have(cs_config, throwaway):
    """The outcomes check is generated from dbt_project/seeds/rules/conference_outcomes.csv and remade
    by every create_tables: a table made with an older, narrower list accepts the seed's outcomes
    afterwards, and an outcome the seed does not have is refused by the database itself."""
    import psycopg
    from mimamori import db, vocabulary
    from mimamori.casescreen.schema import create_tables
    from psycopg import sql

    codes = vocabulary.outcome_codes()
    table = sql.Identifier(throwaway, "conference_outcomes")
    insert = sql.SQL("insert into {} (person_id, judged_run_month, outcome) values ('p', '2026-10', %s)").format(table)
    with db.connect(cs_config.settings, role="transformer", autocommit=True) as conn:
        create_tables(conn, throwaway)
        conn.execute(sql.SQL("alter table {} drop constraint conference_outcomes_outcome_check").format(table))
        conn.execute(
            sql.SQL("alter table {} add constraint conference_outcomes_outcome_check check (outcome = {})").format(
                table, sql.Literal(codes[0])
            )
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(insert, (codes[-1],))
        create_tables(conn, throwaway)
        for code in codes:
            conn.execute(insert, (code,))
        for unknown in ("危険", "", codes[0] + " "):
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(insert, (unknown,))
        stored = [r[0] for r in conn.execute(sql.SQL("select outcome from {} order by outcome_id").format(table))]
    assert stored == list(codes)
