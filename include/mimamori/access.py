"""Who may read and edit what: the audience declaration, enforced by PostgreSQL.

The declaration is four dbt seeds in ``dbt_project/seeds/access/`` (a reviewed CSV diff changes
who sees what; dbt loads and tests them like every rule):

==========================  ==========================================================================
seed                        one row per
==========================  ==========================================================================
audiences.csv               audience: its PostgreSQL group role, its login per channel (Superset,
                            case screen), its row scope (``all`` or ``school_register``), whether it
                            sees household members and (case screen only) addresses, timeouts
audience_app_roles.csv      application role (case screen, Superset) → audience and what it may do
audience_departments.csv    audience × holder department: may view / may edit its items
audience_relations.csv      published relation × audience that may read it: hidden columns, the
                            column that names each row's department (items, evidence)
==========================  ==========================================================================

An item belongs to the departments its catalogue row names (``item_catalogue.sources``); an
audience sees an item when it may view every one of them, and may enter it by hand when it may edit
every one of them.

This module reads and validates the declaration (a mistake names the file, line and what is wrong)
and turns it into PostgreSQL: roles (:func:`role_statements`, run by the superuser at provisioning),
and, every time a month is published, grants, column privileges and row-level security policies on
every table of ``published``, ``published_pseudo`` and ``history`` (:func:`apply_published`) and on
the case screen's tables (:func:`apply_casework`). Nothing is granted by default privileges: a table
no row declares is readable by no audience. The applications (Superset, the case screen) log in as
the audience's own role, so what a person can reach by *any* SQL is what the audience may see.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from psycopg import sql

from mimamori.settings import REPO_ROOT

SEED_DIR = Path("dbt_project") / "seeds" / "access"
CATALOGUE = Path("dbt_project") / "seeds" / "rules" / "item_catalogue.csv"
SOURCES_DIR = Path("include") / "sources"

#: schemas whose tables this module governs (history.<name> mirrors published.<name>,
#: history.pseudo__<name> mirrors published_pseudo.<name>)
PUBLISHED, PSEUDO, HISTORY = "published", "published_pseudo", "history"
PSEUDO_HISTORY_PREFIX = "pseudo__"
ROW_SCOPES = ("all", "school_register")
#: what each row scope means, as a predicate on the row's (run_month, person_id): the school
#: board sees a child in a month only when the child is on that month's 学齢簿. The register
#: relation is itself scoped by a plain column predicate, so no policy refers to its own table.
REGISTER_TABLE = "child_affiliations"
REGISTER_PREDICATE = "is_on_school_register"
#: case-screen actions and what each needs in schema ``casework`` (table → privileges)
ACTIONS = ("view", "outcome", "correct", "hand_entry", "identity", "sheet", "audit")
ACTION_GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "outcome": (
        ("conference_outcomes", "select, insert"),
        ("conference_outcomes", "update (superseded_by, superseded_at)"),
    ),
    "correct": (("corrections", "select, insert"), ("identity_decisions", "insert")),
    "hand_entry": (("hand_entries", "select, insert"),),
    "identity": (("identity_decisions", "select, insert"),),
    "audit": (("audit_log", "select"),),
}
#: the case screen's own login before anyone is known (login page, sessions): no published data
PREAUTH_LOGIN = "casework"
PREAUTH_GRANTS = (
    ("staff_users", "select, insert, update"),
    ("staff_sessions", "select, insert, update, delete"),
    # append; read back only the sign-in rows (row-level security, AUTH_ACTIONS): the login and
    # account limits count failures per address and per name (casescreen/auth.py)
    ("audit_log", "insert, select (audit_id, logged_at, username, action, client, object_type, object_id, detail)"),
)
#: audit rows the pre-login role may read back (never a view of a child)
AUTH_ACTIONS = ("login", "login_failed", "logout", "unlock")
#: Superset's stored connection login: reads nothing; every query switches to the user's audience
SUPERSET_NO_ACCESS_LOGIN = "dashboard"
#: the case screen's address view (addresses under 支援措置, of the household and at the same
#: address masked again here), granted to the case-screen logins of audiences with reads_addresses
ADDRESS_VIEW = "resident_addresses"
POLICY_PREFIX = "mm_"
#: a relation with this column holds one row per audience (e.g. child_type_verdicts, worded for what
#: each audience may see): every reader gets only its own audience's rows
AUDIENCE_COLUMN = "audience"


class AccessConfigError(ValueError):
    """The declaration is wrong or names something that does not exist (file, line, what)."""


@dataclass(frozen=True)
class Audience:
    code: str
    label_ja: str
    group_role: str
    superset_login: str | None
    casescreen_login: str | None
    row_scope: str
    sees_household: bool
    reads_addresses: bool
    statement_timeout_s: int
    connection_limit: int

    @property
    def logins(self) -> tuple[str, ...]:
        return tuple(r for r in (self.superset_login, self.casescreen_login) if r)


@dataclass(frozen=True)
class AppRole:
    code: str
    audience: str
    label_ja: str
    superset_role: str | None
    casescreen: bool
    actions: frozenset[str]


@dataclass(frozen=True)
class RelationGrant:
    schema: str
    table: str
    audience: str
    hidden_columns: frozenset[str]
    department_column: str | None

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class Declaration:
    audiences: dict[str, Audience]
    app_roles: dict[str, AppRole]
    #: audience → department → (may_view, may_edit)
    departments: dict[str, dict[str, tuple[bool, bool]]]
    relations: tuple[RelationGrant, ...]
    #: item code → the departments it is derived from
    items: dict[str, frozenset[str]]
    known_departments: frozenset[str] = field(default_factory=frozenset)

    # --- per audience ---------------------------------------------------------------------------

    def audience_of(self, app_role: str) -> Audience:
        try:
            return self.audiences[self.app_roles[app_role].audience]
        except KeyError:
            raise AccessConfigError(f"unknown application role {app_role!r}") from None

    def viewable_departments(self, audience: str) -> frozenset[str]:
        return frozenset(d for d, (view, _) in self.departments.get(audience, {}).items() if view)

    def editable_departments(self, audience: str) -> frozenset[str]:
        return frozenset(d for d, (_, edit) in self.departments.get(audience, {}).items() if edit)

    def sees_all_departments(self, audience: str) -> bool:
        return self.viewable_departments(audience) >= self.known_departments

    def visible_items(self, audience: str) -> frozenset[str]:
        allowed = self.viewable_departments(audience)
        return frozenset(code for code, depts in self.items.items() if depts <= allowed)

    def editable_items(self, audience: str) -> frozenset[str]:
        allowed = self.editable_departments(audience) & self.viewable_departments(audience)
        return frozenset(code for code, depts in self.items.items() if depts <= allowed)

    def actions(self, app_role: str) -> frozenset[str]:
        role = self.app_roles.get(app_role)
        return role.actions if role else frozenset()

    def audience_actions(self, audience: str) -> frozenset[str]:
        return frozenset(a for r in self.app_roles.values() if r.audience == audience for a in r.actions)

    # --- roles ------------------------------------------------------------------------------------

    def login_roles(self) -> list[str]:
        """Every login the declaration names, plus the two that read no published data."""
        names = [login for a in self.audiences.values() for login in a.logins]
        return sorted({*names, PREAUTH_LOGIN, SUPERSET_NO_ACCESS_LOGIN})

    def managed_roles(self) -> list[str]:
        return sorted({*self.login_roles(), *(a.group_role for a in self.audiences.values())})

    def superset_logins(self) -> dict[str, str]:
        """Superset role name → the PostgreSQL login its queries run as."""
        out = {}
        for role in self.app_roles.values():
            login = self.audiences[role.audience].superset_login
            if role.superset_role and login:
                out[role.superset_role] = login
        return out

    def casescreen_roles(self) -> dict[str, AppRole]:
        return {code: r for code, r in self.app_roles.items() if r.casescreen}


# --- reading the seeds -------------------------------------------------------------------------------


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return [
                (n, {k: (v or "").strip() for k, v in row.items()}) for n, row in enumerate(csv.DictReader(handle), 2)
            ]
    except FileNotFoundError:
        raise AccessConfigError(f"{path}: the audience declaration file is missing") from None


def _bool(path: Path, line: int, column: str, value: str) -> bool:
    if value.lower() in ("true", "t"):
        return True
    if value.lower() in ("false", "f"):
        return False
    raise AccessConfigError(f"{path}:{line}: {column} must be true or false, got {value!r}")


def _int(path: Path, line: int, column: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise AccessConfigError(f"{path}:{line}: {column} must be a whole number, got {value!r}") from None
    if number <= 0:
        raise AccessConfigError(f"{path}:{line}: {column} must be positive, got {number}")
    return number


def _ident(path: Path, line: int, column: str, value: str) -> str:
    if not value.replace("_", "").isalnum() or not value.isascii() or value != value.lower() or value[0].isdigit():
        raise AccessConfigError(f"{path}:{line}: {column} must be a lower-case SQL name, got {value!r}")
    return value


def _audiences(root: Path) -> dict[str, Audience]:
    path = root / SEED_DIR / "audiences.csv"
    out: dict[str, Audience] = {}
    for line, row in _rows(path):
        code = _ident(path, line, "audience", row["audience"])
        if code in out:
            raise AccessConfigError(f"{path}:{line}: audience {code!r} is declared twice")
        if row["row_scope"] not in ROW_SCOPES:
            raise AccessConfigError(f"{path}:{line}: row_scope must be one of {ROW_SCOPES}, got {row['row_scope']!r}")
        audience = Audience(
            code=code,
            label_ja=row["label_ja"],
            group_role=_ident(path, line, "group_role", row["group_role"]),
            superset_login=_ident(path, line, "superset_login", row["superset_login"])
            if row["superset_login"]
            else None,
            casescreen_login=(
                _ident(path, line, "casescreen_login", row["casescreen_login"]) if row["casescreen_login"] else None
            ),
            row_scope=row["row_scope"],
            sees_household=_bool(path, line, "sees_household", row["sees_household"]),
            reads_addresses=_bool(path, line, "reads_addresses", row["reads_addresses"]),
            statement_timeout_s=_int(path, line, "statement_timeout_s", row["statement_timeout_s"]),
            connection_limit=_int(path, line, "connection_limit", row["connection_limit"]),
        )
        if audience.reads_addresses and (audience.row_scope != "all" or not audience.casescreen_login):
            # the address view is not row-scoped: only an audience that sees every child may have it
            raise AccessConfigError(
                f"{path}:{line}: reads_addresses needs row_scope all and a casescreen_login ({code})"
            )
        out[code] = audience
    roles = [r for a in out.values() for r in (a.group_role, *a.logins)]
    reserved = {PREAUTH_LOGIN, SUPERSET_NO_ACCESS_LOGIN, "loader", "transformer", "airflow", "superset"}
    clash = sorted({r for r in roles if roles.count(r) > 1} | (set(roles) & reserved))
    if clash:
        raise AccessConfigError(f"{path}: PostgreSQL role names must be unique and not reserved: {clash}")
    return out


def _app_roles(root: Path, audiences: dict[str, Audience]) -> dict[str, AppRole]:
    path = root / SEED_DIR / "audience_app_roles.csv"
    out: dict[str, AppRole] = {}
    for line, row in _rows(path):
        code = row["app_role"]
        if row["audience"] not in audiences:
            raise AccessConfigError(f"{path}:{line}: unknown audience {row['audience']!r} (audiences.csv)")
        actions = frozenset(row["actions"].split())
        unknown = sorted(actions - set(ACTIONS))
        if unknown:
            raise AccessConfigError(f"{path}:{line}: unknown action(s) {unknown}; known: {', '.join(ACTIONS)}")
        casescreen = _bool(path, line, "casescreen", row["casescreen"])
        if casescreen and not audiences[row["audience"]].casescreen_login:
            raise AccessConfigError(
                f"{path}:{line}: {code} uses the case screen but its audience has no casescreen_login"
            )
        if code in out:
            raise AccessConfigError(f"{path}:{line}: application role {code!r} is declared twice")
        out[code] = AppRole(code, row["audience"], row["label_ja"], row["superset_role"] or None, casescreen, actions)
    return out


def _departments(root: Path, audiences: dict[str, Audience], known: frozenset[str]) -> dict[str, dict]:
    path = root / SEED_DIR / "audience_departments.csv"
    out: dict[str, dict[str, tuple[bool, bool]]] = {a: {} for a in audiences}
    for line, row in _rows(path):
        if row["audience"] not in audiences:
            raise AccessConfigError(f"{path}:{line}: unknown audience {row['audience']!r} (audiences.csv)")
        if row["department"] not in known:
            raise AccessConfigError(
                f"{path}:{line}: unknown department {row['department']!r}; the registry has {sorted(known)}"
            )
        out[row["audience"]][row["department"]] = (
            _bool(path, line, "may_view", row["may_view"]),
            _bool(path, line, "may_edit", row["may_edit"]),
        )
    return out


def _relations(root: Path, audiences: dict[str, Audience]) -> tuple[RelationGrant, ...]:
    path = root / SEED_DIR / "audience_relations.csv"
    out: list[RelationGrant] = []
    seen: set[tuple[str, str]] = set()
    for line, row in _rows(path):
        schema, _, table = row["relation"].partition(".")
        if schema not in (PUBLISHED, PSEUDO) or not table:
            raise AccessConfigError(f"{path}:{line}: relation must be published.<table> or published_pseudo.<table>")
        if row["audience"] not in audiences:
            raise AccessConfigError(f"{path}:{line}: unknown audience {row['audience']!r} (audiences.csv)")
        key = (row["relation"], row["audience"])
        if key in seen:
            raise AccessConfigError(f"{path}:{line}: {row['relation']} is declared twice for {row['audience']}")
        seen.add(key)
        out.append(
            RelationGrant(
                schema=schema,
                table=_ident(path, line, "relation", table),
                audience=row["audience"],
                hidden_columns=frozenset(row["hidden_columns"].split()),
                department_column=row["department_column"] or None,
            )
        )
    return tuple(out)


def _items(root: Path, known: frozenset[str]) -> dict[str, frozenset[str]]:
    path = root / CATALOGUE
    out = {}
    for line, row in _rows(path):
        departments = frozenset(row["sources"].split())
        if not departments or not departments <= known:
            raise AccessConfigError(f"{path}:{line}: item {row['item_code']} names unknown sources {row['sources']!r}")
        out[row["item_code"]] = departments
    return out


def _known_departments(root: Path) -> frozenset[str]:
    names = frozenset(p.stem for p in (root / SOURCES_DIR).glob("*.yaml"))
    if not names:
        raise AccessConfigError(f"{root / SOURCES_DIR}: no source registry found")
    return names


def load_declaration(root: Path | None = None) -> Declaration:
    """Read and validate the declaration; raises :class:`AccessConfigError` naming file and line."""
    root = Path(root or REPO_ROOT)
    known = _known_departments(root)
    audiences = _audiences(root)
    return Declaration(
        audiences=audiences,
        app_roles=_app_roles(root, audiences),
        departments=_departments(root, audiences, known),
        relations=_relations(root, audiences),
        items=_items(root, known),
        known_departments=known,
    )


@lru_cache(maxsize=4)
def declaration(root: str | None = None) -> Declaration:
    """The declaration of this checkout (cached per process)."""
    return load_declaration(Path(root) if root else None)


def password_env_key(login: str) -> str:
    """Where a login's password lives in ``.env``: MIMAMORI_<LOGIN>_PASSWORD."""
    return f"MIMAMORI_{login.upper()}_PASSWORD"


# --- PostgreSQL: roles (superuser, at provisioning) --------------------------------------------------


def role_statements(decl: Declaration, passwords: dict[str, str]) -> list[sql.Composable]:
    """Create or alter every group and login role of the declaration (idempotent, superuser).

    ``passwords``: login → password; a login without one is an error (``make env`` writes them).
    Each login gets its audience's statement timeout and connection limit; logins inherit their
    group's privileges, and no login is a member of another audience.
    """
    missing = [login for login in decl.login_roles() if not passwords.get(login)]
    if missing:
        keys = ", ".join(password_env_key(m) for m in missing)
        raise AccessConfigError(f"no password for database login(s) {missing}: set {keys} (run `make env`)")
    out: list[sql.Composable] = []
    for audience in decl.audiences.values():
        out.append(_ensure_role(audience.group_role, login=False))
        out.append(sql.SQL("alter role {} nologin").format(sql.Identifier(audience.group_role)))
        for login in audience.logins:
            out += _login_statements(login, passwords[login], audience.statement_timeout_s, audience.connection_limit)
            out.append(sql.SQL("grant {} to {}").format(sql.Identifier(audience.group_role), sql.Identifier(login)))
    for login, timeout, limit in ((PREAUTH_LOGIN, 30, 20), (SUPERSET_NO_ACCESS_LOGIN, 30, 20)):
        out += _login_statements(login, passwords[login], timeout, limit)
    # no login may be a member of a group it was not declared for (an old grant is taken back)
    out.append(
        sql.SQL(
            "do $$ declare m record; begin for m in "
            "select g.rolname as grp, u.rolname as usr from pg_auth_members x "
            "join pg_roles g on g.oid = x.roleid join pg_roles u on u.oid = x.member "
            "where g.rolname = any({groups}) and not (g.rolname, u.rolname) in "
            "(select * from unnest({pairs_g}::text[], {pairs_u}::text[])) loop "
            "execute format('revoke %I from %I', m.grp, m.usr); end loop; end $$"
        ).format(
            groups=sql.Literal([a.group_role for a in decl.audiences.values()]),
            pairs_g=sql.Literal([a.group_role for a in decl.audiences.values() for _ in a.logins]),
            pairs_u=sql.Literal([login for a in decl.audiences.values() for login in a.logins]),
        )
    )
    return out


def _ensure_role(name: str, login: bool) -> sql.Composable:
    return sql.SQL(
        "do $$ begin if not exists (select 1 from pg_roles where rolname = {lit}) then "
        "execute format('create role %I {kind}', {lit}); end if; end $$"
    ).format(lit=sql.Literal(name), kind=sql.SQL("login" if login else "nologin"))


def _login_statements(login: str, password: str, timeout_s: int, limit: int) -> list[sql.Composable]:
    ident = sql.Identifier(login)
    return [
        _ensure_role(login, login=True),
        sql.SQL(
            "alter role {} login nosuperuser nocreatedb nocreaterole noreplication nobypassrls inherit "
            "connection limit {} password {}"
        ).format(ident, sql.Literal(limit), sql.Literal(password)),
        sql.SQL("alter role {} set statement_timeout = {}").format(ident, sql.Literal(f"{timeout_s}s")),
        sql.SQL("alter role {} set idle_in_transaction_session_timeout = {}").format(ident, sql.Literal("60s")),
    ]


# --- PostgreSQL: published tables (transformer, inside the publish transaction) ------------------------


@dataclass(frozen=True)
class Schemas:
    """The governed schemas' names (tests and a town may use other names than the defaults)."""

    published: str = PUBLISHED
    pseudo: str = PSEUDO
    history: str = HISTORY
    casework: str = "casework"

    def logical(self, schema: str, table: str) -> tuple[str, str]:
        """(published|published_pseudo, table) of an actual table: history mirrors the other two."""
        if schema == self.history:
            if table.startswith(PSEUDO_HISTORY_PREFIX):
                return PSEUDO, table.removeprefix(PSEUDO_HISTORY_PREFIX)
            return PUBLISHED, table
        return (PSEUDO if schema == self.pseudo else PUBLISHED), table

    def actual(self, logical_schema: str) -> str:
        return self.pseudo if logical_schema == PSEUDO else self.published


DEFAULT_SCHEMAS = Schemas()


def _governed_tables(conn, schemas: Schemas) -> list[tuple[str, str, str]]:
    """(schema, name, kind) of every table and view in the governed schemas."""
    return conn.execute(
        "select n.nspname, c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v') order by 1, 2",
        ([schemas.published, schemas.pseudo, schemas.history],),
    ).fetchall()


def _table_columns(conn, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "select a.attname from pg_attribute a join pg_class c on c.oid = a.attrelid "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped order by a.attnum",
        (schema, table),
    ).fetchall()
    return [r[0] for r in rows]


def _strip(conn, managed: list[str], schema: str, table: str) -> None:
    """Take back every privilege and policy on the table, whoever granted it."""
    target = sql.Identifier(schema, table)
    roles = sql.SQL(", ").join(map(sql.Identifier, managed))
    conn.execute(sql.SQL("revoke all on {} from public, {}").format(target, roles))
    for (policy,) in conn.execute(
        "select policyname from pg_policies where schemaname = %s and tablename = %s", (schema, table)
    ).fetchall():
        conn.execute(sql.SQL("drop policy {} on {}").format(sql.Identifier(policy), target))


def _lock_all(conn, tables: list[tuple[str, str, str]]) -> None:
    """Take every table's lock at once, in one order, before changing grants and policies: taken
    one by one, a lock can wait on autovacuum while autovacuum waits on us (a deadlock seen under
    load); asked for together, a conflicting autovacuum is cancelled instead."""
    names = [sql.Identifier(s, t) for s, t, kind in tables if kind in ("r", "p")]
    if names:
        conn.execute(sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(names)))


def _existing(conn, roles: Iterable[str]) -> list[str]:
    wanted = sorted(set(roles))
    have = {r[0] for r in conn.execute("select rolname from pg_roles where rolname = any(%s)", (wanted,)).fetchall()}
    missing = [r for r in wanted if r not in have]
    if missing:
        raise AccessConfigError(
            f"database role(s) {missing} do not exist: provision the cluster first "
            "(`make up`, or python -m mimamori.stack.provision)"
        )
    return wanted


def _exists(conn, schema: str, table: str) -> bool:
    """From the catalogue (to_regclass would need usage on the schema)."""
    row = conn.execute(
        "select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = %s and c.relname = %s",
        (schema, table),
    ).fetchone()
    return row is not None


def row_filter(
    decl: Declaration,
    grant: RelationGrant,
    table: tuple[str, str],
    columns: list[str],
    schemas: Schemas = DEFAULT_SCHEMAS,
) -> sql.Composable:
    """The row-level security predicate of one grant on one actual table (``true`` when unrestricted)."""
    audience = decl.audiences[grant.audience]
    parts: list[sql.Composable] = []
    if audience.row_scope == "school_register" and "person_id" in columns:
        if grant.table == REGISTER_TABLE and grant.schema == PUBLISHED:
            # the register itself: a plain column predicate (no policy may read its own table)
            parts.append(sql.SQL("{} is true").format(sql.Identifier(REGISTER_PREDICATE)))
        elif "run_month" not in columns:
            raise AccessConfigError(f"{table[0]}.{table[1]}: a school_register scope needs run_month and person_id")
        else:
            parts.append(
                sql.SQL("(run_month, person_id) in (select run_month, person_id from {} where {} is true)").format(
                    sql.Identifier(schemas.history, REGISTER_TABLE), sql.Identifier(REGISTER_PREDICATE)
                )
            )
    if not decl.sees_all_departments(grant.audience):
        parts += _department_filter(decl, grant, columns)
    if AUDIENCE_COLUMN in columns:  # a mart worded per audience: each reads its own rows only
        parts.append(sql.SQL("{} = {}").format(sql.Identifier(AUDIENCE_COLUMN), sql.Literal(grant.audience)))
    return sql.SQL(" and ").join(parts) if parts else sql.SQL("true")


def _department_filter(decl: Declaration, grant: RelationGrant, columns: list[str]) -> list[sql.Composable]:
    column = grant.department_column
    if column is None:
        # rows about a person that come from one department or another must be filtered by it
        # (a rule's list of items, person-free, is not)
        personal = {"person_id", "household_id", "via_person_id"} & set(columns)
        leaky = [c for c in ("item_code", "evidence_raw_table", "raw_table") if c in columns and personal]
        if leaky:
            raise AccessConfigError(
                f"audience_relations.csv: {grant.relation} for {grant.audience} has per-department rows "
                f"({', '.join(leaky)}) but no department_column: that audience does not see every department"
            )
        return []
    if column not in columns:
        raise AccessConfigError(f"audience_relations.csv: {grant.relation} has no column {column!r}")
    if column == "item_code":
        return [sql.SQL("item_code = any({})").format(sql.Literal(sorted(decl.visible_items(grant.audience))))]
    # a raw table's name starts with its department: fukushi__public_assistance
    return [
        sql.SQL("split_part(coalesce({}, ''), '__', 1) = any({})").format(
            sql.Identifier(column), sql.Literal(sorted(decl.viewable_departments(grant.audience)))
        )
    ]


def _apply_grant(
    conn, decl: Declaration, grant: RelationGrant, table: tuple[str, str, str], schemas: Schemas, strict: bool
) -> None:
    schema, name, kind = table
    columns = _table_columns(conn, schema, name)
    absent = sorted(grant.hidden_columns - set(columns))
    if absent and strict and schema != schemas.history:  # history may predate a column
        raise AccessConfigError(f"audience_relations.csv: {grant.relation} has no column(s) {absent} to hide")
    target = sql.Identifier(schema, name)
    role = sql.Identifier(decl.audiences[grant.audience].group_role)
    if grant.hidden_columns & set(columns):
        visible = [c for c in columns if c not in grant.hidden_columns]
        cols = sql.SQL(", ").join(map(sql.Identifier, visible))
        conn.execute(sql.SQL("grant select ({}) on {} to {}").format(cols, target, role))
    else:
        conn.execute(sql.SQL("grant select on {} to {}").format(target, role))
    conn.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), role))
    if kind == "v":
        return  # a view reads as its owner; the grant on the view is the whole wall
    conn.execute(
        sql.SQL("create policy {} on {} for select to {} using ({})").format(
            sql.Identifier(f"{POLICY_PREFIX}{grant.audience}_read"),
            target,
            role,
            row_filter(decl, grant, (schema, name), columns, schemas),
        )
    )


def _check_required(decl: Declaration, present: set[tuple[str, str]], required: set[str], schemas: Schemas) -> None:
    for name in sorted(required):
        schema, _, table = name.partition(".")
        if (schema, table) not in present:
            raise AccessConfigError(f"{name} was to be published but does not exist")
    for grant in decl.relations:
        if (schemas.actual(grant.schema), grant.table) not in present:
            raise AccessConfigError(
                f"audience_relations.csv declares {grant.relation} for {grant.audience}, but it is not published"
            )


def apply_published(
    conn, decl: Declaration | None = None, *, require: Iterable[str] = (), schemas: Schemas = DEFAULT_SCHEMAS
) -> dict[str, int]:
    """Re-apply every grant, column privilege and policy of the governed schemas from ``decl``.

    Run as the owner of the published tables (``transformer``), inside the publish transaction:
    each governed table first loses every privilege and policy, then gets exactly what the
    declaration gives; RLS is on for every table, so a table no row declares is readable by no
    audience. ``require``: relations (``published.x``) that were just published — then every
    declared relation, and every column it hides, must exist too (the declaration may not name
    something missing). Returns counts for the log.
    """
    decl = decl or declaration()
    # One transaction (a savepoint inside the publish transaction; a transaction of its own on an
    # autocommit connection): the locks hold until every grant and policy is back.
    with conn.transaction():
        return _apply_published(conn, decl, require, schemas)


def _apply_published(conn, decl: Declaration, require: Iterable[str], schemas: Schemas) -> dict[str, int]:
    tables = _governed_tables(conn, schemas)
    present = {(s, t) for s, t, _ in tables}
    if require:
        _check_required(decl, present, set(require), schemas)
    counts = {"tables": 0, "grants": 0, "undeclared": 0}
    managed = _existing(conn, decl.managed_roles())
    _lock_all(conn, tables)
    for schema in (schemas.published, schemas.pseudo, schemas.history):
        if conn.execute("select 1 from pg_namespace where nspname = %s", (schema,)).fetchone():
            conn.execute(sql.SQL("revoke all on schema {} from public").format(sql.Identifier(schema)))
    for table in tables:
        schema, name, kind = table
        _strip(conn, managed, schema, name)
        if kind != "v":
            conn.execute(sql.SQL("alter table {} enable row level security").format(sql.Identifier(schema, name)))
        grants = [g for g in decl.relations if (g.schema, g.table) == schemas.logical(schema, name)]
        counts["tables"] += 1
        counts["undeclared"] += not grants
        for grant in grants:
            _apply_grant(conn, decl, grant, table, schemas, strict=bool(require))
            counts["grants"] += 1
    if (schemas.published, "residents") in present:
        _address_view(conn, decl, managed, schemas)
    return counts


def _address_view(conn, decl: Declaration, managed: list[str], schemas: Schemas) -> None:
    """``published.resident_addresses`` for the case screen's staff logins only (never a dashboard)."""
    view = sql.Identifier(schemas.published, ADDRESS_VIEW)
    conn.execute(
        sql.SQL(
            "create or replace view {view} with (security_barrier) as "
            "with protected as (select household_id, address from {res} where has_dv_protection) "
            "select r.run_month, r.person_id, r.household_id, "
            "case when r.has_dv_protection or r.is_address_withheld "
            "or r.household_id in (select household_id from protected where household_id is not null) "
            "or r.address in (select address from protected where address is not null) "
            "then null else r.address end as address, "
            "(r.has_dv_protection or r.is_address_withheld) as is_address_withheld "
            "from {res} r"
        ).format(view=view, res=sql.Identifier(schemas.published, "residents"))
    )
    _strip(conn, managed, schemas.published, ADDRESS_VIEW)
    readers = [a.casescreen_login for a in decl.audiences.values() if a.reads_addresses and a.casescreen_login]
    for login in _existing(conn, readers):
        conn.execute(sql.SQL("grant select on {} to {}").format(view, sql.Identifier(login)))
        conn.execute(
            sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schemas.published), sql.Identifier(login))
        )


def drop_dependent_views(conn, schemas: Schemas = DEFAULT_SCHEMAS) -> None:
    """Drop the views this module creates, so publish may replace the tables under them."""
    conn.execute(sql.SQL("drop view if exists {}").format(sql.Identifier(schemas.published, ADDRESS_VIEW)))


# --- PostgreSQL: the case screen's tables (transformer) -----------------------------------------------


def apply_casework(conn, decl: Declaration | None = None, schemas: Schemas = DEFAULT_SCHEMAS) -> int:
    """Grants and row-level security on the case screen's tables, from the declaration.

    The pre-login role reads only accounts and sessions and appends to the audit log; each
    audience's case-screen login gets what its application roles' actions need, and may enter by
    hand only items of departments it may edit, for children in its row scope.
    Returns the number of tables governed (0 when the schema does not exist yet).
    """
    decl = decl or declaration()
    with conn.transaction():  # the locks hold until every grant and policy is back
        return _apply_casework(conn, decl, schemas)


def _apply_casework(conn, decl: Declaration, schemas: Schemas) -> int:
    schema = schemas.casework
    tables = [
        r[0]
        for r in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind = 'r'",
            (schema,),
        ).fetchall()
    ]
    if not tables:
        return 0
    managed = _existing(conn, decl.managed_roles())
    _lock_all(conn, [(schema, t, "r") for t in sorted(tables)])
    for table in tables:
        _strip(conn, managed, schema, table)
    conn.execute(sql.SQL("revoke all on schema {} from public").format(sql.Identifier(schema)))

    def grant(table: str, privileges: str, login: str) -> None:
        if table in tables:
            conn.execute(
                sql.SQL("grant {} on {} to {}").format(
                    sql.SQL(privileges), sql.Identifier(schema, table), sql.Identifier(login)
                )
            )

    conn.execute(
        sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), sql.Identifier(PREAUTH_LOGIN))
    )
    for table, privileges in PREAUTH_GRANTS:
        grant(table, privileges, PREAUTH_LOGIN)
    if "hand_entries" in tables:
        conn.execute(sql.SQL("alter table {} enable row level security").format(sql.Identifier(schema, "hand_entries")))
    if "audit_log" in tables:
        _audit_log_policies(conn, decl, schemas)
    for audience in decl.audiences.values():
        login = audience.casescreen_login
        if not login:
            continue
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), sql.Identifier(login)))
        grant("audit_log", "insert, select (audit_id)", login)
        actions = decl.audience_actions(audience.code)
        for action in sorted(actions):
            for table, privileges in ACTION_GRANTS.get(action, ()):
                grant(table, privileges, login)
        if "hand_entry" in actions and "hand_entries" in tables:
            _hand_entry_policy(conn, decl, audience, schemas)
    return len(tables)


def _audit_log_policies(conn, decl: Declaration, schemas: Schemas) -> None:
    """Everyone appends; the pre-login role reads back sign-in rows only; a case login reads the
    ids it inserted (``returning audit_id``; its column privilege is the id only) unless its
    audience has the ``audit`` action, which grants the whole table."""
    table = sql.Identifier(schemas.casework, "audit_log")
    logins = [a.casescreen_login for a in decl.audiences.values() if a.casescreen_login]
    everyone = sql.SQL(", ").join(map(sql.Identifier, [PREAUTH_LOGIN, *logins]))
    conn.execute(sql.SQL("alter table {} enable row level security").format(table))
    conn.execute(
        sql.SQL("create policy {} on {} for insert to {} with check (true)").format(
            sql.Identifier(f"{POLICY_PREFIX}append"), table, everyone
        )
    )
    conn.execute(
        sql.SQL("create policy {} on {} for select to {} using (action = any({}))").format(
            sql.Identifier(f"{POLICY_PREFIX}sign_in_rows"),
            table,
            sql.Identifier(PREAUTH_LOGIN),
            sql.Literal(list(AUTH_ACTIONS)),
        )
    )
    if logins:
        conn.execute(
            sql.SQL("create policy {} on {} for select to {} using (true)").format(
                sql.Identifier(f"{POLICY_PREFIX}case_logins"), table, sql.SQL(", ").join(map(sql.Identifier, logins))
            )
        )


def _hand_entry_policy(conn, decl: Declaration, audience: Audience, schemas: Schemas) -> None:
    """Read and enter hand entries only for visible/editable items and children in scope."""
    scope: sql.Composable = sql.SQL("true")
    if audience.row_scope == "school_register":
        if _exists(conn, schemas.published, REGISTER_TABLE):
            scope = sql.SQL("person_id in (select person_id from {} where {} is true)").format(
                sql.Identifier(schemas.published, REGISTER_TABLE), sql.Identifier(REGISTER_PREDICATE)
            )
        else:  # nothing published yet: nobody is in the scope (re-applied at every publication)
            scope = sql.SQL("false")
    conn.execute(
        sql.SQL(
            "create policy {name} on {table} for all to {login} "
            "using ({scope} and item_code = any({visible})) with check ({scope} and item_code = any({editable}))"
        ).format(
            name=sql.Identifier(f"{POLICY_PREFIX}{audience.code}_hand_entries"),
            table=sql.Identifier(schemas.casework, "hand_entries"),
            login=sql.Identifier(audience.casescreen_login),
            scope=scope,
            visible=sql.Literal(sorted(decl.visible_items(audience.code))),
            editable=sql.Literal(sorted(decl.editable_items(audience.code))),
        )
    )
