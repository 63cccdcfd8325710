{#-
    Children under 調査継続 or 経過観察, or 要支援 past its next review date (domain.md §6): listed
    with their scores now and in the month the conference judged; never conference candidates.
    Which outcome is which: the seed conference_outcomes (is_followed_up, is_needs_support).
-#}
with

children as (

    select * from {{ ref('int_items__children') }}

),

outcomes as (

    select * from {{ ref('int_items__outcomes') }}

),

outcome_kinds as (

    select * from {{ ref('conference_outcomes') }}

),

scores as (

    select * from {{ ref('child_scores') }}

),

history as (

    select * from {{ ref('int_items__score_history') }}
    where score_code = '_total'

),

final as (

    select
        children.run_month,
        outcomes.person_id,
        children.household_id,
        outcomes.outcome as last_outcome,
        outcomes.judged_run_month,
        outcomes.responsible,
        outcomes.reasons,
        scores.flagged_types,
        outcomes.outcome_id,
        scores.total_points,
        history.score as total_points_when_judged,
        scores.total_points - history.score as total_points_change,
        scores.flagged_type_count,
        scores.max_type_score,
        scores.is_flagged,
        outcome_kinds.is_needs_support as is_review_due,
        outcomes.next_review_date,
        children.as_of_date
    from outcomes
    inner join outcome_kinds
        on outcomes.outcome = outcome_kinds.outcome
    inner join children
        on outcomes.person_id = children.person_id
    inner join scores
        on outcomes.person_id = scores.person_id
    left join history
        on outcomes.person_id = history.person_id
        and outcomes.judged_run_month = history.run_month
    where outcome_kinds.is_followed_up
        or (outcome_kinds.is_needs_support and outcomes.next_review_date <= children.as_of_date)

)

select * from final
