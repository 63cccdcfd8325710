{#-
    Each child's last conference outcome before this run month (casework.conference_outcomes,
    current versions only): the latest judged run month earlier than this one, then the latest
    decision. Outcomes of the month being judged are not yet known when it runs, so re-running a
    month gives the same answer.
-#}
with

outcomes as (

    select * from {{ source('judgement_casework', 'conference_outcomes') }}
    where superseded_by is null
        and judged_run_month < {{ run_month() }}

),

final as (

    select distinct on (person_id)
        outcome_id,
        person_id,
        outcome,
        judged_run_month,
        reasons,
        responsible,
        next_review_date,
        decided_at
    from outcomes
    order by person_id asc, judged_run_month desc, decided_at desc, outcome_id desc

)

select * from final
