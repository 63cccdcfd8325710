{#-
    Item facts from the school board (学齢簿, 出欠, 学校健診, 就学援助, 給食費), linked to residents by
    identity resolution (the school side mostly has no 宛名番号). Whether a missing row means false or
    unknown is decided in int_items__coverage (domain.md §8).
-#}
with

catalogue as (

    select * from {{ ref('item_catalogue') }}

),

{{ linked_imports(
    school_register='gakko__school_register',
    attendance='gakko__attendance',
    school_aid='gakko__school_aid',
    lunch_arrears='gakko__school_lunch_arrears'
) }}

school_checkups as (

    select * from {{ linked('gakko__school_checkups') }}
    where link_status = 'linked'
        and examined_on <= {{ as_of_date() }}

),

params as (

    select
        max(param_value) filter (where item_code = 'I06') as min_absence_days,
        max(param_value) filter (where item_code = 'I33') as min_arrears_months,
        max(param_value) filter (where item_code = 'I34') as min_late_or_early
    from catalogue

),

special_needs_class as (

    select
        'I10' as item_code,
        person_id,
        null::text as household_id,
        'gakko__school_register' as raw_table,
        record_id,
        school || ' ' || grade || '年' as detail,
        least(extracted_on, {{ as_of_date() }}) as event_date,
        least(extracted_on, {{ as_of_date() }}) as valid_from,
        null::date as valid_through
    from school_register
    where in_special_needs_class

),

needs_referral as (

    select
        'I03' as item_code,
        person_id,
        null::text as household_id,
        'gakko__school_checkups' as raw_table,
        record_id,
        '精密検査要' as detail,
        examined_on as event_date,
        examined_on as valid_from,
        null::date as valid_through
    from school_checkups
    where needs_referral

),

{#- 欠席日数 is the school year's running total; 前年度欠席日数 the previous year's. -#}
absent as (

    select
        'I06' as item_code,
        attendance.person_id,
        null::text as household_id,
        'gakko__attendance' as raw_table,
        attendance.record_id,
        '欠席' || attendance.absence_days_ytd || '日（前年度'
        || coalesce(attendance.absence_days_last_year::text, '-') || '日）' as detail,
        least(attendance.extracted_on, {{ as_of_date() }}) as event_date,
        least(attendance.extracted_on, {{ as_of_date() }}) as valid_from,
        null::date as valid_through
    from attendance
    cross join params
    where attendance.absence_days_ytd >= params.min_absence_days
        or attendance.absence_days_last_year >= params.min_absence_days

),

late_or_early as (

    select
        'I34' as item_code,
        attendance.person_id,
        null::text as household_id,
        'gakko__attendance' as raw_table,
        attendance.record_id,
        '遅刻早退' || attendance.late_or_early_ytd || '回' as detail,
        least(attendance.extracted_on, {{ as_of_date() }}) as event_date,
        least(attendance.extracted_on, {{ as_of_date() }}) as valid_from,
        null::date as valid_through
    from attendance
    cross join params
    where attendance.late_or_early_ytd >= params.min_late_or_early

),

{#- 認定年度 2025 = April 2025 – March 2026: dated at its first day for the school-year look-back. -#}
aided as (

    select
        'I13' as item_code,
        person_id,
        null::text as household_id,
        'gakko__school_aid' as raw_table,
        record_id,
        fiscal_year || '年度' as detail,
        make_date(fiscal_year, 4, 1) as event_date,
        make_date(fiscal_year, 4, 1) as valid_from,
        null::date as valid_through
    from school_aid

),

in_arrears as (

    select
        'I33' as item_code,
        lunch_arrears.person_id,
        null::text as household_id,
        'gakko__school_lunch_arrears' as raw_table,
        lunch_arrears.record_id,
        '滞納' || lunch_arrears.months_in_arrears || 'か月' as detail,
        least(lunch_arrears.extracted_on, {{ as_of_date() }}) as event_date,
        least(lunch_arrears.extracted_on, {{ as_of_date() }}) as valid_from,
        null::date as valid_through
    from lunch_arrears
    cross join params
    where lunch_arrears.months_in_arrears >= params.min_arrears_months

),

final as (

    select * from special_needs_class
    union all
    select * from needs_referral
    union all
    select * from absent
    union all
    select * from late_or_early
    union all
    select * from aided
    union all
    select * from in_arrears

)

select * from final
