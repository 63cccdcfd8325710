{#-
    casework.identity_decisions: a person's decision about a record (domain.md §3), written by the
    case screen (role casework: select/insert/update through the schema's default privileges),
    read by int_identity__decisions. Created here (dbt on-run-start) so that the first run of a
    fresh warehouse has it; never dropped or rewritten by dbt.
      decision = 'same'      → the record is this resident (wins over the algorithm);
      decision = 'different' → the record is not this resident (the pair is never linked);
      decision = 'not_in_town' → the record's person does not live in the town (person_id null):
                                 it stays unmatched, decided, and leaves the 未照合一覧's open list.
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
        person_id text,
        decision text not null,
        decided_by text not null,
        decided_at timestamptz not null default now(),
        reason text
    );
    create index if not exists identity_decisions_record_key_idx on casework.identity_decisions (record_key);
    alter table casework.identity_decisions alter column person_id drop not null;
    alter table casework.identity_decisions drop constraint if exists identity_decisions_decision_check;
    alter table casework.identity_decisions add constraint identity_decisions_decision_check
        check (decision in ('same', 'different', 'not_in_town'));
    alter table casework.identity_decisions drop constraint if exists identity_decisions_person_check;
    alter table casework.identity_decisions add constraint identity_decisions_person_check
        check ((decision = 'not_in_town') = (person_id is null))
{%- endmacro %}
