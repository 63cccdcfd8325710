{#-
    住民.csv (住民記録): the run month's rows, contract column names kept, plus record ids and
    normalised identity columns. A table, unlike the other staging models: six models read it, and
    as a view each of them re-ran the name/kana/address normalisation of the whole registry
    (docs/benchmarks.md).
-#}
{{ config(
    materialized='table',
    indexes=[{'columns': ['atena_no']}, {'columns': ['setai_no']}],
    pre_hook="set local jit = off",
) }}
with

source as (

    select * from {{ source('jumin', 'residents') }}
    where run_month = {{ run_month() }}
        and run_id = {{ attempt_id() }}

),

final as (

    select
        {{ record_id('jumin__residents', '住民.csv') }} as record_id,
        'jumin__residents:' || coalesce(atena_no::text, '') as record_key,
        atena_no,
        setai_no,
        name,
        name_kana,
        birth_date,
        sex,
        relationship,
        address,
        moved_in_on,
        resident_since,
        has_dv_protection,
        extracted_on,
        {{ identity_name_norm('name') }} as name_norm,
        {{ identity_name_part('name', 1) }} as surname_norm,
        {{ identity_name_part('name', 2) }} as given_norm,
        {{ identity_kana_norm('name_kana') }} as kana_norm,
        {{ identity_kana_part('name_kana', 1) }} as surname_kana_norm,
        {{ identity_kana_part('name_kana', 2) }} as given_kana_norm,
        {{ identity_address_norm('address') }} as address_norm,
        run_month,
        source_file,
        source_row_number,
        file_sha256,
        loaded_at

    from source

)

select * from final
