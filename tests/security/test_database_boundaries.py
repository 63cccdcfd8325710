"""Each audience's PostgreSQL login reads exactly what the audience declaration gives it — by any SQL.

The probes log in with each login's own password (as Superset and the case screen do) and try
what an attacker would: other schemas, other rows, hidden columns, addresses, the catalogue's
escape hatches (roles, files, other databases), long queries and many connections. Nothing here
reads a personal value into the test output: only counts and error classes are compared.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from mimamori import access, access_check
from mimamori.stack import pg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from boundary_helpers import register_rows  # noqa: E402

ATTACKS = {
    # another audience's rights, the server's files and programs, other databases, writing
    "set role": "set role transformer",
    "set_config role": "select set_config('role', 'transformer', false)",
    "session authorization": "set session authorization mimamori",
    "read a server file": "select pg_read_file('/etc/hostname')",
    "list a server directory": "select count(*) from pg_ls_dir('.')",
    "large-object import": "select lo_import('/etc/hostname')",
    "copy to a program": "copy (select 1) to program 'true'",
    "install dblink": "create extension dblink",
    "create a table in published": "create table published.probe (i int)",
    "create a temporary table": "create temporary table probe (i int)",
    "raw extracts": "select count(*) from raw.jumin__residents",
    "ingest lineage": "select count(*) from ingest.file_loads",
    "staff accounts": "select count(*) from casework.staff_users",
    "dbt's marts": "select count(*) from marts.residents",
    "an address": "select count(address) from published.residents",
    "an address, whole row": "select count(to_jsonb(r)) from published.residents r",
    "an address, star": "select * from published.residents limit 1",
    "an address, any SQL": "select query_to_xml('select address from published.residents', true, true, '')",
    "an address in history": "select count(address) from history.residents",
}


def logins(decl) -> list[str]:
    return sorted(login for a in decl.audiences.values() for login in a.logins)


def connect(settings, login: str, db: str | None = None, **kwargs):
    return pg.connect(settings, db or settings.warehouse_db, role=login, connect_timeout=10, **kwargs)


#: the case-screen tests' own fixture schemas grant audiences test data while they exist
FIXTURE_SCHEMAS = ("cs_test_pub", "cs_test_hist", "cs_test_cw")


def test_every_login_reads_only_what_its_audience_is_declared(warehouse, published_month, decl):
    reports, violations = access_check.check(warehouse, decl, ignore_schemas=FIXTURE_SCHEMAS)
    assert violations == [], "\n".join(violations)
    by_login = {r.login: r for r in reports}
    # not vacuous: each audience reads what it is given
    for audience in decl.audiences.values():
        declared = {(g.schema, g.table) for g in decl.relations if g.audience == audience.code}
        for login in audience.logins:
            assert declared <= set(by_login[login].readable), f"{login} cannot read all it is declared"
    for login in (access.SUPERSET_NO_ACCESS_LOGIN, access.PREAUTH_LOGIN):
        published = [k for k in by_login[login].readable if k[0] != "casework"]
        assert published == [], f"{login} reads {published}"


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_no_login_escapes_its_audience(warehouse, published_month, decl, attack):
    """Every audience login (and the two logins that read nothing) is refused each attack."""
    refused = []
    for login in [*logins(decl), access.SUPERSET_NO_ACCESS_LOGIN, access.PREAUTH_LOGIN]:
        if attack == "staff accounts" and login == access.PREAUTH_LOGIN:
            continue  # the login page's own role reads the accounts (argon2 hashes), nothing else
        with connect(warehouse, login, autocommit=True) as conn:
            try:
                conn.execute(ATTACKS[attack])
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedFunction) as exc:
                refused.append(type(exc).__name__)
            except psycopg.errors.FeatureNotSupported:
                refused.append("FeatureNotSupported")
    expected = len(logins(decl)) + 2 - (attack == "staff accounts")
    assert len(refused) == expected, f"{attack}: only {len(refused)} of {expected} logins were refused"


def test_no_login_takes_another_audiences_role(warehouse, decl):
    groups = {a.code: a.group_role for a in decl.audiences.values()}
    for audience in decl.audiences.values():
        for login in audience.logins:
            with connect(warehouse, login, autocommit=True) as conn:
                for code, group in groups.items():
                    if code == audience.code:
                        continue
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        conn.execute(f"set role {group}")


def _scoped_relations(decl, audience: str) -> list[tuple[str, str]]:
    out = []
    for g in decl.relations:
        if g.audience == audience and g.schema == access.PUBLISHED:
            out += [("published", g.table), ("history", g.table)]
    return out


@pytest.mark.parametrize("login", ["dash_school_board", "case_school_board"])
def test_the_school_board_reads_only_this_months_register_and_school_items(warehouse, published_month, decl, su, login):
    audience = decl.audiences["school_board"]
    assert login in audience.logins and audience.row_scope == "school_register"
    visible = sorted(decl.visible_items("school_board"))
    checked = 0
    with connect(warehouse, login, autocommit=True) as conn:
        for schema, table in _scoped_relations(decl, "school_board"):
            columns = {
                r[0]
                for r in su.execute(
                    "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                    (schema, table),
                ).fetchall()
            }
            if "person_id" not in columns:
                continue
            seen = conn.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
            expected_sql = (
                f"select count(*) from {schema}.{table} t where (t.run_month, t.person_id) in "
                "(select run_month, person_id from history.child_affiliations where is_on_school_register)"
            )
            # rows of the school's items only, and of rows written per audience (e.g. the verdicts'
            # wording, the per-type detail) its own only: both when a relation has both
            narrowed = [
                *([" and t.item_code = any(%(visible)s)"] if "item_code" in columns else []),
                *([" and t.audience = 'school_board'"] if "audience" in columns else []),
            ]
            if narrowed:
                expected = su.execute(expected_sql + "".join(narrowed), {"visible": visible}).fetchone()[0]
            elif table == "child_exclusions":
                expected = su.execute(
                    expected_sql + " and split_part(coalesce(t.evidence_raw_table, ''), '__', 1) = 'gakko'"
                ).fetchone()[0]
            else:
                expected = register_rows(su, schema, table)
            total = su.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
            assert seen == expected, f"{schema}.{table}: the school board sees {seen} rows, its scope has {expected}"
            if total > expected:
                checked += 1
        # items of other departments are absent, not "データなし"
        codes = {r[0] for r in conn.execute("select distinct item_code from history.child_item_matches").fetchall()}
        assert codes and codes <= set(visible)
        # a preschool child, or any adult, is not there at all
        assert conn.execute("select count(*) from published.residents where age < 6 or age > 18").fetchone()[0] == 0
    assert checked >= 5, "the published month has too few rows outside the register for the test to mean anything"


def test_addresses_only_through_the_masked_view_of_the_case_screens_staff(warehouse, published_month, decl, su):
    readers = {a.casescreen_login for a in decl.audiences.values() if a.reads_addresses}
    assert readers, "no audience reads addresses: the view is not exercised"
    dv_total = su.execute(
        "select count(*) from published.residents r where r.has_dv_protection or r.is_address_withheld "
        "or r.household_id in (select household_id from published.residents where has_dv_protection)"
    ).fetchone()[0]
    assert dv_total > 0, "the published month has no 支援措置 household: the masking is not exercised"
    for login in logins(decl):
        with connect(warehouse, login, autocommit=True) as conn:
            try:
                row = conn.execute(
                    "select count(*), count(a.address) filter (where r.person_id is not null), "
                    "count(a.address) filter (where a.is_address_withheld) "
                    "from published.resident_addresses a left join published.residents r using (person_id)"
                ).fetchone()
            except psycopg.errors.InsufficientPrivilege:
                assert login not in readers, f"{login} should read the address view"
                continue
        assert login in readers, f"{login} reads addresses"
        assert row[2] == 0, "an address under 支援措置 is readable through the view"
    # and the masking covers the household and anyone at the same address, compared independently
    with connect(warehouse, sorted(readers)[0], autocommit=True) as conn:
        shown = {
            r[0] for r in conn.execute("select person_id from published.resident_addresses where address is not null")
        }
    protected = {
        r[0]
        for r in su.execute(
            "select r.person_id from published.residents r where exists (select 1 from published.residents p "
            "where p.has_dv_protection and (p.household_id = r.household_id or p.address = r.address))"
        )
    }
    assert protected and not (shown & protected), f"{len(shown & protected)} protected address(es) shown"


def test_statement_timeouts_and_connection_limits_are_the_declared_ones(warehouse, published_month, decl, su):
    for audience in decl.audiences.values():
        for login in audience.logins:
            limit = su.execute("select rolconnlimit from pg_roles where rolname = %s", (login,)).fetchone()[0]
            assert limit == audience.connection_limit, login
            with connect(warehouse, login, autocommit=True) as conn:
                timeout = conn.execute("select current_setting('statement_timeout')").fetchone()[0]
            assert timeout in (f"{audience.statement_timeout_s}s", f"{audience.statement_timeout_s // 60}min"), login
    # one real cancellation, on the audience with the shortest timeout, and one real refusal at the limit
    shortest = min(decl.audiences.values(), key=lambda a: a.statement_timeout_s)
    login = shortest.logins[0]
    with connect(warehouse, login, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("select pg_sleep(%s)", (shortest.statement_timeout_s + 30,))
    held = []
    try:
        for _ in range(shortest.connection_limit):
            held.append(connect(warehouse, login))
        with pytest.raises(psycopg.OperationalError, match="too many connections"):
            connect(warehouse, login).close()
    finally:
        for conn in held:
            conn.close()


def test_no_audience_login_connects_to_another_database(warehouse, decl):
    for login in [*logins(decl), access.SUPERSET_NO_ACCESS_LOGIN, access.PREAUTH_LOGIN]:
        for db in (warehouse.airflow_db, warehouse.superset_db, "postgres"):
            with pytest.raises(psycopg.OperationalError, match="permission denied"):
                connect(warehouse, login, db=db).close()


def test_the_socket_is_closed_to_other_os_users_and_nothing_is_trusted(warehouse):
    if os.geteuid() != 0:
        pytest.skip("needs root to act as another OS user (the suite runs as root on these machines)")
    sock = pg.socket_dir(warehouse)
    assert stat.S_IMODE(sock.stat().st_mode) == 0o700
    hba = (pg.data_dir(warehouse) / "pg_hba.conf").read_text()
    lines = [line.split() for line in hba.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert lines and all(fields[-1] == "scram-sha-256" for fields in lines), "a pg_hba line without scram"
    probe = subprocess.run(
        [
            "runuser",
            "-u",
            "nobody",
            "--",
            "psql",
            "-h",
            str(sock),
            "-p",
            str(warehouse.pg_port),
            "-U",
            warehouse.pg_superuser,
            "-d",
            warehouse.warehouse_db,
            "-w",
            "-c",
            "select count(*) from raw.jumin__residents",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PGCONNECT_TIMEOUT": "5"},
    )
    assert probe.returncode != 0, "another OS user reached the database through the socket"
    # and the superuser's socket connection needs the password too (no trust for the owner either)
    owner = subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            "psql",
            "-h",
            str(sock),
            "-p",
            str(warehouse.pg_port),
            "-U",
            warehouse.pg_superuser,
            "-d",
            warehouse.warehouse_db,
            "-w",
            "-c",
            "select 1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PGCONNECT_TIMEOUT": "5"},
    )
    assert owner.returncode != 0 and "password" in owner.stderr.lower()


def test_a_republished_mart_with_changed_columns_keeps_the_wall(warehouse, published_month, decl, su):
    """Publish rebuilds a table whose columns changed: the declaration's grants and policies come back."""
    from mimamori import pipeline, publish

    month = su.execute("select max(run_month) from marts.children").fetchone()[0]
    tables, pseudo = pipeline.published_relations(warehouse)
    with pg.connect(warehouse, role="transformer", autocommit=True) as conn:
        conn.execute("alter table marts.residents add column probe_note text default 'x'")
        conn.execute("alter table marts.child_item_matches add column probe_note text default 'x'")
    try:
        publish.publish(warehouse, month, tables, pseudo)
        _, violations = access_check.check(warehouse, decl, ignore_schemas=FIXTURE_SCHEMAS)
        assert violations == [], "\n".join(violations)
        with connect(warehouse, "dash_school_board", autocommit=True) as conn:
            assert conn.execute("select count(probe_note) from published.residents").fetchone()[0] == register_rows(
                su, "published", "residents"
            )
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select count(address) from published.residents")
        with connect(warehouse, "dash_staff", autocommit=True) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select count(address) from published.residents")
    finally:
        with pg.connect(warehouse, role="transformer", autocommit=True) as conn:
            conn.execute("alter table marts.residents drop column if exists probe_note")
            conn.execute("alter table marts.child_item_matches drop column if exists probe_note")
        publish.publish(warehouse, month, tables, pseudo)
    _, violations = access_check.check(warehouse, decl, ignore_schemas=FIXTURE_SCHEMAS)
    assert violations == [], "\n".join(violations)


def test_the_check_reports_what_the_declaration_does_not_give(warehouse, published_month, decl, su):
    """The check can fail: an undeclared table, an address column, a table without RLS are each found."""
    su.execute("create table history.access_probe (run_month text, person_id text)")
    su.execute("grant select on history.access_probe to aud_school_board")
    su.execute("grant select (person_id, address) on published.residents to aud_staff")
    su.execute("alter table published.children disable row level security")
    try:
        _, violations = access_check.check(warehouse, decl, ignore_schemas=FIXTURE_SCHEMAS)
        text = "\n".join(violations)
        assert "dash_school_board reads history.access_probe" in text
        assert "dash_staff reads hidden column(s) ['address'] of published.residents" in text
        assert "published.children: row-level security off or no policy for aud_school_board" in text
    finally:
        su.execute("drop table history.access_probe")
        su.execute("revoke select (person_id, address) on published.residents from aud_staff")
        su.execute("alter table published.children enable row level security")
        with pg.connect(warehouse, role="transformer") as conn:
            access.apply_published(conn, decl)
    _, violations = access_check.check(warehouse, decl, ignore_schemas=FIXTURE_SCHEMAS)
    assert violations == [], "\n".join(violations)
