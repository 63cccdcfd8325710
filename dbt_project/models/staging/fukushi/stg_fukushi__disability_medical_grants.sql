{#- 障がい者医療.csv (福祉介護課福祉班): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('fukushi', 'disability_medical') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('fukushi__disability_medical', '障がい者医療.csv') }} as record_id,
        'fukushi__disability_medical:' || coalesce(atena_no::text, '')
            || '|' || coalesce(valid_from::text, '') as record_key,
        atena_no,
        valid_from,
        valid_to,
        extracted_on,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
