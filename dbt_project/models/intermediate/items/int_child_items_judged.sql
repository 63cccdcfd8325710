{#-
    Every child in scope × every enabled item: true / false / unknown (domain.md §8).
    1. Evidence → true; no evidence and the item's absence is known → false; otherwise unknown.
    2. A source that failed this month under `skip` (var skipped_sources): items with
       source_mode = all are unknown if any of their sources is missing; source_mode = any
       (I21a, I23) stay true if an available source matched, else unknown.
    3. A hand entry in force wins: true sets true; false sets false, but removes a source's true
       only as a correction (correction_reason given).
    4. Data corrections (casework.corrections) already removed the corrected records from the
       evidence; has_correction / correction_reason show the latest one recorded for the item.
-#}
with

children as (

    select * from {{ ref('int_items__children') }}

),

catalogue as (

    select * from {{ ref('item_catalogue') }}
    where is_enabled

),

evidence as (

    select * from {{ ref('int_items__evidence') }}

),

coverage as (

    select * from {{ ref('int_items__coverage') }}

),

hand_entries as (

    select * from {{ ref('int_items__hand_entries') }}

),

corrections as (

    select distinct on (person_id, item_code)
        person_id,
        item_code,
        kind as correction_kind,
        reason as correction_reason,
        correction_id
    from {{ ref('int_items__corrections') }}
    order by person_id asc, item_code asc, corrected_at desc, correction_id desc

),

record_keys as (

    select * from {{ ref('int_items__record_keys') }}

),

skipped_sources as (

    select * from {{ skipped_sources_relation() }}

),

item_skips as (

    select
        catalogue.item_code,
        count(skipped_sources.source) > 0 as has_skipped_source
    from catalogue
    left join skipped_sources
        on skipped_sources.source = any(string_to_array(catalogue.sources, ' '))
    group by catalogue.item_code

),

{#- The evidence shown is the latest; among records of the same date, the one with the lowest
    record_key (the contract key, the same whatever layout the town delivers, issue 21) before
    the record_id (a row number of the delivered file). -#}
evidence_summary as (

    select distinct on (evidence.person_id, evidence.item_code)
        evidence.person_id,
        evidence.item_code,
        evidence.raw_table as evidence_raw_table,
        evidence.record_id as evidence_record_id,
        evidence.detail as evidence_detail,
        evidence.event_date as evidence_date,
        count(*) over (partition by evidence.person_id, evidence.item_code) as evidence_count
    from evidence
    left join record_keys
        on evidence.record_id = record_keys.record_id
    order by
        evidence.person_id asc,
        evidence.item_code asc,
        evidence.event_date desc nulls last,
        evidence.raw_table asc,
        record_keys.record_key asc,
        evidence.record_id asc

),

from_sources as (

    select
        children.person_id,
        children.household_id,
        catalogue.item_code,
        catalogue.lookback,
        evidence_summary.evidence_raw_table,
        evidence_summary.evidence_record_id,
        record_keys.record_key as evidence_record_key,
        evidence_summary.evidence_detail,
        coalesce(evidence_summary.evidence_count, 0) as evidence_count,
        item_skips.has_skipped_source,
        case
            when catalogue.source_mode = 'all' and item_skips.has_skipped_source then 'unknown'
            when evidence_summary.evidence_count > 0 then 'true'
            when item_skips.has_skipped_source then 'unknown'
            when coalesce(coverage.is_known, true) then 'false'
            else 'unknown'
        end as source_status,
        evidence_summary.evidence_date,
        children.as_of_date,
        children.run_month
    from children
    cross join catalogue
    inner join item_skips
        on catalogue.item_code = item_skips.item_code
    left join evidence_summary
        on children.person_id = evidence_summary.person_id
        and catalogue.item_code = evidence_summary.item_code
    left join coverage
        on children.person_id = coverage.person_id
        and catalogue.item_code = coverage.item_code
    left join record_keys
        on evidence_summary.evidence_record_id = record_keys.record_id

),

final as (

    select
        from_sources.person_id,
        from_sources.household_id,
        from_sources.item_code,
        case
            when hand_entries.value then 'true'
            when not hand_entries.value
                and (from_sources.source_status <> 'true' or hand_entries.correction_reason is not null)
                then 'false'
            else from_sources.source_status
        end as status,
        from_sources.source_status,
        from_sources.evidence_raw_table,
        from_sources.evidence_record_id,
        from_sources.evidence_record_key,
        from_sources.evidence_detail,
        hand_entries.origin as hand_entry_origin,
        hand_entries.correction_reason as hand_entry_correction_reason,
        from_sources.evidence_count,
        hand_entries.hand_entry_id,
        from_sources.has_skipped_source,
        hand_entries.person_id is not null as has_hand_entry,
        from_sources.evidence_date,
        hand_entries.as_of_date as hand_entry_as_of_date,
        corrections.correction_id is not null as has_correction,
        corrections.correction_kind,
        corrections.correction_reason,
        from_sources.as_of_date,
        from_sources.run_month
    from from_sources
    left join hand_entries
        on from_sources.person_id = hand_entries.person_id
        and from_sources.item_code = hand_entries.item_code
    left join corrections
        on from_sources.person_id = corrections.person_id
        and from_sources.item_code = corrections.item_code

)

select * from final
