{#-
    Why a child in scope is not a conference candidate this month (domain.md §6, seed
    exclusion_rules): already supported, or the last conference outcome still holds —
    要支援 until its next review date; 支援不要 for N months (param_value, default 12) unless a type
    score or the total points rose above its value in the month that conference judged.
-#}
with

children as (

    select * from {{ ref('int_items__children') }}

),

rules as (

    select * from {{ ref('exclusion_rules') }}
    where is_enabled

),

already_supported as (

    select * from {{ ref('int_items__already_supported') }}

),

outcomes as (

    select * from {{ ref('int_items__outcomes') }}

),

history as (

    select * from {{ ref('int_items__score_history') }}

),

type_scores as (

    select * from {{ ref('child_type_scores') }}

),

scores as (

    select * from {{ ref('child_scores') }}

),

current_scores as (

    select person_id, type_code as score_code, score
    from type_scores
    union all
    select person_id, '_total', total_points
    from scores

),

risen as (

    select distinct outcomes.person_id
    from outcomes
    inner join history
        on outcomes.person_id = history.person_id
        and outcomes.judged_run_month = history.run_month
    inner join current_scores
        on history.person_id = current_scores.person_id
        and history.score_code = current_scores.score_code
    where outcomes.outcome = '支援不要'
        and current_scores.score > history.score

),

supported as (

    select
        already_supported.person_id,
        already_supported.rule_code,
        already_supported.raw_table as evidence_raw_table,
        already_supported.record_id as evidence_record_id,
        null::text as judged_run_month,
        already_supported.event_date as evidence_date
    from already_supported

),

needs_support as (

    select
        outcomes.person_id,
        'outcome_needs_support' as rule_code,
        'casework.conference_outcomes' as evidence_raw_table,
        outcomes.outcome_id::text as evidence_record_id,
        outcomes.judged_run_month,
        outcomes.next_review_date as evidence_date
    from outcomes
    inner join children
        on outcomes.person_id = children.person_id
    where outcomes.outcome = '要支援'
        and (outcomes.next_review_date is null or outcomes.next_review_date > children.as_of_date)

),

no_support_needed as (

    select
        outcomes.person_id,
        'outcome_no_support_needed' as rule_code,
        'casework.conference_outcomes' as evidence_raw_table,
        outcomes.outcome_id::text as evidence_record_id,
        outcomes.judged_run_month,
        outcomes.decided_at::date as evidence_date
    from outcomes
    inner join rules
        on rules.rule_code = 'outcome_no_support_needed'
    left join risen
        on outcomes.person_id = risen.person_id
    where outcomes.outcome = '支援不要'
        and risen.person_id is null
        and (
            (
                extract(year from to_date({{ run_month() }}, 'YYYY-MM')) * 12
                + extract(month from to_date({{ run_month() }}, 'YYYY-MM'))
            )
            - (
                extract(year from to_date(outcomes.judged_run_month, 'YYYY-MM')) * 12
                + extract(month from to_date(outcomes.judged_run_month, 'YYYY-MM'))
            )
        ) <= coalesce(rules.param_value, 12)

),

unioned as (

    select * from supported
    union all
    select * from needs_support
    union all
    select * from no_support_needed

),

final as (

    select
        children.run_month,
        unioned.person_id,
        children.household_id,
        unioned.rule_code,
        rules.label_ja as rule_label_ja,
        rules.kind as rule_kind,
        unioned.evidence_raw_table,
        unioned.evidence_record_id,
        unioned.judged_run_month,
        unioned.evidence_date,
        children.as_of_date
    from unioned
    inner join rules
        on unioned.rule_code = rules.rule_code
    inner join children
        on unioned.person_id = children.person_id

)

select * from final
