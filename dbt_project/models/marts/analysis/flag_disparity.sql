{#-
    Flag rates by age band, sex, single-adult household and area (町名), per type and overall
    ('_any'): who the rules reach — and who they may miss or over-reach. The area is the one
    the child is counted under (int_items__reporting_areas): children under 支援措置 are spread
    over the areas, never a category of their own (docs/disclosure.md).
-#}
with

children as (

    {{ children_in_reporting_areas() }}

),

adults as (

    {{ household_adult_counts() }}

),

dimensions as (

    select
        children.person_id,
        dimension.dimension,
        dimension.dimension_value
    from children
    left join adults
        on children.household_id = adults.household_id
    cross join lateral (
        values
            ('age_band', children.age_band),
            ('sex', case children.sex when '1' then '男' when '2' then '女' else children.sex end),
            ('single_adult_household', case when coalesce(adults.adult_count, 0) = 1 then 'yes' else 'no' end),
            ('area', children.reporting_area)
    ) as dimension (dimension, dimension_value)

),

flags as (

    {{ flags_by_type_and_any() }}

),

final as (

    select
        {{ run_month() }} as run_month,
        dimensions.dimension,
        dimensions.dimension_value,
        flags.type_code,
        count(*) filter (where flags.is_in_age_range)::integer as children_in_age_range,
        count(*) filter (where flags.is_flagged)::integer as flagged_count,
        round(
            count(*) filter (where flags.is_flagged)::numeric
            / nullif(count(*) filter (where flags.is_in_age_range), 0),
            4
        ) as flag_rate
    from dimensions
    inner join flags
        on dimensions.person_id = flags.person_id
    group by dimensions.dimension, dimensions.dimension_value, flags.type_code

)

select * from final
