{#- 生活保護.csv (福祉介護課福祉班): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('fukushi', 'public_assistance') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('fukushi__public_assistance', '生活保護.csv') }} as record_id,
        'fukushi__public_assistance:' || coalesce(case_no::text, '')
            || '|' || coalesce(atena_no::text, '') as record_key,
        case_no,
        atena_no,
        started_on,
        ended_on,
        extracted_on,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
