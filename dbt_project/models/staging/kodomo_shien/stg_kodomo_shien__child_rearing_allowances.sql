{#- 児童扶養手当.csv (こども課こども支援班): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('kodomo_shien', 'child_rearing_allowance') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('kodomo_shien__child_rearing_allowance', '児童扶養手当.csv') }} as record_id,
        'kodomo_shien__child_rearing_allowance:' || coalesce(recipient_atena_no::text, '')
            || '|' || coalesce(certified_on::text, '') as record_key,
        recipient_atena_no,
        setai_no,
        certified_on,
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
