{#-
    Item facts from the resident registry of the run month: I14 moved in (転入日), I19 多子世帯
    (children 0–18 in the 世帯, the child included), and I22 a preschool child aged 3 or more with
    no valid enrolment in 保育所入所.csv (which lists everyone enrolled, so absence is false).
-#}
with

catalogue as (

    select * from {{ ref('item_catalogue') }}

),

residents as (

    select * from {{ ref('int_items__residents') }}

),

{{ linked_imports(enrolments='kodomo_shien__childcare_enrolments') }}

params as (

    select
        max(param_value) filter (where item_code = 'I19') as min_children,
        max(param_value) filter (where item_code = 'I22') as min_preschool_age
    from catalogue

),

aged as (

    select
        residents.*,
        {{ age_on('residents.birth_date', as_of_date()) }} as age,
        {#- Pupils of the school year starting in Y were born 2 April (Y-7) – 1 April (Y-6). -#}
        residents.birth_date >= make_date(
            extract(year from {{ school_year_start(as_of_date()) }})::integer - 6, 4, 2
        ) as is_preschool
    from residents

),

moved_in as (

    select
        'I14' as item_code,
        person_id,
        null::text as household_id,
        raw_table,
        record_id,
        '転入' as detail,
        moved_in_date as event_date,
        moved_in_date as valid_from,
        null::date as valid_through
    from residents
    where moved_in_date is not null

),

household_children as (

    select
        household_id,
        count(*) as child_count
    from aged
    where age between 0 and 18
    group by household_id

),

many_children as (

    select
        'I19' as item_code,
        aged.person_id,
        null::text as household_id,
        aged.raw_table,
        aged.record_id,
        '18歳以下' || household_children.child_count || '人' as detail,
        {{ as_of_date() }} as event_date,
        {{ as_of_date() }} as valid_from,
        null::date as valid_through
    from aged
    inner join household_children
        on aged.household_id = household_children.household_id
    cross join params
    where aged.age between 0 and 18
        and household_children.child_count >= params.min_children

),

enrolled as (

    select distinct person_id
    from enrolments
    where enrolled_on <= {{ as_of_date() }}
        and (left_on is null or left_on > {{ as_of_date() }})

),

not_enrolled as (

    select
        'I22' as item_code,
        aged.person_id,
        null::text as household_id,
        aged.raw_table,
        aged.record_id,
        aged.age || '歳 所属なし' as detail,
        {{ as_of_date() }} as event_date,
        {{ as_of_date() }} as valid_from,
        null::date as valid_through
    from aged
    cross join params
    left join enrolled
        on aged.person_id = enrolled.person_id
    where aged.is_preschool
        and aged.age >= params.min_preschool_age
        and enrolled.person_id is null

),

final as (

    select * from moved_in
    union all
    select * from many_children
    union all
    select * from not_enrolled

)

select * from final
