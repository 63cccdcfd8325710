{#-
    casework.identity_decisions: a person's decision about a record (domain.md §3), written by the
    case screen (role casework: select/insert/update through the schema's default privileges),
    read by int_identity__decisions. Created here (dbt on-run-start) so that the first run of a
    fresh warehouse has it; never dropped or rewritten by dbt.
      decision = 'same'      → the record is this resident (wins over the algorithm);
      decision = 'different' → the record is not this resident (the pair is never linked).
    record_key is stable across months (the contract key, see the staging models), so a decision
    holds for next month's delivery of the same record; record_id (month-local) is informative.
-#}
{% macro identity_create_decisions_table() -%}
    create schema if not exists casework;
    create table if not exists casework.identity_decisions (
        decision_id bigint generated always as identity primary key,
        record_key text not null,
        raw_table text not null,
        record_id text,
        run_month text,
        person_id text not null,
        decision text not null check (decision in ('same', 'different')),
        decided_by text not null,
        decided_at timestamptz not null default now(),
        reason text
    );
    create index if not exists identity_decisions_record_key_idx on casework.identity_decisions (record_key)
{%- endmacro %}
