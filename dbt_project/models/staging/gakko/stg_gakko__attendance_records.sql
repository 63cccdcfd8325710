{#- 出欠.xlsx (教育委員会事務局学校教育課): the run month's rows, contract column names kept, plus record ids and normalised identity columns. -#}
with

source as (

    select * from {{ source('gakko', 'attendance') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('gakko__attendance', '出欠.xlsx') }} as record_id,
        'gakko__attendance:'
            || md5(concat_ws('|', school::text, student_no::text, name::text, birth_date::text)) as record_key,
        school,
        grade,
        class,
        student_no,
        name,
        birth_date,
        absence_days_ytd,
        absence_days_last_year,
        late_or_early_ytd,
        extracted_on,
        {{ identity_name_norm('name') }} as name_norm,
        {{ identity_name_part('name', 1) }} as surname_norm,
        {{ identity_name_part('name', 2) }} as given_norm,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
