{#-
    The casework tables that the case screen writes and the next month's run reads
    (domain.md §6). Run as an on-run-start hook: `create … if not exists`, so data is never
    overwritten. The schema belongs to the transformer role (mimamori.stack.pg.provision), whose
    default privileges give the casework role select/insert/update on them.
-#}
{% macro create_judgement_casework_tables() %}
    {%- if execute %}
    create schema if not exists casework;

    create table if not exists casework.conference_outcomes (
        outcome_id bigint generated always as identity primary key,
        person_id text not null,
        household_id text,
        judged_run_month text not null check (judged_run_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
        outcome text not null check (outcome in ('要支援', '調査継続', '経過観察', '支援不要')),
        reasons text,
        support_actions text[] not null default '{}',
        responsible text,
        next_review_date date,
        decided_by text,
        decided_at timestamptz not null default now(),
        version integer not null default 1,
        superseded_by bigint references casework.conference_outcomes (outcome_id),
        superseded_at timestamptz
    );
    comment on table casework.conference_outcomes is
        'Case-conference outcomes (domain.md §6). judged_run_month = the run month whose judgement the conference discussed. A correction inserts a new version and sets superseded_by on the old row; rows are never deleted.';
    create index if not exists conference_outcomes_person_idx
        on casework.conference_outcomes (person_id, judged_run_month);

    create table if not exists casework.hand_entries (
        hand_entry_id bigint generated always as identity primary key,
        person_id text not null,
        item_code text not null,
        value boolean not null,
        as_of_date date not null,
        origin text not null default '紙台帳',
        entered_by text not null,
        entered_at timestamptz not null default now(),
        correction_reason text,
        superseded_by bigint references casework.hand_entries (hand_entry_id)
    );
    comment on table casework.hand_entries is
        'Items entered by hand (paper-only records, corrections; domain.md §6). A hand entry holds from as_of_date for the item''s look-back and wins over the sources; value=false removes a source''s true only with a correction_reason.';
    create index if not exists hand_entries_person_idx
        on casework.hand_entries (person_id, item_code);
    {%- endif %}
{% endmacro %}
