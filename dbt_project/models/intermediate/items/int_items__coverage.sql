{#-
    Child × item: is the absence of evidence a "no" (false) or "no data" (unknown)? Only items whose
    source does not list everyone appear here (domain.md §8); every other item is known.
    - 学齢簿 items: unknown for a child not on this month's 学齢簿 (I10, I13, I33);
    - 出欠 (I06, I34) and 学校健診 (I03): also unknown for a pupil with no row this school year;
    - 乳幼児健診: unknown for a child with no due checkup row (I26) or no attended checkup (I20, I21b);
    - I21a: known if a caries count exists in either checkup source;
    - 予防接種 (I27): unknown for a child under 3 (catalogue parameter) with no row;
    - 妊産婦 (I28–I32): unknown without a row for the child; I28/I29 also without the value;
      I31 also when the mother is not on the registry (her birth date is unknown).
-#}
with

catalogue as (

    select * from {{ ref('item_catalogue') }}

),

children as (

    select * from {{ ref('int_items__children') }}

),

residents as (

    select * from {{ ref('int_items__residents') }}

),

{{ linked_imports(
    attendance='gakko__attendance',
    school_checkups='gakko__school_checkups',
    checkups='kodomo_katei__infant_checkups',
    vaccinations='kodomo_katei__vaccinations',
    maternity='kodomo_katei__maternity'
) }}

params as (

    select max(param_value) filter (where item_code = 'I27') as vaccination_unknown_below_age
    from catalogue

),

has_attendance as (

    select distinct person_id
    from attendance

),

has_school_checkup as (

    select distinct school_checkups.person_id
    from school_checkups
    inner join children
        on school_checkups.person_id = children.person_id
    where school_checkups.examined_on between children.school_year_start_date and children.as_of_date

),

checkup_status as (

    select
        person_id,
        bool_or(due_month <= {{ as_of_date() }}) as has_due,
        bool_or(attended_on <= {{ as_of_date() }}) as has_attended,
        bool_or(attended_on <= {{ as_of_date() }} and caries_count is not null) as has_caries_count,
        bool_or(attended_on <= {{ as_of_date() }} and mother_smokes is not null) as has_smoking
    from checkups
    group by person_id

),

has_vaccination as (

    select distinct person_id
    from vaccinations

),

births as (

    select
        maternity.person_id,
        bool_or(maternity.epds_score is not null) as has_epds,
        bool_or(maternity.notification_week is not null) as has_week,
        bool_or(mothers.person_id is not null) as has_mother_on_registry
    from maternity
    left join residents as mothers
        on maternity.mother_atena_no = mothers.person_id
    group by maternity.person_id

),

known as (

    select
        children.person_id,
        children.is_on_school_register as is_on_register,
        children.is_on_school_register and has_attendance.person_id is not null as has_attendance,
        children.is_on_school_register and has_school_checkup.person_id is not null as has_school_checkup,
        coalesce(checkup_status.has_due, false) as has_due_checkup,
        coalesce(checkup_status.has_attended, false) as has_attended_checkup,
        coalesce(checkup_status.has_caries_count, false) as has_caries_count,
        coalesce(checkup_status.has_smoking, false) as has_smoking,
        has_vaccination.person_id is not null
            or children.age >= params.vaccination_unknown_below_age as has_vaccination,
        births.person_id is not null as has_birth,
        coalesce(births.has_epds, false) as has_epds,
        coalesce(births.has_week, false) as has_week,
        coalesce(births.has_mother_on_registry, false) as has_mother_on_registry
    from children
    cross join params
    left join has_attendance
        on children.person_id = has_attendance.person_id
    left join has_school_checkup
        on children.person_id = has_school_checkup.person_id
    left join checkup_status
        on children.person_id = checkup_status.person_id
    left join has_vaccination
        on children.person_id = has_vaccination.person_id
    left join births
        on children.person_id = births.person_id

),

{#- One row per item whose source does not list everyone: when its absence is known to mean "no". -#}
final as (

    select known.person_id, coverage.item_code, coverage.is_known
    from known
    cross join lateral (
        values
            ('I03', known.has_school_checkup),
            ('I06', known.has_attendance),
            ('I10', known.is_on_register),
            ('I13', known.is_on_register),
            ('I33', known.is_on_register),
            ('I34', known.has_attendance),
            ('I20', known.has_attended_checkup),
            ('I21a', known.has_caries_count or known.has_school_checkup),
            ('I21b', known.has_smoking),
            ('I26', known.has_due_checkup),
            ('I27', known.has_vaccination),
            ('I28', known.has_epds),
            ('I29', known.has_week),
            ('I30', known.has_birth),
            ('I31', known.has_birth and known.has_mother_on_registry),
            ('I32', known.has_birth)
    ) as coverage (item_code, is_known)

)

select * from final
