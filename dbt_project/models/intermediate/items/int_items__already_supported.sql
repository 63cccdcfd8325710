{#-
    Children already supported on the as-of date (domain.md §6), one row per child × reason:
    an open 要対協 case (要保護/要支援 with no 終結日 on the as-of date), 事後フォロー有 on the latest
    attended infant checkup, a valid 障害児受給者証 (有効期限 = last valid day).
-#}
with

children as (

    select * from {{ ref('int_items__children') }}

),

{{ linked_imports(
    yotaikyo='kodomo_shien__yotaikyo',
    checkups='kodomo_katei__infant_checkups',
    service_certificates='fukushi__disabled_child_service_certificates'
) }}

open_case as (

    select
        person_id,
        'open_yotaikyo_case' as rule_code,
        'kodomo_shien__yotaikyo' as raw_table,
        record_id,
        registered_on as event_date
    from yotaikyo
    where category in ('要保護', '要支援')
        and registered_on <= {{ as_of_date() }}
        and (closed_on is null or closed_on > {{ as_of_date() }})

),

latest_attended as (

    select distinct on (person_id) *
    from checkups
    where attended_on <= {{ as_of_date() }}
    order by person_id asc, attended_on desc, record_id asc

),

follow_up as (

    select
        person_id,
        'checkup_follow_up' as rule_code,
        'kodomo_katei__infant_checkups' as raw_table,
        record_id,
        attended_on as event_date
    from latest_attended
    where has_follow_up

),

valid_certificate as (

    select
        person_id,
        'valid_disabled_child_certificate' as rule_code,
        'fukushi__disabled_child_service_certificates' as raw_table,
        record_id,
        issued_on as event_date
    from service_certificates
    where issued_on <= {{ as_of_date() }}
        and valid_to >= {{ as_of_date() }}

),

unioned as (

    select * from open_case
    union all
    select * from follow_up
    union all
    select * from valid_certificate

),

final as (

    select distinct on (unioned.person_id, unioned.rule_code)
        unioned.person_id,
        unioned.rule_code,
        unioned.raw_table,
        unioned.record_id,
        unioned.event_date
    from unioned
    inner join children
        on unioned.person_id = children.person_id
    order by unioned.person_id asc, unioned.rule_code asc, unioned.event_date desc, unioned.record_id asc

)

select * from final
