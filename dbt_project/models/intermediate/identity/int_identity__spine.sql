{#- The identity spine: the run month's residents on or before the as-of date (domain.md §3, §8). -#}
with

residents as (

    select * from {{ ref('stg_jumin__residents') }}

),

final as (

    select
        atena_no as id,
        atena_no as person_id,
        setai_no as household_id,
        name_norm,
        given_norm,
        kana_norm,
        given_kana_norm,
        sex,
        address_norm,
        null::text as school,
        null::text as student_no,
        extract(year from birth_date)::integer as birth_year,
        birth_date
    from residents
    where resident_since <= {{ as_of_date() }}

)

select * from final
