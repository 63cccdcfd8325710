"""The case screen's tables in schema ``casework`` (``init-db``, run as role ``transformer``).

Two kinds of table:

- its own: ``staff_users`` (argon2 hashes), ``staff_sessions`` (server-side sessions, CSRF token),
  ``audit_log`` (append-only: update/delete/truncate revoked and refused by a trigger);
- the casework record that the next monthly run reads (domain.md §6):
  ``conference_outcomes``, ``hand_entries``, ``identity_decisions``, ``corrections``, and the
  governance logs ``purge_log`` and ``disclosure_log`` (written by mimamori.retention and
  mimamori.disclosure). This module is their only owner: dbt declares them as sources and never
  creates them (tests/casescreen/test_casework_owner.py). Provisioning and every dbt run
  (:func:`mimamori.dbt.run`) call :func:`create_tables`, so a fresh warehouse's first run has them
  even before the screen first starts. The outcomes ``conference_outcomes.outcome`` accepts are a
  check constraint generated from the seed ``rules/conference_outcomes.csv`` (not a foreign key to
  the seed's table: dbt recreates seeds, and this schema must not depend on dbt having run). Rows
  are never rewritten: a correction is a new version, and the only update the app role may make
  is marking the old version ``superseded_by``/``superseded_at``.

Everything is idempotent. Grants come from the audience declaration (``mimamori.access.apply_casework``):
the pre-login role ``casework`` reads accounts and sessions and appends to the audit log; each
audience's case-screen login may read and insert what its actions need, never update the casework
record (but for marking a superseded outcome) nor change the audit log.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from mimamori import access, vocabulary
from mimamori.casescreen.config import CaseScreenConfig

DDL = """
create table if not exists {s}.conference_outcomes (
    outcome_id bigint generated always as identity primary key,
    person_id text not null,
    household_id text,
    judged_run_month text not null check (judged_run_month ~ '^[0-9]{{4}}-(0[1-9]|1[0-2])$'),
    outcome text not null,
    reasons text,
    support_actions text[] not null default '{{}}',
    responsible text,
    next_review_date date,
    decided_by text,
    decided_at timestamptz not null default now(),
    version integer not null default 1,
    superseded_by bigint references {s}.conference_outcomes (outcome_id),
    superseded_at timestamptz
);
-- the screen's additions (the dbt macro may add them too; harmless either way)
alter table {s}.conference_outcomes add column if not exists correction_reason text;
alter table {s}.conference_outcomes add column if not exists conference_date date;
-- the outcomes the database accepts: generated from dbt_project/seeds/rules/conference_outcomes.csv
-- and remade on every call, so a table made before an outcome was added (or removed) follows the
-- seed; a row whose outcome the seed no longer has makes this fail rather than pass silently
alter table {s}.conference_outcomes drop constraint if exists conference_outcomes_outcome_check;
alter table {s}.conference_outcomes add constraint conference_outcomes_outcome_check
    check (outcome in ({outcomes}));
create index if not exists conference_outcomes_person_idx on {s}.conference_outcomes (person_id, judged_run_month);
comment on table {s}.conference_outcomes is
    'Case-conference outcomes (domain.md §6). judged_run_month = the run month whose judgement the conference discussed. A correction inserts a new version and sets superseded_by on the old row; rows are never deleted.';

create table if not exists {s}.hand_entries (
    hand_entry_id bigint generated always as identity primary key,
    person_id text not null,
    item_code text not null,
    value boolean not null,
    as_of_date date not null,
    origin text not null default '紙台帳',
    entered_by text not null,
    entered_at timestamptz not null default now(),
    correction_reason text,
    superseded_by bigint references {s}.hand_entries (hand_entry_id)
);
create index if not exists hand_entries_person_idx on {s}.hand_entries (person_id, item_code);
comment on table {s}.hand_entries is
    'Items entered by hand (paper-only records, corrections; domain.md §6). A hand entry holds from as_of_date for the item''s look-back and wins over the sources; value=false removes a source''s true only with a correction_reason.';

create table if not exists {s}.identity_decisions (
    decision_id bigint generated always as identity primary key,
    record_key text not null,
    raw_table text not null,
    record_id text,
    run_month text,
    person_id text,
    decision text not null,
    decided_by text not null,
    decided_at timestamptz not null default now(),
    reason text
);
create index if not exists identity_decisions_record_key_idx on {s}.identity_decisions (record_key);
-- 'not_in_town' (未照合一覧: the record's person does not live in the town) has no person; the
-- constraints are (re)made here so that a table created before that decision existed is upgraded
alter table {s}.identity_decisions alter column person_id drop not null;
alter table {s}.identity_decisions drop constraint if exists identity_decisions_decision_check;
alter table {s}.identity_decisions add constraint identity_decisions_decision_check
    check (decision in ('same', 'different', 'not_in_town'));
alter table {s}.identity_decisions drop constraint if exists identity_decisions_person_check;
alter table {s}.identity_decisions add constraint identity_decisions_person_check
    check ((decision = 'not_in_town') = (person_id is null));

-- identity_decisions: decision = 'same' (the record is this resident; wins over the algorithm),
-- 'different' (never linked to this resident) or 'not_in_town' (stays unmatched, decided). record_key
-- is stable across months (the contract key), so a decision holds for next month's delivery.
-- corrections (docs/governance.md): kind 'wrong_person' (every item the record supports is dropped
-- for the child) or 'wrong_value' (only this item); withdrawing is a new row with withdraws = the old id.
create table if not exists {s}.corrections (
    correction_id bigint generated always as identity primary key,
    person_id text not null,
    item_code text not null,
    raw_table text not null,
    record_id text,
    record_key text,
    run_month text not null check (run_month ~ '^[0-9]{{4}}-(0[1-9]|1[0-2])$'),
    kind text not null check (kind in ('wrong_person', 'wrong_value')),
    reason text not null check (length(btrim(reason)) > 0),
    linked_person_id text,
    corrected_by text not null,
    corrected_at timestamptz not null default now(),
    withdraws bigint references {s}.corrections (correction_id),
    check (record_id is not null or record_key is not null)
);
create index if not exists corrections_person_idx on {s}.corrections (person_id, item_code);
create index if not exists corrections_record_key_idx on {s}.corrections (record_key);
comment on table {s}.corrections is
    'Data corrections (docs/governance.md): a linked record is wrong for this child (wrong_person / wrong_value), with a reason. Wins on every later run (int_items__corrections); written through the case screen, which audits it.';

create table if not exists {s}.purge_log (
    purge_id bigint generated always as identity primary key,
    purged_at timestamptz not null default clock_timestamp(),
    run_month text not null,
    target text not null,
    cutoff text not null,
    rows_deleted bigint not null,
    executed_by text
);
comment on table {s}.purge_log is
    'Retention purges (mimamori.retention): counts only, never a personal value.';

create table if not exists {s}.disclosure_log (
    disclosure_id bigint generated always as identity primary key,
    requested_at timestamptz not null default clock_timestamp(),
    requested_by text not null,
    person_id text not null,
    request_ref text,
    output_sha256 text,
    counts jsonb not null default '{{}}'::jsonb
);
comment on table {s}.disclosure_log is
    'Disclosure exports for 開示請求 (APPI Art. 76, mimamori.disclosure): who asked, when, for whom; counts only.';

create table if not exists {s}.staff_users (
    staff_id bigint generated always as identity primary key,
    username text not null unique check (username ~ '^[a-z][a-z0-9_.-]{{1,39}}$'),
    display_name text not null,
    role text not null check (role in ('coordinator', 'caseworker', 'nurse', 'school_board')),
    password_hash text not null,
    is_active boolean not null default true,
    failed_logins integer not null default 0,
    locked_until timestamptz,
    created_at timestamptz not null default now(),
    last_login_at timestamptz
);

create table if not exists {s}.staff_sessions (
    session_hash text primary key,
    staff_id bigint not null references {s}.staff_users (staff_id) on delete cascade,
    csrf_token text not null,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now()
);

create table if not exists {s}.audit_log (
    audit_id bigint generated always as identity primary key,
    logged_at timestamptz not null default clock_timestamp(),
    staff_id bigint,
    username text,
    staff_role text,
    action text not null,
    object_type text,
    object_id text,
    run_month text,
    detail jsonb not null default '{{}}'::jsonb,
    client text
);
create index if not exists audit_log_object_idx on {s}.audit_log (object_type, object_id);
create index if not exists audit_log_logged_at_idx on {s}.audit_log (logged_at desc);
-- the login limits (auth.authenticate) count recent failures per address and per name
create index if not exists audit_log_login_address_idx on {s}.audit_log (client, logged_at)
    where action = 'login_failed';
create index if not exists audit_log_login_user_idx on {s}.audit_log (username, logged_at)
    where action in ('login_failed', 'login');
create index if not exists audit_log_unlock_idx on {s}.audit_log (object_id, logged_at) where action = 'unlock';

create or replace function {s}.audit_log_is_append_only() returns trigger
language plpgsql as $$
begin
    raise exception 'audit_log is append-only: % refused', tg_op;
end;
$$;

drop trigger if exists audit_log_append_only on {s}.audit_log;
create trigger audit_log_append_only
    before update or delete on {s}.audit_log
    for each row execute function {s}.audit_log_is_append_only();
drop trigger if exists audit_log_no_truncate on {s}.audit_log;
create trigger audit_log_no_truncate
    before truncate on {s}.audit_log
    for each statement execute function {s}.audit_log_is_append_only();
"""

#: the tables this module creates, in order
TABLES = (
    "conference_outcomes",
    "hand_entries",
    "identity_decisions",
    "corrections",
    "purge_log",
    "disclosure_log",
    "staff_users",
    "staff_sessions",
    "audit_log",
)


def create_tables(conn: psycopg.Connection, schema: str = "casework") -> list[str]:
    """Create the casework tables in ``schema`` if missing (idempotent; no grants)."""
    ident = sql.Identifier(schema)
    conn.execute(sql.SQL("create schema if not exists {}").format(ident))
    outcomes = sql.SQL(", ").join(sql.Literal(code) for code in vocabulary.outcome_codes())
    conn.execute(DDL.format(s=ident.as_string(conn), outcomes=outcomes.as_string(conn)))
    return [f"{schema}.{t}" for t in TABLES]


def init_db(config: CaseScreenConfig, dsn: str | None = None) -> list[str]:
    """Create the tables and grants (idempotent); returns the qualified table names."""
    with psycopg.connect(dsn or config.dsn(config.owner_role)) as conn:
        tables = create_tables(conn, config.casework_schema)
        # who may read and write what: the audience declaration, re-applied at every publication too
        access.apply_casework(
            conn,
            schemas=access.Schemas(
                published=config.published_schema, history=config.history_schema, casework=config.casework_schema
            ),
        )
    return tables
