{#- Child × item for this run month: true / false / unknown, with its latest evidence (domain.md §4, §8). -#}
with

judged as (

    select * from {{ ref('int_child_items_judged') }}

),

catalogue as (

    select * from {{ ref('item_catalogue') }}

),

record_sources as (

    select * from {{ ref('int_items__record_sources') }}

),

final as (

    select
        judged.run_month,
        judged.person_id,
        judged.household_id,
        judged.item_code,
        catalogue.label_ja as item_label_ja,
        catalogue.level as item_level,
        judged.status,
        judged.source_status,
        judged.evidence_raw_table,
        judged.evidence_record_id,
        judged.evidence_detail,
        judged.hand_entry_origin,
        catalogue.sort_order as item_sort_order,
        judged.evidence_count::integer as evidence_count,
        catalogue.weight as item_weight,
        judged.status = 'true' as is_matched,
        judged.status = 'unknown' as is_unknown,
        catalogue.is_judgement_item,
        catalogue.is_basic_item,
        judged.has_hand_entry,
        judged.has_skipped_source,
        judged.evidence_date,
        judged.hand_entry_as_of_date,
        judged.as_of_date,
        judged.evidence_record_key,
        judged.has_correction,
        judged.correction_kind,
        judged.correction_reason,
        record_sources.source_file as evidence_source_file,
        record_sources.source_row_number as evidence_source_row
    from judged
    inner join catalogue
        on judged.item_code = catalogue.item_code
    left join record_sources
        on judged.evidence_record_id = record_sources.record_id

)

select * from final
