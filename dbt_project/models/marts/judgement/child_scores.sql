{#-
    One row per child in scope: total points (Σ catalogue weight over all matched items, judgement
    and reference items alike, no grouping — domain.md §5) and the types flagged. `area` is the area
    the child is counted and filtered under (int_items__reporting_areas): a child under 支援措置,
    whose address is withheld, is placed by a fixed rule, so that no dashboard, filter or count
    ever has a category of its own for them (docs/disclosure.md) — and no reader can tell them by
    a missing area.
-#}
with

children as (

    select * from {{ ref('int_items__children') }}

),

matches as (

    select * from {{ ref('child_item_matches') }}

),

type_scores as (

    select * from {{ ref('child_type_scores') }}

),

reporting_areas as (

    select * from {{ ref('int_items__reporting_areas') }}

),

points as (

    select
        person_id,
        coalesce(sum(item_weight) filter (where is_matched), 0) as total_points,
        count(*) filter (where is_matched) as matched_item_count,
        count(*) filter (where is_unknown) as unknown_item_count,
        string_agg(item_code, ' ' order by item_sort_order) filter (where is_matched) as matched_items
    from matches
    group by person_id

),

types as (

    select
        person_id,
        string_agg(type_code, ' ' order by type_sort_order) filter (where is_flagged) as flagged_types,
        count(*) filter (where is_flagged) as flagged_type_count,
        coalesce(max(score) filter (where is_flagged), 0) as max_flagged_type_score,
        coalesce(max(score) filter (where is_in_age_range), 0) as max_type_score
    from type_scores
    group by person_id

),

final as (

    select
        children.run_month,
        children.person_id,
        children.household_id,
        children.age_band,
        children.sex,
        reporting_areas.reporting_area as area,
        types.flagged_types,
        points.matched_items,
        children.age,
        points.total_points,
        points.matched_item_count::integer as matched_item_count,
        points.unknown_item_count::integer as unknown_item_count,
        types.flagged_type_count::integer as flagged_type_count,
        types.max_flagged_type_score,
        types.max_type_score,
        types.flagged_type_count > 0 as is_flagged,
        children.as_of_date
    from children
    inner join points
        on children.person_id = points.person_id
    inner join types
        on children.person_id = types.person_id
    left join reporting_areas
        on children.person_id = reporting_areas.person_id

)

select * from final
