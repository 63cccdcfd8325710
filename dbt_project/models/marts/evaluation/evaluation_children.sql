{#-
    Per child in scope this month, what the evaluation of the rules needs beyond the scores
    (docs/evaluation.md): the reporting area (支援措置 folded: int_items__reporting_areas), the
    adults in the household (household type of the fairness figures), whether the child is
    already supported, and whether the child is **known to the town**: a record in a support
    register listed in the seed known_registers (items with their look-backs, the
    already-supported rules, an earlier conference outcome 要支援). A label with biases, not a
    truth: a family that never asked for help is "not known" (the seed says each register's bias).
-#}
with

children as (

    select * from {{ ref('int_items__children') }}

),

reporting_areas as (

    select * from {{ ref('int_items__reporting_areas') }}

),

residents as (

    select * from {{ ref('int_items__residents') }}

),

matches as (

    select * from {{ ref('child_item_matches') }}

),

already_supported as (

    select * from {{ ref('int_items__already_supported') }}

),

registers as (

    select * from {{ ref('known_registers') }}

),

outcomes as (

    select * from {{ source('judgement_casework', 'conference_outcomes') }}
    where superseded_by is null
        and judged_run_month < {{ run_month() }}

),

adults as (

    select
        household_id,
        count(*) filter (where {{ age_on('birth_date', as_of_date()) }} >= 18) as adult_count
    from residents
    group by household_id

),

known_by_item as (

    select distinct matches.person_id
    from matches
    inner join registers
        on registers.kind = 'item'
        and matches.item_code = registers.code
    where matches.is_matched

),

known_by_support as (

    select distinct already_supported.person_id
    from already_supported
    inner join registers
        on registers.kind = 'already_supported'
        and already_supported.rule_code = registers.code

),

known_by_outcome as (

    select distinct outcomes.person_id
    from outcomes
    inner join registers
        on registers.kind = 'outcome'
        and outcomes.outcome = registers.code

),

known as (

    select person_id from known_by_item
    union
    select person_id from known_by_support
    union
    select person_id from known_by_outcome

),

supported as (

    select distinct person_id
    from already_supported

),

final as (

    select
        children.run_month,
        children.person_id,
        children.household_id,
        children.age_band,
        children.sex,
        reporting_areas.reporting_area,
        children.age,
        coalesce(adults.adult_count, 0)::integer as adult_count,
        supported.person_id is not null as is_already_supported,
        known.person_id is not null as is_known,
        children.as_of_date
    from children
    inner join reporting_areas
        on children.person_id = reporting_areas.person_id
    left join adults
        on children.household_id = adults.household_id
    left join supported
        on children.person_id = supported.person_id
    left join known
        on children.person_id = known.person_id

)

select * from final
