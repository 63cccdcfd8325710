{#- 相談記録.csv (福祉介護課福祉班): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('fukushi', 'consultations') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('fukushi__consultations', '相談記録.csv') }} as record_id,
        'fukushi__consultations:' || coalesce(consultation_no::text, '') as record_key,
        consultation_no,
        atena_no,
        setai_no,
        consulted_on,
        field,
        kind,
        extracted_on,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
