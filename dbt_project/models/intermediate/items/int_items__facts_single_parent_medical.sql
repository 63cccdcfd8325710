{#-
    I11 ひとり親医療費助成 (H, valid): 資格喪失日 is the first day without it, so the last valid day is
    the day before.
-#}
with

{{ linked_imports(single_parent_medical='kodomo_shien__single_parent_medical') }}

final as (

    select
        'I11' as item_code,
        person_id,
        null::text as household_id,
        'kodomo_shien__single_parent_medical' as raw_table,
        record_id,
        'ひとり親医療' as detail,
        valid_from as event_date,
        valid_from,
        valid_to - 1 as valid_through
    from single_parent_medical

)

select * from final
