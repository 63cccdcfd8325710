{#-
    The data corrections in force this run month (casework.corrections, docs/governance.md),
    resolved to this month's record ids: a correction names its record by record_key (the contract
    key, stable across months), so it wins on every later run; without a record_key it holds only
    in the month it was recorded for (record_id is month-local). A later row that `withdraws` a
    correction ends it (the withdrawing row itself corrects nothing).
    kind 'wrong_person': every item the record supports is dropped for the child;
    kind 'wrong_value': only item_code is dropped.
-#}
with

corrections as (

    select * from {{ source('judgement_casework', 'corrections') }}

),

records as (

    select * from {{ ref('int_items__record_keys') }}

),

in_force as (

    select corrections.*
    from corrections
    where corrections.withdraws is null
        and corrections.run_month <= {{ run_month() }}
        and not exists (
            select 1
            from corrections as withdrawal
            where withdrawal.withdraws = corrections.correction_id
        )

),

by_key as (

    select
        in_force.correction_id,
        records.record_id
    from in_force
    inner join records
        on in_force.record_key = records.record_key

),

by_id as (

    select
        correction_id,
        record_id
    from in_force
    where record_key is null
        and run_month = {{ run_month() }}

),

resolved as (

    select * from by_key
    union
    select * from by_id

),

final as (

    select
        in_force.correction_id,
        in_force.person_id,
        in_force.item_code,
        in_force.kind,
        in_force.reason,
        in_force.raw_table,
        resolved.record_id,
        in_force.record_key,
        in_force.run_month as recorded_run_month,
        in_force.corrected_by,
        in_force.corrected_at
    from in_force
    inner join resolved
        on in_force.correction_id = resolved.correction_id

)

select * from final
