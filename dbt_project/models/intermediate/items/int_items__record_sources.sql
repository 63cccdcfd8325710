{#-
    record_id (<raw_table>:<row>) → where the record was delivered: the department's file as it
    arrived and its row (data rows counted from 1, as in ingest.rejections), for showing the source
    of an item in words a data owner can find (a file and a row, not an internal table name).
-#}
with

records as (

    select record_id, source_file, source_row_number from {{ ref('int_identity__records') }}

),

residents as (

    select record_id, source_file, source_row_number from {{ ref('stg_jumin__residents') }}

),

final as (

    select * from records
    union all
    select * from residents

)

select * from final
