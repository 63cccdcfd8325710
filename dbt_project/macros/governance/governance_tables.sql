{#-
    Governance tables in schema casework (docs/governance.md), created by the on-run-start hook
    create_governance_casework_tables() like the other casework tables: `create … if not exists`,
    never dropped or rewritten by dbt. The transformer owns them; its default privileges in
    casework give the casework role (the case screen) select/insert/update.

    casework.corrections — a staff member's record that a linked source record is wrong for a
      child (domain.md §6): kind 'wrong_person' (the record is not about this child or this
      household member: every item it supports is dropped for the child) or 'wrong_value' (the
      record's value is wrong for this item: only this item is dropped). record_key (the contract
      key, stable across months) makes the correction win on every later run; record_id (month-
      local) is used only in run_month itself when no record_key is known. Read by
      int_items__corrections. Withdrawing a correction is a new row with withdraws = the old id.
    casework.purge_log — what mimamori.retention.purge deleted: table, cut-off, row count (never
      a personal value). Append-only by convention (retention.csv: never purged).
    casework.disclosure_log — every disclosure export (開示請求, APPI Art. 76) made with
      python -m mimamori.disclosure: who requested it, when, for which 宛名番号, the file's sha256.
-#}
{% macro create_governance_casework_tables() %}
    {%- if execute %}
    create schema if not exists casework;

    create table if not exists casework.corrections (
        correction_id bigint generated always as identity primary key,
        person_id text not null,
        item_code text not null,
        raw_table text not null,
        record_id text,
        record_key text,
        run_month text not null check (run_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
        kind text not null check (kind in ('wrong_person', 'wrong_value')),
        reason text not null check (length(btrim(reason)) > 0),
        linked_person_id text,
        corrected_by text not null,
        corrected_at timestamptz not null default now(),
        withdraws bigint references casework.corrections (correction_id),
        check (record_id is not null or record_key is not null)
    );
    comment on table casework.corrections is
        'Data corrections (docs/governance.md): a linked record is wrong for this child (wrong_person / wrong_value), with a reason. Wins on every later run (int_items__corrections); written through the case screen, which audits it.';
    create index if not exists corrections_person_idx on casework.corrections (person_id, item_code);
    create index if not exists corrections_record_key_idx on casework.corrections (record_key);

    create table if not exists casework.purge_log (
        purge_id bigint generated always as identity primary key,
        purged_at timestamptz not null default clock_timestamp(),
        run_month text not null,
        target text not null,
        cutoff text not null,
        rows_deleted bigint not null,
        executed_by text
    );
    comment on table casework.purge_log is
        'Retention purges (mimamori.retention): counts only, never a personal value.';

    create table if not exists casework.disclosure_log (
        disclosure_id bigint generated always as identity primary key,
        requested_at timestamptz not null default clock_timestamp(),
        requested_by text not null,
        person_id text not null,
        request_ref text,
        output_sha256 text,
        counts jsonb not null default '{}'::jsonb
    );
    comment on table casework.disclosure_log is
        'Disclosure exports for 開示請求 (APPI Art. 76, mimamori.disclosure): who asked, when, for whom; counts only.';
    {%- endif %}
{% endmacro %}
