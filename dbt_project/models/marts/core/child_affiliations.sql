{#-
    Where each child in scope belongs this month (所属): on this month's 学齢簿 (学校) or enrolled
    in a 保育所・幼稚園・認定こども園・地域型保育 on the as-of date (保育所等). A child with neither has
    no row. The school board sees only children with is_on_school_register.
-#}
with

children as (

    select * from {{ ref('children') }}

),

school_register as (

    select * from {{ ref('linked_gakko__school_register') }}
    where link_status = 'linked'

),

childcare as (

    select * from {{ ref('linked_kodomo_shien__childcare_enrolments') }}
    where
        link_status = 'linked'
        and enrolled_on <= {{ as_of_date() }}
        and (left_on is null or left_on > {{ as_of_date() }})

),

pupils as (

    select distinct on (person_id)
        person_id,
        school as affiliation_name,
        grade
    from school_register
    order by person_id, record_id

),

enrolled as (

    select distinct on (person_id)
        person_id,
        facility as affiliation_name,
        facility_type
    from childcare
    order by person_id asc, enrolled_on desc, record_id asc

),

final as (

    select
        children.person_id,
        children.household_id,
        case when pupils.person_id is not null then '学校' else '保育所等' end as affiliation_type,
        coalesce(pupils.affiliation_name, enrolled.affiliation_name) as affiliation_name,
        enrolled.facility_type,
        pupils.grade,
        pupils.person_id is not null as is_on_school_register,
        children.run_month
    from children
    left join pupils
        on children.person_id = pupils.person_id
    left join enrolled
        on children.person_id = enrolled.person_id
    where pupils.person_id is not null or enrolled.person_id is not null

)

select * from final
