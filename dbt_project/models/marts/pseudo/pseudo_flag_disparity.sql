{{ config(alias='flag_disparity') }}
{#-
    flag_disparity for the analyst (published_pseudo.flag_disparity): the age-band and sex
    breakdowns only — counts the analyst can make from its own pseudonymised rows, so they reveal
    nothing those rows do not. Area and single-adult household are attributes the rows do not
    carry; breakdowns by them would let the analyst place a row in an area by comparing months
    (docs/disclosure.md), so they stay with the coordinator.
-#}
with

disparity as (

    select * from {{ ref('flag_disparity') }}

),

final as (

    select *
    from disparity
    where dimension in ('age_band', 'sex')
        and {{ pseudo_enabled() }}

)

select * from final
