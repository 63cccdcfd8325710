{#-
    The identity-linked record models the item rules read (models/intermediate/identity/linked),
    named in one place: a rename upstream is a one-line change here.
-#}
{% macro linked(entity) -%}
    {%- set models = {
        'yotaikyo': 'int_kodomo_shien__yotaikyo_cases_linked',
        'child_rearing_allowances': 'int_kodomo_shien__child_rearing_allowances_linked',
        'single_parent_medical': 'int_kodomo_shien__single_parent_medical_linked',
        'childcare_enrolments': 'int_kodomo_shien__childcare_enrolments_linked',
        'shien_consultations': 'int_kodomo_shien__consultations_linked',
        'infant_checkups': 'int_kodomo_katei__infant_checkups_linked',
        'maternity': 'int_kodomo_katei__maternity_records_linked',
        'vaccinations': 'int_kodomo_katei__vaccinations_linked',
        'disability_certificates': 'int_fukushi__disability_certificates_linked',
        'service_certificates': 'int_fukushi__child_service_certificates_linked',
        'care_needs': 'int_fukushi__care_need_certifications_linked',
        'public_assistance': 'int_fukushi__public_assistance_members_linked',
        'disability_medical': 'int_fukushi__disability_medical_grants_linked',
        'fukushi_consultations': 'int_fukushi__consultations_linked',
        'school_register': 'int_gakko__school_registers_linked',
        'attendance': 'int_gakko__attendance_records_linked',
        'school_checkups': 'int_gakko__school_checkups_linked',
        'school_aid': 'int_gakko__school_aid_recipients_linked',
        'lunch_arrears': 'int_gakko__school_lunch_arrears_linked',
    } -%}
    {{ ref(models[entity]) }}
{%- endmacro %}
