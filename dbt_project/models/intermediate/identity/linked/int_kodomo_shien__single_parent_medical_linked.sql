{#- stg_kodomo_shien__single_parent_medical_grants with the resident each record is linked to (int_identity__links). -#}
with

records as (

    select * from {{ ref('stg_kodomo_shien__single_parent_medical_grants') }}

),

links as (

    select * from {{ ref('int_identity__links') }}

),

final as (

    select
        records.*,
        links.person_id,
        links.household_id,
        links.link_status,
        links.link_method,
        links.match_score
    from records
    left join links
        on records.record_id = links.record_id

)

select * from final
