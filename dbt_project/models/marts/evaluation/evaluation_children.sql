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

    {{ children_in_reporting_areas() }}

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

    {{ household_adult_counts() }}

),

{#- What each child has in the registers' terms: a register's kind and the code it lists. -#}
register_entries as (

    select person_id, 'item' as kind, item_code as code
    from matches
    where is_matched
    union all
    select person_id, 'already_supported', rule_code
    from already_supported
    union all
    select person_id, 'outcome', outcome
    from outcomes

),

known as (

    select distinct register_entries.person_id
    from register_entries
    inner join registers
        on register_entries.kind = registers.kind
        and register_entries.code = registers.code

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
        children.reporting_area,
        children.age,
        coalesce(adults.adult_count, 0)::integer as adult_count,
        supported.person_id is not null as is_already_supported,
        known.person_id is not null as is_known,
        children.as_of_date
    from children
    left join adults
        on children.household_id = adults.household_id
    left join supported
        on children.person_id = supported.person_id
    left join known
        on children.person_id = known.person_id

)

select * from final
