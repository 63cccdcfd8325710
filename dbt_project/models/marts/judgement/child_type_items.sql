{#-
    Why a child has the score it has, item by item (domain.md §5): child × type × rule item with
    the item's status (該当 / 非該当 / データなし), its points in the type (a count-once group counts
    its largest matched weight once), whether it is required, and the record behind it as delivered
    (file, row, date). The one source of "why" for the case screen, the dashboards and the printed
    sheet; the marts gate checks that every flag has matched items here. Sum of points per child
    and type = child_type_scores.score (tested).
-#}
with

{{ rule_scoring_imports() }},

catalogue as (

    select * from {{ ref('item_catalogue') }}

),

record_sources as (

    select * from {{ ref('int_items__record_sources') }}

),

rule_items as (

    select
        children.run_month,
        children.person_id,
        children.household_id,
        types.type_code,
        types.label_ja as type_label_ja,
        types.sort_order as type_sort_order,
        type_items.item_code,
        coalesce(type_items.group_key, type_items.item_code) as group_key,
        type_items.weight,
        type_items.is_required,
        judged.status,
        judged.evidence_raw_table,
        judged.evidence_record_id,
        judged.evidence_date,
        judged.hand_entry_origin,
        judged.hand_entry_as_of_date,
        children.as_of_date
    from children
    cross join types
    inner join type_items
        on types.type_code = type_items.type_code
    inner join judged
        on children.person_id = judged.person_id
        and type_items.item_code = judged.item_code

),

counted as (

    select
        rule_items.*,
        row_number() over (
            partition by rule_items.person_id, rule_items.type_code, rule_items.group_key
            order by (rule_items.status = 'true') desc, rule_items.weight desc, rule_items.item_code asc
        ) = 1 and rule_items.status = 'true' as counts_in_group
    from rule_items

),

final as (

    select
        counted.run_month,
        counted.person_id,
        counted.household_id,
        counted.type_code,
        counted.type_label_ja,
        counted.item_code,
        catalogue.label_ja as item_label_ja,
        counted.group_key,
        counted.status,
        case counted.status
            when 'true' then '該当'
            when 'false' then '非該当'
            else 'データなし'
        end as status_ja,
        counted.evidence_raw_table,
        counted.evidence_record_id,
        record_sources.source_file as evidence_source_file,
        counted.hand_entry_origin,
        counted.type_sort_order,
        catalogue.sort_order as item_sort_order,
        counted.weight,
        case when counted.counts_in_group then counted.weight else 0 end as points,
        record_sources.source_row_number as evidence_source_row,
        counted.is_required,
        counted.evidence_date,
        counted.hand_entry_as_of_date,
        counted.as_of_date
    from counted
    inner join catalogue
        on counted.item_code = catalogue.item_code
    left join record_sources
        on counted.evidence_record_id = record_sources.record_id

)

select * from final
