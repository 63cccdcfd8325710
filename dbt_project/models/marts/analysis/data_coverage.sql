{#-
    Data coverage: the share of children with "no data" (unknown) per item, and per type (children
    in the type's age range with at least one of its items unknown, and the share of the type's
    item cells unknown), by age band — e.g. withdrawal at 15–18, where the 学齢簿 has ended.
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

per_item as (

    select
        'item' as subject_kind,
        matches.item_code as subject_code,
        children.age_band,
        count(*) as children,
        count(*) filter (where matches.is_unknown) as children_with_unknown,
        count(*) as cells,
        count(*) filter (where matches.is_unknown) as unknown_cells
    from matches
    inner join children
        on matches.person_id = children.person_id
    group by matches.item_code, children.age_band

),

per_type as (

    select
        'type' as subject_kind,
        type_scores.type_code as subject_code,
        children.age_band,
        count(*) as children,
        count(*) filter (where type_scores.unknown_item_count > 0) as children_with_unknown,
        sum(type_scores.rule_item_count) as cells,
        sum(type_scores.unknown_item_count) as unknown_cells
    from type_scores
    inner join children
        on type_scores.person_id = children.person_id
    where type_scores.is_in_age_range
    group by type_scores.type_code, children.age_band

),

unioned as (

    select * from per_item
    union all
    select * from per_type

),

final as (

    select
        {{ run_month() }} as run_month,
        subject_kind,
        subject_code,
        age_band,
        children::integer as children,
        children_with_unknown::integer as children_with_unknown,
        round(children_with_unknown::numeric / nullif(children, 0), 4) as unknown_share,
        round(unknown_cells::numeric / nullif(cells, 0), 4) as unknown_cell_share
    from unioned

)

select * from final
