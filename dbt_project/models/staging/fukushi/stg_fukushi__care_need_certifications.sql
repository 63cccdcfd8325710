{#- 要介護認定.csv (福祉介護課福祉班): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('fukushi', 'care_need_certifications') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('fukushi__care_need_certifications', '要介護認定.csv') }} as record_id,
        'fukushi__care_need_certifications:' || coalesce(atena_no::text, '')
            || '|' || coalesce(certified_on::text, '') as record_key,
        atena_no,
        care_level,
        certified_on,
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
