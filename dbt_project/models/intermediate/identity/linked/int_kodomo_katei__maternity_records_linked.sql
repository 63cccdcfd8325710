{#- stg_kodomo_katei__maternity_records with the resident each record is linked to (macros/identity/linked_records.sql), plus the mother's 宛名番号 when she is on this month's spine. -#}
with

linked as (

    {{ identity_linked_records(ref('stg_kodomo_katei__maternity_records')) }}

),

mothers as (

    select atena_no from {{ ref('stg_jumin__residents') }}
    where resident_since <= {{ as_of_date() }}

),

final as (

    select
        linked.*,
        mothers.atena_no as mother_person_id
    from linked
    left join mothers
        on linked.mother_atena_no = mothers.atena_no

)

select * from final
