{#-
    Child × type score (domain.md §5): Σ over matched items of the rule's weight, a count-once
    group contributing only its largest matched weight; flagged when the child is in the type's age
    range, the required set (if any) has a match, and score ≥ threshold.
-#}
with

{{ rule_scoring_imports() }},

rule_items as (

    select
        children.person_id,
        type_items.type_code,
        type_items.item_code,
        coalesce(type_items.group_key, type_items.item_code) as group_key,
        type_items.weight,
        type_items.is_required,
        judged.status
    from children
    cross join type_items
    inner join judged
        on children.person_id = judged.person_id
        and type_items.item_code = judged.item_code

),

groups as (

    select
        person_id,
        type_code,
        group_key,
        max(weight) filter (where status = 'true') as group_weight
    from rule_items
    group by person_id, type_code, group_key

),

group_scores as (

    select
        person_id,
        type_code,
        coalesce(sum(group_weight), 0) as score
    from groups
    group by person_id, type_code

),

item_summary as (

    select
        person_id,
        type_code,
        string_agg(item_code, ' ' order by item_code) filter (where status = 'true') as matched_items,
        string_agg(item_code, ' ' order by item_code) filter (where status = 'unknown') as unknown_items,
        count(*) filter (where status = 'true') as matched_item_count,
        count(*) filter (where status = 'unknown') as unknown_item_count,
        count(*) as rule_item_count,
        bool_or(is_required) as has_required_set,
        coalesce(bool_or(is_required and status = 'true'), false) as has_required_match
    from rule_items
    group by person_id, type_code

),

final as (

    select
        children.run_month,
        children.person_id,
        children.household_id,
        types.type_code,
        types.label_ja as type_label_ja,
        item_summary.matched_items,
        item_summary.unknown_items,
        children.age,
        types.min_age,
        types.max_age,
        types.sort_order as type_sort_order,
        group_scores.score,
        types.threshold,
        item_summary.matched_item_count::integer as matched_item_count,
        item_summary.unknown_item_count::integer as unknown_item_count,
        item_summary.rule_item_count::integer as rule_item_count,
        children.age between types.min_age and types.max_age as is_in_age_range,
        not item_summary.has_required_set or item_summary.has_required_match as is_required_met,
        group_scores.score >= types.threshold as is_threshold_met,
        children.age between types.min_age and types.max_age
            and (not item_summary.has_required_set or item_summary.has_required_match)
            and group_scores.score >= types.threshold as is_flagged,
        children.as_of_date
    from children
    cross join types
    inner join group_scores
        on children.person_id = group_scores.person_id
        and types.type_code = group_scores.type_code
    inner join item_summary
        on children.person_id = item_summary.person_id
        and types.type_code = item_summary.type_code

)

select * from final
