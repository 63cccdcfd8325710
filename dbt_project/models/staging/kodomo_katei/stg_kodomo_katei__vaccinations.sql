{#- 予防接種.csv (こども課こども家庭班 (maternal & child health)): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('kodomo_katei', 'vaccinations') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('kodomo_katei__vaccinations', '予防接種.csv') }} as record_id,
        'kodomo_katei__vaccinations:' || coalesce(atena_no::text, '')
            || '|' || coalesce(vaccine::text, '') as record_key,
        atena_no,
        vaccine,
        due_on,
        given_on,
        extracted_on,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
