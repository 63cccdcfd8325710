{#- The type rules in force for the run month: each type's items, weights, groups and thresholds. -#}
with

types as (

    select * from {{ ref('types') }}

),

type_items as (

    select * from {{ ref('type_items') }}

),

final as (

    select
        type_items.type_code,
        type_items.item_code,
        types.label_ja as type_label_ja,
        type_items.group_key,
        types.sort_order as type_sort_order,
        types.min_age,
        types.max_age,
        types.threshold,
        type_items.weight,
        type_items.is_required,
        types.is_enabled,
        {{ run_month() }} as run_month
    from type_items
    inner join types
        on type_items.type_code = types.type_code

)

select * from final
