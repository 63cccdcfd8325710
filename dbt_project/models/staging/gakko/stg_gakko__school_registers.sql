{#- 学齢簿.csv (教育委員会事務局学校教育課): the run month's rows, contract column names kept, plus record ids and normalised identity columns. -#}
with

source as (

    select * from {{ source('gakko', 'school_register') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('gakko__school_register', '学齢簿.csv') }} as record_id,
        'gakko__school_register:' || coalesce(student_no::text, '') as record_key,
        student_no,
        atena_no,
        name,
        name_kana,
        birth_date,
        sex,
        address,
        school,
        grade,
        in_special_needs_class,
        extracted_on,
        {{ identity_name_norm('name') }} as name_norm,
        {{ identity_name_part('name', 1) }} as surname_norm,
        {{ identity_name_part('name', 2) }} as given_norm,
        {{ identity_kana_norm('name_kana') }} as kana_norm,
        {{ identity_kana_part('name_kana', 1) }} as surname_kana_norm,
        {{ identity_kana_part('name_kana', 2) }} as given_kana_norm,
        {{ identity_address_norm('address') }} as address_norm,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
