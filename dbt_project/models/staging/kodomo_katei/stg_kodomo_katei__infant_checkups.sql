{#- 乳幼児健診.csv (こども課こども家庭班 (maternal & child health)): the run month's rows, contract column names kept, plus record ids. -#}
with

source as (

    select * from {{ source('kodomo_katei', 'infant_checkups') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('kodomo_katei__infant_checkups', '乳幼児健診.csv') }} as record_id,
        'kodomo_katei__infant_checkups:' || coalesce(atena_no::text, '')
            || '|' || coalesce(checkup::text, '') as record_key,
        atena_no,
        checkup,
        due_month,
        attended_on,
        has_questionnaire_concern,
        caries_count,
        mother_smokes,
        has_follow_up,
        extracted_on,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
