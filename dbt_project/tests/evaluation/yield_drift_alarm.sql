{#-
    The drift alarm of outcome_yield (docs/evaluation.md): a warning in the monthly build's log
    when, for some type, the share of discussed children judged 要支援 in the
    last three judged months lies wholly outside what the months before it measured. A warning,
    not a failure: the month is still published; the coordinator looks at the 検証 dashboard.
-#}
{{ config(severity='warn') }}

with latest as (

    select max(judged_run_month) as judged_run_month
    from {{ ref('outcome_yield') }}

)

select
    yield.type_code,
    yield.judged_run_month,
    yield.drift_direction
from {{ ref('outcome_yield') }} as yield
inner join latest
    on yield.judged_run_month = latest.judged_run_month
where yield.is_drift_alarm
