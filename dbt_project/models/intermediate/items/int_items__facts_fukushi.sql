{#-
    Item facts from 福祉班's registers (障害者手帳, 要介護認定, 生活保護, 障がい者医療,
    相談記録). Each fact is emitted for every item it can support; the level (C: the child, O: the
    other household members, H: the household) is applied in int_items__evidence, so e.g. one
    精神 certificate with 発達障害 is I04b for its holder and I04a for the holder's housemates.
-#}
with

{{ linked_imports(
    certificates='fukushi__disability_certificates',
    care_needs='fukushi__care_need_certifications',
    public_assistance='fukushi__public_assistance',
    disability_medical='fukushi__disability_medical'
) }}

{{ household_imports(consultations='fukushi__consultations') }}

{#- 障害者手帳.csv lists the certificates currently held: valid from 交付日, no end. -#}
certificate_held as (

    select
        item_codes.item_code,
        certificates.person_id,
        null::text as household_id,
        'fukushi__disability_certificates' as raw_table,
        certificates.record_id,
        certificates.certificate_type || ' ' || certificates.grade as detail,
        certificates.issued_on as event_date,
        certificates.issued_on as valid_from,
        null::date as valid_through
    from certificates
    inner join (
        values ('I04a', true), ('I04b', true), ('I24', false), ('I25', false)
    ) as item_codes (item_code, needs_developmental_mental)
        on not item_codes.needs_developmental_mental
        or (certificates.certificate_type = '精神' and certificates.has_developmental_disability)

),

{#- 有効期限 is the last valid day. 要支援1・2 are not 要介護 (I07 is 要介護1～5). -#}
care_needed as (

    select
        'I07' as item_code,
        person_id,
        null::text as household_id,
        'fukushi__care_need_certifications' as raw_table,
        record_id,
        care_level as detail,
        certified_on as event_date,
        certified_on as valid_from,
        valid_to as valid_through
    from care_needs
    where care_level like '要介護%'

),

assisted as (

    select
        'I08' as item_code,
        person_id,
        null::text as household_id,
        'fukushi__public_assistance' as raw_table,
        record_id,
        '生活保護' as detail,
        started_on as event_date,
        started_on as valid_from,
        ended_on - 1 as valid_through
    from public_assistance

),

disability_medical_received as (

    select
        'I12' as item_code,
        person_id,
        null::text as household_id,
        'fukushi__disability_medical' as raw_table,
        record_id,
        '障がい者医療' as detail,
        valid_from as event_date,
        valid_from,
        valid_to - 1 as valid_through
    from disability_medical

),

consulted as (

    select
        item_codes.item_code,
        {{ record_owner('consultations') }},
        'fukushi__consultations' as raw_table,
        consultations.record_id,
        consultations.field || '・' || consultations.kind as detail,
        consultations.consulted_on as event_date,
        consultations.consulted_on as valid_from,
        null::date as valid_through
    from consultations
    inner join (
        values ('I17', '児童虐待相談'), ('I18', '児童相談'), ('I18', '養護相談'), ('I23', null)
    ) as item_codes (item_code, kind)
        on item_codes.kind is null
        or consultations.kind = item_codes.kind

),

final as (

    select * from certificate_held
    union all
    select * from care_needed
    union all
    select * from assisted
    union all
    select * from disability_medical_received
    union all
    select * from consulted

)

select * from final
