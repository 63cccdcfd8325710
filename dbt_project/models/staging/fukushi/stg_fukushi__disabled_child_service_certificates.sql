{#- 障害児受給者証.csv (福祉介護課福祉班): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('fukushi', 'disabled_child_service_certificates') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('fukushi__disabled_child_service_certificates', '障害児受給者証.csv') }} as record_id,
        'fukushi__disabled_child_service_certificates:' || coalesce(certificate_no::text, '') as record_key,
        certificate_no,
        atena_no,
        issued_on,
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
