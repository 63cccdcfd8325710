{#- stg_fukushi__disabled_child_service_certificates with the resident each record is linked to (int_identity__links). -#}
with

records as (

    select * from {{ ref('stg_fukushi__disabled_child_service_certificates') }}

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
