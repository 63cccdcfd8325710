{#-
    Per type and item: children flagged if that one item were left out of the rule (its group,
    required set and threshold otherwise unchanged) — an item on which many flags hang alone shows
    up as a large drop.
-#}
with

children as (

    select * from {{ ref('int_items__children') }}

),

judged as (

    select * from {{ ref('int_child_items_judged') }}

),

types as (

    select * from {{ ref('types') }}
    where is_enabled

),

type_items as (

    select * from {{ ref('type_items') }}

),

type_scores as (

    select * from {{ ref('child_type_scores') }}

),

left_out as (

    select
        type_items.type_code,
        type_items.item_code as left_out_item_code
    from type_items

),

rule_items as (

    select
        left_out.type_code,
        left_out.left_out_item_code,
        judged.person_id,
        coalesce(type_items.group_key, type_items.item_code) as group_key,
        type_items.weight,
        type_items.is_required,
        judged.status = 'true' as is_matched
    from left_out
    inner join type_items
        on left_out.type_code = type_items.type_code
        and left_out.left_out_item_code <> type_items.item_code
    inner join judged
        on type_items.item_code = judged.item_code

),

groups as (

    select
        type_code,
        left_out_item_code,
        person_id,
        group_key,
        coalesce(max(weight) filter (where is_matched), 0) as group_weight,
        bool_or(is_required) as has_required,
        bool_or(is_required and is_matched) as has_required_match
    from rule_items
    group by type_code, left_out_item_code, person_id, group_key

),

scored as (

    select
        type_code,
        left_out_item_code,
        person_id,
        sum(group_weight) as score,
        not bool_or(has_required) or bool_or(has_required_match) as is_required_met
    from groups
    group by type_code, left_out_item_code, person_id

),

flagged as (

    select
        scored.type_code,
        scored.left_out_item_code,
        count(*) filter (
            where children.age between types.min_age and types.max_age
                and scored.is_required_met
                and scored.score >= types.threshold
        ) as flagged_count
    from scored
    inner join children
        on scored.person_id = children.person_id
    inner join types
        on scored.type_code = types.type_code
    group by scored.type_code, scored.left_out_item_code

),

current_flags as (

    select
        run_month,
        type_code,
        count(*) filter (where is_flagged) as flagged_count
    from type_scores
    group by run_month, type_code

),

final as (

    select
        current_flags.run_month,
        left_out.type_code,
        left_out.left_out_item_code,
        current_flags.flagged_count::integer as flagged_count_all_items,
        coalesce(flagged.flagged_count, 0)::integer as flagged_count_without_item,
        (current_flags.flagged_count - coalesce(flagged.flagged_count, 0))::integer as flags_lost
    from left_out
    inner join current_flags
        on left_out.type_code = current_flags.type_code
    left join flagged
        on left_out.type_code = flagged.type_code
        and left_out.left_out_item_code = flagged.left_out_item_code

)

select * from final
