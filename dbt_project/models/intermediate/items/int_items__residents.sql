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
            町名: the normalised address without prefecture, 郡 and municipality, up to its numbers.
            Never for a resident under a DV protection measure (支援措置): no part of the address.
        -#}
        case when not coalesce(has_dv_protection, false) then nullif(
            substring(
                regexp_replace(
                    regexp_replace(normalize(address, nfkc), '\s', '', 'g'),
                    '^(.{2,3}?[都道府県])?(.+?郡)?(.+?[市区町村])', ''
                )
                from '^(.+?)(?:[0-9一二三四五六七八九十]+丁目|[0-9]|$)'
            ),
            ''
        ) end as area,
        address_norm as address_key,
        birth_date,
        moved_in_on as moved_in_date,
        resident_since as resident_since_date,
        run_month
    from residents
    where resident_since <= {{ as_of_date() }}

)

select * from final
