{#-
    気づき → 会議で検討 → 要支援 / 調査継続 / 経過観察 / 支援不要 for the run month: flagged children,
    then the conference's latest decision (not superseded) on this month's judgement.
-#}
with

child_scores as (

    select * from {{ ref('child_scores') }}

),

outcomes as (

    select * from {{ source('judgement_casework', 'conference_outcomes') }}
    where judged_run_month = {{ run_month() }} and superseded_by is null

),

latest as (

    select distinct on (person_id)
        person_id,
        outcome
    from outcomes
    order by person_id asc, decided_at desc, outcome_id desc

),

stages as (

    select 1 as stage_order, '気づき' as stage_label_ja, count(*) filter (where is_flagged) as children
    from child_scores
    union all
    select 2, '会議で検討', count(*) from latest
    union all
    select 3, '要支援', count(*) filter (where outcome = '要支援') from latest
    union all
    select 4, '調査継続', count(*) filter (where outcome = '調査継続') from latest
    union all
    select 5, '経過観察', count(*) filter (where outcome = '経過観察') from latest
    union all
    select 6, '支援不要', count(*) filter (where outcome = '支援不要') from latest

),

final as (

    select
        stage_label_ja,
        stage_order,
        children::integer as children,
        {{ run_month() }} as run_month
    from stages

)

select * from final
