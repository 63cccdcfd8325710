{#-
    Every conference outcome as data (docs/evaluation.md): per child and judged month, the
    current decision (the latest version not superseded) with the judgement of the month it
    judged — age, age band, flagged types, matched items, whether the child was known to the
    town then. Months before this run come from history (published months); this run month from
    its own marts. An outcome of a month that was never published keeps its row with the
    judgement columns empty. Labels with biases: only children the rules proposed have outcomes,
    and the outcome is about the child, not about one type.
-#}
{%- set has_scores = history_relation('child_scores') is not none -%}
{%- set has_children = history_relation('evaluation_children') is not none -%}
with

outcomes as (

    select * from {{ source('judgement_casework', 'conference_outcomes') }}
    where superseded_by is null
        and judged_run_month <= {{ run_month() }}

),

latest as (

    select distinct on (person_id, judged_run_month)
        outcome_id,
        person_id,
        household_id,
        judged_run_month,
        outcome
    from outcomes
    order by person_id asc, judged_run_month asc, decided_at desc, outcome_id desc

),

current_scores as (

    select * from {{ ref('child_scores') }}

),

current_children as (

    select * from {{ ref('evaluation_children') }}

),

judged as (

    select
        current_scores.run_month,
        current_scores.person_id,
        current_scores.household_id,
        current_scores.age,
        current_scores.age_band,
        current_scores.flagged_types,
        current_scores.matched_items,
        current_children.is_known
    from current_scores
    left join current_children
        on current_scores.person_id = current_children.person_id
    {% if has_scores %}
    union all
    select
        scores.run_month::text,
        scores.person_id::text,
        scores.household_id::text,
        scores.age::integer,
        scores.age_band::text,
        scores.flagged_types::text,
        scores.matched_items::text,
        {% if has_children %}children.is_known::boolean{% else %}null::boolean{% endif %}
    from {{ source('evaluation_history', 'child_scores') }} as scores
    {% if has_children %}
    left join {{ source('evaluation_history', 'evaluation_children') }} as children
        on scores.run_month = children.run_month
        and scores.person_id = children.person_id
    {% endif %}
    where scores.run_month < {{ run_month() }}
        and scores.person_id in (select latest.person_id from latest)
    {% endif %}

),

final as (

    select
        {{ run_month() }} as run_month,
        latest.person_id,
        coalesce(judged.household_id, latest.household_id) as household_id,
        latest.judged_run_month,
        latest.outcome,
        judged.age_band,
        judged.flagged_types,
        judged.matched_items,
        latest.outcome_id,
        judged.age,
        judged.is_known
    from latest
    left join judged
        on latest.person_id = judged.person_id
        and latest.judged_run_month = judged.run_month

)

select * from final
