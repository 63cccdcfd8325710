"""What each audience's login can actually read, compared with the audience declaration.

``python -m mimamori.access_check`` asks PostgreSQL, not the code that granted it: for every login
of the declaration, every column of every table and view in the warehouse (all schemas but the
system ones) that the login holds SELECT on, and every schema and database it may use. It prints
a report per login and lists every difference from what the declaration allows; the exit status is
1 when there is one. IT can run it at any time; the security tests run it on the suite's warehouse.

What it cannot see from privileges alone — the rows row-level security lets through — is checked
by reading (``tests/security``); here it checks that every declared relation of a row-scoped or
department-restricted audience has row-level security on and a policy for that audience.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field

from mimamori import access
from mimamori.settings import Settings, get_settings

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
#: a column holding an address (not a flag about one, like is_address_withheld)
ADDRESS_COLUMN = re.compile(r"^(?!is_|has_).*(address|住所)")


@dataclass
class LoginReport:
    login: str
    audience: str | None
    #: (schema, relation) → readable columns
    readable: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def readable_columns(conn, login: str, ignore_schemas: tuple[str, ...] = ()) -> dict[tuple[str, str], set[str]]:
    """Every (schema, relation) → columns ``login`` may select, from the catalogue."""
    rows = conn.execute(
        """
        select n.nspname, c.relname, a.attname
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where c.relkind in ('r', 'p', 'v', 'm', 'f')
          and n.nspname <> all(%s) and n.nspname not like 'pg_temp%%'
          and has_schema_privilege(%s, n.oid, 'usage')
          and has_column_privilege(%s, c.oid, a.attnum, 'select')
        """,
        ([*SYSTEM_SCHEMAS, *ignore_schemas], login, login),
    ).fetchall()
    out: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in rows:
        out.setdefault((schema, table), set()).add(column)
    return out


def _allowed(decl: access.Declaration, audience: access.Audience | None, login: str, schemas: access.Schemas):
    """(schema, relation) → hidden columns, for what ``login`` may read; casework tables apart."""
    allowed: dict[tuple[str, str], frozenset[str]] = {}
    if audience is None:
        return allowed
    for grant in decl.relations:
        if grant.audience != audience.code:
            continue
        allowed[(schemas.actual(grant.schema), grant.table)] = grant.hidden_columns
        history = grant.table if grant.schema == access.PUBLISHED else access.PSEUDO_HISTORY_PREFIX + grant.table
        allowed[(schemas.history, history)] = grant.hidden_columns
    if login == audience.casescreen_login and audience.reads_addresses:
        allowed[(schemas.published, access.ADDRESS_VIEW)] = frozenset()
    return allowed


def _select_columns(privileges: str) -> set[str] | None:
    """The columns a privilege list lets one select: None = every column, set() = none."""
    found = re.search(r"\bselect\b(?:\s*\(([^)]*)\))?", privileges)
    if not found:
        return set()
    return None if found.group(1) is None else {c.strip() for c in found.group(1).split(",")}


def _casework_allowed(
    decl: access.Declaration, audience: access.Audience | None, login: str
) -> dict[str, set[str] | None]:
    """casework table → the columns ``login`` may select (None: all), from the grants it is given."""
    if login == access.PREAUTH_LOGIN:
        pairs = list(access.PREAUTH_GRANTS)
    elif audience is not None and login == audience.casescreen_login:
        pairs = [("audit_log", "insert, select (audit_id)")]
        for action in decl.audience_actions(audience.code):
            pairs += list(access.ACTION_GRANTS.get(action, ()))
    else:
        return {}
    allowed: dict[str, set[str] | None] = {}
    for table, privileges in pairs:
        columns = _select_columns(privileges)
        if columns == set():
            continue
        if columns is None or allowed.get(table, set()) is None:
            allowed[table] = None
        else:
            allowed[table] = allowed.get(table, set()) | columns
    return allowed


def check_login(
    conn,
    decl: access.Declaration,
    login: str,
    schemas: access.Schemas = access.DEFAULT_SCHEMAS,
    ignore_schemas: tuple[str, ...] = (),
) -> LoginReport:
    audience = next((a for a in decl.audiences.values() if login in a.logins), None)
    report = LoginReport(login, audience.code if audience else None, readable_columns(conn, login, ignore_schemas))
    allowed = _allowed(decl, audience, login, schemas)
    casework = _casework_allowed(decl, audience, login)
    for (schema, table), columns in sorted(report.readable.items()):
        if schema == schemas.casework:
            if table in casework and (casework[table] is None or columns <= casework[table]):
                continue
            report.violations.append(f"{login} reads {schema}.{table} ({len(columns)} columns): not declared")
            continue
        if (schema, table) not in allowed:
            report.violations.append(f"{login} reads {schema}.{table}: not declared for its audience")
            continue
        leaked = sorted(columns & allowed[(schema, table)])
        if leaked:
            report.violations.append(f"{login} reads hidden column(s) {leaked} of {schema}.{table}")
        addressy = sorted(c for c in columns if ADDRESS_COLUMN.search(c))
        if addressy and not (schema == schemas.published and table == access.ADDRESS_VIEW):
            report.violations.append(f"{login} reads address column(s) {addressy} of {schema}.{table}")
    return report


def policy_violations(conn, decl: access.Declaration, schemas: access.Schemas = access.DEFAULT_SCHEMAS) -> list[str]:
    """Relations a restricted audience reads must have RLS on and that audience's policy."""
    out = []
    for grant in decl.relations:
        audience = decl.audiences[grant.audience]
        restricted = audience.row_scope != "all" or not decl.sees_all_departments(audience.code)
        if not restricted:
            continue
        for schema, table in (
            (schemas.actual(grant.schema), grant.table),
            (
                schemas.history,
                grant.table if grant.schema == access.PUBLISHED else access.PSEUDO_HISTORY_PREFIX + grant.table,
            ),
        ):
            row = conn.execute(
                "select c.relrowsecurity, c.relkind, "
                "(select count(*) from pg_policies p where p.schemaname = n.nspname and p.tablename = c.relname "
                "and %s = any(p.roles)) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = %s and c.relname = %s",
                (audience.group_role, schema, table),
            ).fetchone()
            if row is None or row[1] == "v":
                continue
            if not row[0] or not row[2]:
                out.append(f"{schema}.{table}: row-level security off or no policy for {audience.group_role}")
    return out


def database_violations(conn, decl: access.Declaration, settings: Settings) -> list[str]:
    """No audience login may connect to a database but the warehouse."""
    out = []
    for login in decl.login_roles():
        for database in (settings.airflow_db, settings.superset_db, "postgres", "template1"):
            if conn.execute("select has_database_privilege(%s, %s, 'connect')", (login, database)).fetchone()[0]:
                out.append(f"{login} may connect to database {database}")
    return out


def check(
    settings: Settings, decl: access.Declaration | None = None, ignore_schemas: tuple[str, ...] = ()
) -> tuple[list[LoginReport], list[str]]:
    """(a report per login, every violation) for the warehouse of ``settings``; ``ignore_schemas``:
    schemas not to look at (the test suite's own fixtures)."""
    from mimamori import db

    decl = decl or access.declaration(str(settings.root))
    with db.connect(settings, settings.warehouse_db, autocommit=True) as conn:
        reports = [check_login(conn, decl, login, ignore_schemas=tuple(ignore_schemas)) for login in decl.login_roles()]
        violations = [v for r in reports for v in r.violations]
        violations += policy_violations(conn, decl)
        violations += database_violations(conn, decl, settings)
    return reports, violations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimamori.access_check",
        description="各ログイン（閲覧者ごとのデータベースロール）が実際に読めるものを、"
        "宣言（dbt_project/seeds/access）と照らし合わせます。違反があれば終了コード1。",
    )
    parser.add_argument("--quiet", action="store_true", help="違反だけを表示する")
    args = parser.parse_args(argv)
    reports, violations = check(get_settings())
    if not args.quiet:
        for report in reports:
            print(
                f"{report.login}（閲覧者: {report.audience or 'なし'}）: {len(report.readable)} 個の表・ビューを読める"
            )
            for (schema, table), columns in sorted(report.readable.items()):
                print(f"    {schema}.{table}（{len(columns)}列）")
    if violations:
        print(f"\n違反 {len(violations)} 件:", file=sys.stderr)
        for line in violations:
            print(f"  - {line}", file=sys.stderr)
        return 1
    print("\n違反はありません：どのログインも、宣言された範囲しか読めません。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
