{#-
    Every non-spine record of the run month, in one shape: which person (宛名番号) or household
    (世帯番号) it claims, and the identifying fields it carries (null where the file has none).
    match_stage 1: matched against the spine alone (学齢簿); 2: also against the pupils' 学齢簿
    context (児童生徒番号, 学校), so it runs after stage 1.
-#}
{%- set numbered = [
    ('stg_kodomo_shien__yotaikyo_cases', 'atena_no', none),
    ('stg_kodomo_shien__child_rearing_allowances', 'recipient_atena_no', 'setai_no'),
    ('stg_kodomo_shien__single_parent_medical_grants', 'atena_no', none),
    ('stg_kodomo_shien__childcare_enrolments', 'atena_no', none),
    ('stg_kodomo_shien__consultations', 'atena_no', 'setai_no'),
    ('stg_kodomo_katei__infant_checkups', 'atena_no', none),
    ('stg_kodomo_katei__maternity_records', 'child_atena_no', none),
    ('stg_kodomo_katei__vaccinations', 'atena_no', none),
    ('stg_fukushi__disability_certificates', 'atena_no', none),
    ('stg_fukushi__disabled_child_service_certificates', 'atena_no', none),
    ('stg_fukushi__care_need_certifications', 'atena_no', none),
    ('stg_fukushi__public_assistance_members', 'atena_no', none),
    ('stg_fukushi__disability_medical_grants', 'atena_no', none),
    ('stg_fukushi__consultations', 'atena_no', 'setai_no'),
] -%}
with

{% for model, atena, setai in numbered %}
{{ model }} as (

    select
        record_id,
        record_key,
        '{{ model.split("__")[0][4:] }}' as source_name,
        source_file,
        source_row_number,
        {{ atena }} as claimed_atena_no,
        {{ setai if setai else 'null::text' }} as claimed_setai_no,
        null::text as record_name,
        null::text as record_name_kana,
        null::text as grade,
        null::text as name_norm,
        null::text as given_norm,
        null::text as alias_norm,
        null::text as reading_key,
        null::text as kana_norm,
        null::text as given_kana_norm,
        null::text as kana_key,
        null::text as sex,
        null::text as address_norm,
        null::text as school,
        null::text as student_no,
        null::date as birth_date,
        0 as match_stage
    from {{ ref(model) }}

),
{% endfor %}

school_registers as (

    select
        record_id,
        record_key,
        'gakko' as source_name,
        source_file,
        source_row_number,
        atena_no as claimed_atena_no,
        null::text as claimed_setai_no,
        name as record_name,
        name_kana as record_name_kana,
        grade::text as grade,
        name_norm,
        given_norm,
        {{ identity_alias_norm('name') }} as alias_norm,
        {{ identity_reading_key('name') }} as reading_key,
        kana_norm,
        given_kana_norm,
        {{ identity_kana_key('name_kana') }} as kana_key,
        sex,
        address_norm,
        school,
        student_no,
        birth_date,
        1 as match_stage
    from {{ ref('stg_gakko__school_registers') }}

),

{% for model, has_school, has_student, has_grade in [
    ('stg_gakko__attendance_records', true, true, true),
    ('stg_gakko__school_checkups', true, false, false),
    ('stg_gakko__school_aid_recipients', false, true, false),
    ('stg_gakko__school_lunch_arrears', true, true, false),
] %}
{{ model }} as (

    select
        record_id,
        record_key,
        'gakko' as source_name,
        source_file,
        source_row_number,
        null::text as claimed_atena_no,
        null::text as claimed_setai_no,
        name as record_name,
        null::text as record_name_kana,
        {{ 'grade::text' if has_grade else 'null::text' }} as grade,
        name_norm,
        given_norm,
        {{ identity_alias_norm('name') }} as alias_norm,
        {{ identity_reading_key('name') }} as reading_key,
        null::text as kana_norm,
        null::text as given_kana_norm,
        null::text as kana_key,
        null::text as sex,
        null::text as address_norm,
        {{ 'school' if has_school else 'null::text' }} as school,
        {{ 'student_no' if has_student else 'null::text' }} as student_no,
        birth_date,
        2 as match_stage
    from {{ ref(model) }}

),
{% endfor %}

unioned as (

    {% for model, atena, setai in numbered %}
    select * from {{ model }}
    union all
    {% endfor %}
    select * from school_registers
    union all
    select * from stg_gakko__attendance_records
    union all
    select * from stg_gakko__school_checkups
    union all
    select * from stg_gakko__school_aid_recipients
    union all
    select * from stg_gakko__school_lunch_arrears

),

final as (

    select
        record_id as id,
        record_id,
        record_key,
        split_part(record_id, ':', 1) as raw_table,
        source_name,
        source_file,
        claimed_atena_no,
        claimed_setai_no,
        record_name,
        record_name_kana,
        grade,
        name_norm,
        given_norm,
        alias_norm,
        reading_key,
        {{ identity_token_key('name_norm') }} as name_key,
        kana_norm,
        given_kana_norm,
        kana_key,
        sex,
        address_norm,
        school,
        student_no,
        source_row_number,
        match_stage,
        extract(year from birth_date)::integer as birth_year,
        birth_date
    from unioned

)

select * from final
