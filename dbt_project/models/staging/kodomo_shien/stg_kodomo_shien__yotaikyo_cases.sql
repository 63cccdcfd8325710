{#- 要対協.csv (こども課こども支援班): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('kodomo_shien', 'yotaikyo') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('kodomo_shien__yotaikyo', '要対協.csv') }} as record_id,
        'kodomo_shien__yotaikyo:' || coalesce(atena_no::text, '')
            || '|' || coalesce(category::text, '')
            || '|' || coalesce(registered_on::text, '') as record_key,
        atena_no,
        category,
        registered_on,
        closed_on,
        had_temporary_custody,
        temporary_custody_on,
        extracted_on,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
