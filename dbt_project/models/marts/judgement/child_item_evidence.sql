{#-
    Every source record behind a matched item (for the per-type detail dashboard and the
    information-collection sheet): which record of which raw table, its date, and the household
    member it is about. Hand entries appear with raw_table casework.hand_entries.
-#}
with

evidence as (

    select * from {{ ref('int_items__evidence') }}

),

judged as (

    select * from {{ ref('int_child_items_judged') }}

),

from_sources as (

    select
        evidence.run_month,
        evidence.person_id,
        evidence.item_code,
        evidence.via_person_id,
        evidence.raw_table,
        evidence.record_id,
        evidence.detail,
        (evidence.via_person_id is distinct from evidence.person_id) as is_other_member,
        evidence.event_date,
        evidence.as_of_date
    from evidence
    inner join judged
        on evidence.person_id = judged.person_id
        and evidence.item_code = judged.item_code
    where judged.status = 'true'

),

from_hand_entries as (

    select
        run_month,
        person_id,
        item_code,
        person_id as via_person_id,
        'casework.hand_entries' as raw_table,
        hand_entry_id::text as record_id,
        hand_entry_origin as detail,
        false as is_other_member,
        hand_entry_as_of_date as event_date,
        as_of_date
    from judged
    where has_hand_entry
        and status = 'true'
        and source_status <> 'true'

),

final as (

    select * from from_sources
    union all
    select * from from_hand_entries

)

select * from final
