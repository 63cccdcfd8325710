{#-
    Stage 2 of probabilistic matching: scored candidate pairs for 出欠, 学校健診, 就学援助 and 給食費
    (no 宛名番号). The residents carry their 学齢簿 context (児童生徒番号, 学校) from
    int_identity__pupil_context, so a record's student number and school are compared with the
    pupil's, and blocking on 児童生徒番号 finds the pupil even when name and birth date are off.
-#}
{%- set queue = "(select * from " ~ ref('int_identity__match_queue') ~ " where match_stage = 2)" -%}
{%- set residents = ref('int_identity__spine_with_context') -%}
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
