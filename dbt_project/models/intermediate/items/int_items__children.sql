{#- Children in scope (marts/core children) with what the item rules need about each one. -#}
with

children as (

    select * from {{ ref('children') }}

),

residents as (

    select * from {{ ref('int_items__residents') }}

),

{{ linked_imports(school_register='gakko__school_register') }}

on_register as (

    select distinct person_id
    from school_register

),

final as (

    select
        children.person_id,
        children.household_id,
        residents.record_id,
        children.sex,
        children.age_band,
        residents.area,
        residents.address_key,
        children.age,
        on_register.person_id is not null as is_on_school_register,
        residents.birth_date,
        children.as_of_date,
        {{ school_year_start('children.as_of_date') }} as school_year_start_date,
        children.run_month
    from children
    inner join residents
        on children.person_id = residents.person_id
    left join on_register
        on children.person_id = on_register.person_id

)

select * from final
