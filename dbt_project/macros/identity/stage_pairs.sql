{#-
    One stage of probabilistic matching (int_identity__register_pairs, int_identity__school_pairs):
    the match queue's records of `stage` paired with `residents` by the generic matcher
    (macros/identity/match.sql; blocking, comparisons and weights are data: vars identity_*, seed
    match_weights), less the pairs a manual 'different' decision has ruled out. The tables are given
    to the matcher themselves, not as CTEs, so that the planner sees their statistics.
-#}
{% macro identity_stage_pairs(stage, residents) -%}
{%- set queue = "(select * from " ~ ref('int_identity__match_queue') ~ " where match_stage = " ~ stage ~ ")" -%}
with

decisions as (

    select * from {{ ref('int_identity__decisions') }}
    where decision = 'different'

),

scored as (

    {{ identity_score_pairs(
        "(" ~ identity_candidate_pairs(queue, residents, var('identity_blocking_rules'), var('identity_max_block_size')) ~ ")",
        queue, residents, var('identity_comparisons'), ref('match_weights')) }}

),

queue as (

    select id, record_key from {{ ref('int_identity__match_queue') }}

),

final as (

    select scored.*
    from scored
    inner join queue
        on scored.left_id = queue.id
    left join decisions
        on queue.record_key = decisions.record_key
        and scored.right_id = decisions.person_id
    where decisions.decision is null

)

select * from final
{%- endmacro %}
