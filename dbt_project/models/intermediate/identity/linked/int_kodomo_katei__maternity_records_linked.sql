{#- stg_kodomo_katei__maternity_records with the resident each record is linked to (int_identity__links). -#}
with

records as (

    select * from {{ ref('stg_kodomo_katei__maternity_records') }}

),

links as (

    select * from {{ ref('int_identity__links') }}

),

mothers as (

    select atena_no from {{ ref('stg_jumin__residents') }}
    where resident_since <= {{ as_of_date() }}

),

final as (

    select
        records.*,
        links.person_id,
        links.household_id,
        links.link_status,
        links.link_method,
        links.match_score,
        mothers.atena_no as mother_person_id
    from records
    left join links
        on records.record_id = links.record_id
    left join mothers
        on records.mother_atena_no = mothers.atena_no

)

select * from final
