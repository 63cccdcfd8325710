with

source as (

    select * from {{ source('jumin', 'residents') }}
    where run_month = {{ run_month() }}

),

renamed as (

    select
        atena_no as person_id,
        setai_no as household_id,
        name,
        name_kana,
        sex,
        relationship,
        address,
        birth_date,
        moved_in_on as moved_in_date,
        resident_since as resident_since_date,
        has_dv_protection,
        extracted_on as extracted_date,
        run_month,
        source_file,
        source_row_number

    from source

)

select * from renamed
