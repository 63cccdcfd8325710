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
        {{ identity_alias_norm('name') }} as alias_norm,
        {{ identity_reading_key('name') }} as reading_key,
        {{ identity_token_key('name_norm') }} as name_key,
        kana_norm,
        given_kana_norm,
        {{ identity_kana_key('name_kana') }} as kana_key,
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
