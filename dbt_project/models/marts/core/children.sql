{#- Children in scope (ages 0–18 on the as-of date) on the run month's spine (domain.md §8). -#}
with

residents as (

    select * from {{ ref('stg_jumin__residents') }}

),

age_bands as (

    select * from {{ ref('age_bands') }}

),

aged as (

    select
        atena_no as person_id,
        setai_no as household_id,
        sex,
        birth_date,
        {{ as_of_date() }} as as_of_date,
        {{ age_on('birth_date', as_of_date()) }} as age,
        run_month
    from residents
    where resident_since <= {{ as_of_date() }}

),

final as (

    select
        aged.person_id,
        aged.household_id,
        age_bands.age_band,
        aged.sex,
        aged.age,
        aged.as_of_date,
        aged.run_month
    from aged
    left join age_bands
        on aged.age between age_bands.min_age and age_bands.max_age
    where aged.age between 0 and 18

)

select * from final
