{#-
    I21a むし歯4本以上 on the child's latest checkup of either source (domain.md §4): the latest
    attended 乳幼児健診 or this school year's 学校健診, whichever is later. A source that failed
    under `skip` contributes no checkup (the item is then true only if the other matched).
-#}
with

catalogue as (

    select * from {{ ref('item_catalogue') }}

),

{{ linked_imports(
    infant_checkups='kodomo_katei__infant_checkups',
    school_checkups='gakko__school_checkups'
) }}

params as (

    select max(param_value) filter (where item_code = 'I21a') as min_caries
    from catalogue

),

checkups as (

    select
        person_id,
        'kodomo_katei__infant_checkups' as raw_table,
        record_id,
        checkup || '健診' as checkup,
        caries_count,
        attended_on as checked_on
    from infant_checkups
    where attended_on <= {{ as_of_date() }}
        and caries_count is not null
    union all
    select
        person_id,
        'gakko__school_checkups' as raw_table,
        record_id,
        '学校健診' as checkup,
        caries_count,
        examined_on as checked_on
    from school_checkups
    where examined_on between {{ school_year_start(as_of_date()) }} and {{ as_of_date() }}
        and caries_count is not null

),

latest as (

    select distinct on (person_id) *
    from checkups
    order by person_id asc, checked_on desc, raw_table asc, record_id asc

),

final as (

    select
        'I21a' as item_code,
        latest.person_id,
        null::text as household_id,
        latest.raw_table,
        latest.record_id,
        latest.checkup || ' むし歯' || latest.caries_count || '本' as detail,
        latest.checked_on as event_date,
        latest.checked_on as valid_from,
        null::date as valid_through
    from latest
    cross join params
    where latest.caries_count >= params.min_caries

)

select * from final
