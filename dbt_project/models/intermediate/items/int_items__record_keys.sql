{#-
    record_id (month-local: <raw_table>:<row>) → record_key (the contract key, stable across
    months) of every record of the run month. Corrections name records by record_key so they hold
    on every later run (docs/governance.md); child_item_matches shows it with the evidence.
-#}
with

records as (

    select record_id, record_key from {{ ref('int_identity__records') }}

),

residents as (

    select record_id, record_key from {{ ref('stg_jumin__residents') }}

),

final as (

    select * from records
    union all
    select * from residents

)

select * from final
