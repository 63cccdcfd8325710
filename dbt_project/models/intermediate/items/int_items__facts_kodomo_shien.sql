{#-
    Item facts from こども支援班's registers (要対協, 児童扶養手当, 児童相談記録; ひとり親医療 in
    int_items__facts_single_parent_medical).
    One row per record that satisfies an item's predicate; the look-back and the household/child
    level are applied later (int_items__evidence). Registers list everyone they hold, so absence
    is false (domain.md §8). Only records linked to a resident count; a 相談 row carrying only a
    世帯番号 attaches to that household.
-#}
with

{{ linked_imports(
    yotaikyo='kodomo_shien__yotaikyo',
    allowances='kodomo_shien__child_rearing_allowance'
) }}

{{ household_imports(consultations='kodomo_shien__consultations') }}

registered as (

    select
        'I01' as item_code,
        person_id,
        null::text as household_id,
        'kodomo_shien__yotaikyo' as raw_table,
        record_id,
        category as detail,
        registered_on as event_date,
        registered_on as valid_from,
        closed_on as valid_through
    from yotaikyo
    where category in ('要保護', '要支援')

),

temporary_custody as (

    select
        'I02' as item_code,
        person_id,
        null::text as household_id,
        'kodomo_shien__yotaikyo' as raw_table,
        record_id,
        '一時保護' as detail,
        coalesce(temporary_custody_on, registered_on) as event_date,
        coalesce(temporary_custody_on, registered_on) as valid_from,
        null::date as valid_through
    from yotaikyo
    where had_temporary_custody

),

{#- 喪失日 is the first day without the allowance, so the last valid day is the day before. -#}
allowance_received as (

    select
        'I09' as item_code,
        person_id,
        null::text as household_id,
        'kodomo_shien__child_rearing_allowance' as raw_table,
        record_id,
        '児童扶養手当' as detail,
        certified_on as event_date,
        certified_on as valid_from,
        ended_on - 1 as valid_through
    from allowances

),

consulted as (

    select
        item_codes.item_code,
        {{ record_owner('consultations') }},
        'kodomo_shien__consultations' as raw_table,
        consultations.record_id,
        consultations.category as detail,
        consultations.consulted_on as event_date,
        consultations.consulted_on as valid_from,
        null::date as valid_through
    from consultations
    inner join (
        values ('I15', '生活困窮'), ('I16', '障がい者'), ('I23', null)
    ) as item_codes (item_code, category)
        on item_codes.category is null
        or consultations.category = item_codes.category

),

final as (

    select * from registered
    union all
    select * from temporary_custody
    union all
    select * from allowance_received
    union all
    select * from consulted

)

select * from final
