{#- The latest manual decision per (record, resident): it wins over the algorithm (domain.md §3). -#}
with

decisions as (

    select * from {{ source('casework', 'identity_decisions') }}

),

latest as (

    select
        record_key,
        person_id,
        decision,
        decided_by,
        reason,
        decided_at,
        row_number() over (partition by record_key, person_id order by decided_at desc, decision_id desc) as recency
    from decisions

),

final as (

    select
        record_key,
        person_id,
        decision,
        decided_by,
        reason,
        decided_at
    from latest
    where recency = 1

)

select * from final
