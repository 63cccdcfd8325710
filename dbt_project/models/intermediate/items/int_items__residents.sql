{#-
    The run month's residents (the spine, all ages) as the item models use them: one place that
    maps the staging columns, so a staging rename touches only this file (domain.md §8).
-#}
with

residents as (

    select * from {{ ref('stg_jumin__residents') }}

),

final as (

    select
        atena_no as person_id,
        setai_no as household_id,
        record_id,
        'jumin__residents' as raw_table,
        sex,
        relationship,
        {#-
            町名 (domain.md §6): the normalised registry address (prefecture, 郡 and the town's own
            name removed, numerals as digits: stg_jumin__residents.address_norm) up to its first
            number. Never for a resident under a DV protection measure (支援措置).
        -#}
        case when not coalesce(has_dv_protection, false) then
            nullif(substring(address_norm from '^([^0-9]+)'), '')
        end as area,
        address_norm as address_key,
        birth_date,
        moved_in_on as moved_in_date,
        resident_since as resident_since_date,
        run_month
    from residents
    where resident_since <= {{ as_of_date() }}

)

select * from final
