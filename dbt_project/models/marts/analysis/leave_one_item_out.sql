{#-
    Per type and item: children flagged if that one item were left out of the rule (its group,
    required set and threshold otherwise unchanged) — an item on which many flags hang alone shows
    up as a large drop.
-#}
with

{{ rule_scoring_imports() }},

type_scores as (

    select * from {{ ref('child_type_scores') }}

),

left_out as (

    select
        type_items.type_code,
        type_items.item_code as left_out_item_code
    from type_items

),

{#-
    Only matched items can raise a score, so only status 'true' rows are read (a tenth of the
    judged rows); a child with no match scores 0 and is never flagged (thresholds are > 0, tested
    on the types seed). Whether the rule without the item still has a required item depends on
    the rule alone: leaving out the only required item leaves no requirement.
-#}
matched as (

    select person_id, item_code
    from judged
    where status = 'true'

),

requirements as (

    select
        left_out.type_code,
        left_out.left_out_item_code,
        coalesce(bool_or(type_items.is_required), false) as has_required
    from left_out
    left join type_items
        on left_out.type_code = type_items.type_code
        and left_out.left_out_item_code <> type_items.item_code
    group by left_out.type_code, left_out.left_out_item_code

),

rule_matches as (

    select
        left_out.type_code,
        left_out.left_out_item_code,
        matched.person_id,
        coalesce(type_items.group_key, type_items.item_code) as group_key,
        type_items.weight,
        type_items.is_required
    from left_out
    inner join type_items
        on left_out.type_code = type_items.type_code
        and left_out.left_out_item_code <> type_items.item_code
    inner join matched
        on type_items.item_code = matched.item_code

),

groups as (

    select
        type_code,
        left_out_item_code,
        person_id,
        group_key,
        max(weight) as group_weight,
        bool_or(is_required) as has_required_match
    from rule_matches
    group by type_code, left_out_item_code, person_id, group_key

),

scored as (

    select
        type_code,
        left_out_item_code,
        person_id,
        sum(group_weight) as score,
        bool_or(has_required_match) as has_required_match
    from groups
    group by type_code, left_out_item_code, person_id

),

flagged as (

    select
        scored.type_code,
        scored.left_out_item_code,
        count(*) filter (
            where children.age between types.min_age and types.max_age
                and (not requirements.has_required or scored.has_required_match)
                and scored.score >= types.threshold
        ) as flagged_count
    from scored
    inner join children
        on scored.person_id = children.person_id
    inner join types
        on scored.type_code = types.type_code
    inner join requirements
        on scored.type_code = requirements.type_code
        and scored.left_out_item_code = requirements.left_out_item_code
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
