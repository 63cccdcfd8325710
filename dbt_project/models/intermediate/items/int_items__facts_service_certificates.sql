{#-
    I05a/I05b: 障害児支援受給者証 issued (ever), from 福祉班's register of certificates; the level
    (O: another member, C: the child) is applied in int_items__evidence.
-#}
with

{{ linked_imports(service_certificates='fukushi__disabled_child_service_certificates') }}

final as (

    select
        item_codes.item_code,
        service_certificates.person_id,
        null::text as household_id,
        'fukushi__disabled_child_service_certificates' as raw_table,
        service_certificates.record_id,
        '障害児支援受給者証' as detail,
        service_certificates.issued_on as event_date,
        service_certificates.issued_on as valid_from,
        service_certificates.valid_to as valid_through
    from service_certificates
    cross join (values ('I05a'), ('I05b')) as item_codes (item_code)

)

select * from final
