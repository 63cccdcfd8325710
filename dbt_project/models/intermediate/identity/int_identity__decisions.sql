{#- The latest manual decision per (record, resident): it wins over the algorithm (domain.md §3). -#}
with

decisions as (

    select * from {{ source('casework', 'identity_decisions') }}

),

final as (

    select distinct on (record_key, person_id)
        record_key,
        person_id,
        decision,
        decided_by,
        reason,
        decided_at
    from decisions
    order by record_key asc, person_id asc, decided_at desc, decision_id desc

)

select * from final
