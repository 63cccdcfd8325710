{#-
    Item facts from こども家庭班 (乳幼児健診, 予防接種, 妊産婦) and the mother's side of a birth
    (特定妊婦 registration in 要対協, her age at the birth from the registry). M items are about the
    child's mother but are keyed to the child: the 妊産婦 row names the child (子宛名番号) and the
    mother (母宛名番号).
-#}
with

catalogue as (

    select * from {{ ref('item_catalogue') }}

),

{{ linked_imports(
    checkups='kodomo_katei__infant_checkups',
    vaccinations='kodomo_katei__vaccinations',
    maternity='kodomo_katei__maternity',
    yotaikyo='kodomo_shien__yotaikyo'
) }}

residents as (

    select * from {{ ref('int_items__residents') }}

),

params as (

    select
        max(param_value) filter (where item_code = 'I28') as min_epds,
        max(param_value) filter (where item_code = 'I29') as min_week,
        max(param_value) filter (where item_code = 'I30') as days_before_birth,
        max(param_value) filter (where item_code = 'I31') as max_mother_age_below
    from catalogue

),

attended as (

    select
        *,
        row_number() over (partition by person_id order by attended_on desc, record_id asc) = 1 as is_latest
    from checkups
    where attended_on is not null
        and attended_on <= {{ as_of_date() }}

),

{#- I20 on any attended checkup; I21b on the child's latest attended checkup only. -#}
checkup_items as (

    select
        item_codes.item_code,
        attended.person_id,
        null::text as household_id,
        'kodomo_katei__infant_checkups' as raw_table,
        attended.record_id,
        attended.checkup || '健診' as detail,
        attended.attended_on as event_date,
        attended.attended_on as valid_from,
        null::date as valid_through
    from attended
    inner join (values ('I20'), ('I21b')) as item_codes (item_code)
        on (item_codes.item_code = 'I20' and attended.has_questionnaire_concern)
        or (item_codes.item_code = 'I21b' and attended.is_latest and attended.mother_smokes)

),

{#- A checkup row exists once it has fallen due; no 受診日 = not attended. -#}
missed_checkup as (

    select
        'I26' as item_code,
        person_id,
        null::text as household_id,
        'kodomo_katei__infant_checkups' as raw_table,
        record_id,
        checkup || '健診 未受診' as detail,
        due_month as event_date,
        due_month as valid_from,
        null::date as valid_through
    from checkups
    where attended_on is null
        and due_month <= {{ as_of_date() }}

),

{#- Past its 接種期限 and still not given on the as-of date. -#}
overdue_vaccination as (

    select
        'I27' as item_code,
        person_id,
        null::text as household_id,
        'kodomo_katei__vaccinations' as raw_table,
        record_id,
        vaccine || ' 期限超過' as detail,
        due_on as event_date,
        due_on as valid_from,
        null::date as valid_through
    from vaccinations
    where due_on < {{ as_of_date() }}
        and (given_on is null or given_on > {{ as_of_date() }})

),

births as (

    select
        maternity.*,
        children.birth_date as child_birth_date,
        mothers.birth_date as mother_birth_date
    from maternity
    left join residents as children
        on maternity.person_id = children.person_id
    left join residents as mothers
        on maternity.mother_atena_no = mothers.person_id

),

maternity_items as (

    select
        item_codes.item_code,
        births.person_id,
        null::text as household_id,
        'kodomo_katei__maternity' as raw_table,
        births.record_id,
        item_codes.detail,
        births.child_birth_date as event_date,
        births.child_birth_date as valid_from,
        null::date as valid_through
    from births
    cross join params
    inner join (
        values ('I28', 'EPDS'), ('I29', '妊娠届出週数'), ('I31', '出産時の母の年齢'), ('I32', '乳児家庭全戸訪問 未')
    ) as item_codes (item_code, detail)
        on (item_codes.item_code = 'I28' and births.epds_score >= params.min_epds)
        or (item_codes.item_code = 'I29' and births.notification_week >= params.min_week)
        or (
            item_codes.item_code = 'I31'
            and extract(year from age(births.child_birth_date + 1, births.mother_birth_date))
            < params.max_mother_age_below
        )
        or (item_codes.item_code = 'I32' and births.home_visit = '未')

),

specified_pregnancy as (

    select
        'I30' as item_code,
        births.person_id,
        null::text as household_id,
        'kodomo_shien__yotaikyo' as raw_table,
        yotaikyo.record_id,
        '特定妊婦' as detail,
        yotaikyo.registered_on as event_date,
        yotaikyo.registered_on as valid_from,
        null::date as valid_through
    from births
    cross join params
    inner join yotaikyo
        on births.mother_atena_no = yotaikyo.person_id
        and yotaikyo.category = '特定妊婦'
        and yotaikyo.registered_on between births.child_birth_date - params.days_before_birth::integer
        and births.child_birth_date

),

final as (

    select * from checkup_items
    union all
    select * from missed_checkup
    union all
    select * from overdue_vaccination
    union all
    select * from maternity_items
    union all
    select * from specified_pregnancy

)

select * from final
