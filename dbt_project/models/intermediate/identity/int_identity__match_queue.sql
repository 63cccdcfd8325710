{#-
    The records the probabilistic matcher works on (materialised so that the planner has real
    statistics for the blocking joins): stage 1, 学齢簿 rows without a 宛名番号 or whose number failed
    its check; stage 2, every 出欠 / 学校健診 / 就学援助 / 給食費 row.
-#}
with

records as (

    select * from {{ ref('int_identity__records') }}
    where match_stage > 0

),

checks as (

    select * from {{ ref('int_identity__atena_checks') }}

),

final as (

    select records.*
    from records
    left join checks
        on records.record_id = checks.record_id
    where not coalesce(checks.has_passed, false)

)

select * from final
