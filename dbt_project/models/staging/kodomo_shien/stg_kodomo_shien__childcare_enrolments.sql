{#- 保育所入所.csv (こども課こども支援班): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('kodomo_shien', 'childcare_enrolments') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('kodomo_shien__childcare_enrolments', '保育所入所.csv') }} as record_id,
        'kodomo_shien__childcare_enrolments:' || coalesce(atena_no::text, '')
            || '|' || coalesce(enrolled_on::text, '') as record_key,
        atena_no,
        facility,
        facility_type,
        enrolled_on,
        left_on,
        extracted_on,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
