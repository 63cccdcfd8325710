{#-
    Child × type against the latest earlier published month (history): newly flagged, dropped,
    still flagged, score up/down. Before any month is published, every flag is 'newly_flagged'
    with no previous month.
-#}
with

type_scores as (

    select * from {{ ref('child_type_scores') }}

),

history as (

    select * from {{ ref('int_items__score_history') }}
    where score_code <> '_total'

),

previous_month as (

    select max(run_month) as run_month
    from history

),

previous as (

    select history.*
    from history
    inner join previous_month
        on history.run_month = previous_month.run_month

),

final as (

    select
        type_scores.run_month,
        type_scores.person_id,
        type_scores.household_id,
        type_scores.type_code,
        previous_month.run_month as previous_run_month,
        case
            when type_scores.is_flagged and not coalesce(previous.is_flagged, false) then 'newly_flagged'
            when not type_scores.is_flagged and coalesce(previous.is_flagged, false) then 'dropped'
            when type_scores.is_flagged then 'still_flagged'
            else 'not_flagged'
        end as flag_change,
        previous.score as previous_score,
        type_scores.score,
        type_scores.score - previous.score as score_change,
        coalesce(previous.is_flagged, false) as was_flagged,
        type_scores.is_flagged,
        type_scores.as_of_date
    from type_scores
    cross join previous_month
    left join previous
        on type_scores.person_id = previous.person_id
        and type_scores.type_code = previous.score_code

)

select * from final
