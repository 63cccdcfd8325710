{#-
    The review queue (domain.md §3): records the matcher could not decide — a best candidate in the
    review band, a tie, or a group over its limit — with up to three candidate residents, their
    scores and the comparison levels behind them. Minimal personal data: ids, scores and reasons
    only; the case screen shows the records themselves to authorised staff. A decision written to
    casework.identity_decisions (record_key, person_id, same/different) takes the record out of
    the queue on the next run.
-#}
with

links as (

    select * from {{ ref('int_identity__links') }}
    where link_status = 'review'

),

register_pairs as (

    select * from {{ ref('int_identity__register_pairs') }}

),

school_pairs as (

    select * from {{ ref('int_identity__school_pairs') }}

),

pairs as (

    select left_id, right_id, match_score, match_reason from register_pairs
    union all
    select left_id, right_id, match_score, match_reason from school_pairs

),

ranked as (

    select
        pairs.*,
        {{ identity_candidate_rank('pairs') }} as candidate_rank
    from pairs
    where pairs.match_score >= {{ var('identity_review_threshold') }}

),

candidates as (

    select
        left_id as record_id,
        array_agg(right_id order by candidate_rank) as candidate_person_ids,
        array_agg(match_score order by candidate_rank) as candidate_scores,
        array_agg(match_reason order by candidate_rank) as candidate_reasons
    from ranked
    where candidate_rank <= 3
    group by left_id

),

final as (

    select
        {{ identity_record_columns('links') }},
        candidates.candidate_person_ids,
        links.match_reason,
        candidates.candidate_reasons,
        links.match_score,
        links.runner_up_score,
        candidates.candidate_scores,
        links.source_row_number,
        {{ run_month() }} as run_month
    from links
    left join candidates
        on links.record_id = candidates.record_id

)

select * from final
