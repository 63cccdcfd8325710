{#-
    The attempt (var run_id, mimamori.attempts) whose raw rows this build read. Raw keeps every
    attempt of a month side by side, so a row number of a link (source_row_number, record_id) means
    a row of THIS attempt's file: whoever goes back from the models to raw rows (mimamori.disclosure)
    reads this attempt's rows only.
-#}
with

final as (

    select
        {{ attempt_id() }}::text as run_id,
        {{ run_month() }}::text as run_month

)

select * from final
