{#-
    Children in each age band × area (the area counted under: int_items__reporting_areas), per
    type and overall ('_any': every child, flagged in any type): the joint table behind the
    transparency report's two breakdowns. The report's disclosure control (mimamori.sdc) reads it
    to know what an attacker could derive from the published age-band and area tables together;
    it is itself never shown to the public (coordinator-level, like flag_disparity).
-#}
with

children as (

    {{ children_in_reporting_areas() }}

),

flags as (

    {{ flags_by_type_and_any() }}

),

final as (

    select
        {{ run_month() }} as run_month,
        children.age_band,
        children.reporting_area as area,
        flags.type_code,
        count(*) filter (where flags.is_in_age_range)::integer as children_in_age_range,
        count(*) filter (where flags.is_flagged)::integer as flagged_count
    from children
    inner join flags
        on children.person_id = flags.person_id
    group by children.age_band, children.reporting_area, flags.type_code

)

select * from final
