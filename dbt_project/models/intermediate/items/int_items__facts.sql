{#- Every item fact of every source, one relation (see the int_items__facts_<source> models). -#}
with

jumin as (

    select * from {{ ref('int_items__facts_jumin') }}

),

kodomo_shien as (

    select * from {{ ref('int_items__facts_kodomo_shien') }}

),

kodomo_katei as (

    select * from {{ ref('int_items__facts_kodomo_katei') }}

),

fukushi as (

    select * from {{ ref('int_items__facts_fukushi') }}

),

gakko as (

    select * from {{ ref('int_items__facts_gakko') }}

),

caries as (

    select * from {{ ref('int_items__facts_caries') }}

),

service_certificates as (

    select * from {{ ref('int_items__facts_service_certificates') }}

),

single_parent_medical as (

    select * from {{ ref('int_items__facts_single_parent_medical') }}

),

final as (

    select * from jumin
    union all
    select * from kodomo_shien
    union all
    select * from kodomo_katei
    union all
    select * from fukushi
    union all
    select * from gakko
    union all
    select * from caries
    union all
    select * from service_certificates
    union all
    select * from single_parent_medical

)

select * from final
