{#-
    The 学齢簿 as context for the other school files: for each resident linked to exactly one
    学齢簿 row this month (manual decision, checked 宛名番号, or a stage-1 link), that row's
    児童生徒番号 and 学校. A wrong 学齢簿 row therefore only weighs in as evidence (comparisons
    student_no and school), never as a link of its own.
-#}
with

registers as (

    select * from {{ ref('int_identity__records') }}
    where match_stage = 1

),

checks as (

    select * from {{ ref('int_identity__atena_checks') }}

),

decisions as (

    select * from {{ ref('int_identity__decisions') }}
    where decision = 'same'

),

register_pairs as (

    select * from {{ ref('int_identity__register_pairs') }}

),

resolved as (

    {{ identity_resolve_pairs(
        'register_pairs', var('identity_link_threshold'), var('identity_review_threshold'), var('identity_tie_margin')
    ) }}

),

manual as (

    select distinct on (record_key)
        record_key,
        person_id
    from decisions
    order by record_key asc, decided_at desc

),

linked as (

    select
        registers.record_id,
        registers.student_no,
        registers.school,
        coalesce(
            manual.person_id,
            case when checks.has_passed then checks.person_id end,
            case when resolved.link_status = 'linked' then resolved.right_id end
        ) as person_id
    from registers
    left join manual
        on registers.record_key = manual.record_key
    left join checks
        on registers.record_id = checks.record_id
    left join resolved
        on registers.record_id = resolved.left_id

),

final as (

    select
        person_id,
        min(student_no) as student_no,
        min(school) as school
    from linked
    where person_id is not null
    group by person_id
    having count(*) = 1

)

select * from final
