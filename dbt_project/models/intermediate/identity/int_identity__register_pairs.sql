{#-
    Stage 1 of probabilistic matching: scored candidate pairs (record × resident) for 学齢簿 rows
    without a 宛名番号 or whose number failed its check. Blocking, comparisons and weights are data
    (vars identity_*, seed match_weights); the SQL is the generic matcher (macros/identity/match.sql),
    given the tables themselves so that the planner sees their statistics.
-#}
{%- set queue = "(select * from " ~ ref('int_identity__match_queue') ~ " where match_stage = 1)" -%}
{%- set spine = ref('int_identity__spine') -%}
with

decisions as (

    select * from {{ ref('int_identity__decisions') }}
    where decision = 'different'

),

scored as (

    {{ identity_score_pairs(
        "(" ~ identity_candidate_pairs(queue, spine, var('identity_blocking_rules'), var('identity_max_block_size')) ~ ")",
        queue, spine, var('identity_comparisons'), ref('match_weights')) }}

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
