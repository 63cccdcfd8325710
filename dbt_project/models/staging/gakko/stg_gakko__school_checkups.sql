{#- 学校健診.csv (教育委員会事務局学校教育課): the run month's rows, contract column names kept, plus record ids and normalised identity columns. -#}
with

source as (

    select * from {{ source('gakko', 'school_checkups') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('gakko__school_checkups', '学校健診.csv') }} as record_id,
        'gakko__school_checkups:'
            || md5(concat_ws('|', school::text, name::text, birth_date::text, examined_on::text)) as record_key,
        name,
        birth_date,
        school,
        examined_on,
        needs_referral,
        caries_count,
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
