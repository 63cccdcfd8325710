{#-
    The joint table the report's disclosure control reads (flag_cells) is the same data as the
    published breakdowns: summed over areas it is flag_disparity by age band, summed over age
    bands flag_disparity by area. Rows returned are the cells that disagree.
-#}
with

cells as (

    select * from {{ ref('flag_cells') }}

),

disparity as (

    select * from {{ ref('flag_disparity') }}
    where dimension in ('age_band', 'area')

),

summed as (

    select 'age_band' as dimension, age_band as dimension_value, type_code,
        sum(children_in_age_range) as children_in_age_range, sum(flagged_count) as flagged_count
    from cells
    group by age_band, type_code
    union all
    select 'area', area, type_code, sum(children_in_age_range), sum(flagged_count)
    from cells
    group by area, type_code

)

select
    coalesce(summed.dimension, disparity.dimension) as dimension,
    coalesce(summed.dimension_value, disparity.dimension_value) as dimension_value,
    coalesce(summed.type_code, disparity.type_code) as type_code
from summed
full outer join disparity
    on summed.dimension = disparity.dimension
    and summed.dimension_value = disparity.dimension_value
    and summed.type_code = disparity.type_code
where summed.children_in_age_range is distinct from disparity.children_in_age_range
    or summed.flagged_count is distinct from disparity.flagged_count
