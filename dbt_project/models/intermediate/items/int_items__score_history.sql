{#-
    Earlier published months' scores (history schema, written by the publish step), long:
    one row per child × month × score (a type's score, or '_total' for total points).
    Empty until the first month is published: the tables' existence is checked at run time.
-#}
{%- set type_scores = source('judgement_history', 'child_type_scores') -%}
{%- set scores = source('judgement_history', 'child_scores') -%}
{%- set has_history = history_relation('child_type_scores') is not none
    and history_relation('child_scores') is not none -%}
with

{% if has_history %}
type_scores as (

    select * from {{ type_scores }}
    where run_month < {{ run_month() }}

),

scores as (

    select * from {{ scores }}
    where run_month < {{ run_month() }}

),

unioned as (

    select
        run_month::text as run_month,
        person_id::text as person_id,
        type_code::text as score_code,
        score::numeric as score,
        is_flagged::boolean as is_flagged
    from type_scores
    union all
    select
        run_month::text,
        person_id::text,
        '_total',
        total_points::numeric,
        flagged_type_count > 0
    from scores

),
{% else %}
unioned as (

    select
        null::text as run_month,
        null::text as person_id,
        null::text as score_code,
        null::numeric as score,
        null::boolean as is_flagged
    where false

),
{% endif %}

final as (

    select * from unioned

)

select * from final
