{#- 妊産婦.csv (こども課こども家庭班 (maternal & child health)): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('kodomo_katei', 'maternity') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('kodomo_katei__maternity', '妊産婦.csv') }} as record_id,
        'kodomo_katei__maternity:' || coalesce(child_atena_no::text, '') as record_key,
        mother_atena_no,
        child_atena_no,
        notification_week,
        epds_score,
        home_visit,
        extracted_on,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
