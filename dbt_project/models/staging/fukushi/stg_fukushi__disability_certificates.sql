{#- 障害者手帳.csv (福祉介護課福祉班): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('fukushi', 'disability_certificates') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('fukushi__disability_certificates', '障害者手帳.csv') }} as record_id,
        'fukushi__disability_certificates:' || coalesce(atena_no::text, '')
            || '|' || coalesce(certificate_type::text, '') as record_key,
        atena_no,
        certificate_type,
        grade,
        has_developmental_disability,
        issued_on,
        extracted_on,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
