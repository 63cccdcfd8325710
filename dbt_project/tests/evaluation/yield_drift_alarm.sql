{#-
    The drift alarm of outcome_yield (docs/evaluation.md): a warning in the monthly build's log
    when, for some type, the share of discussed children judged 要支援 in the
    last three judged months lies wholly outside what the months before it measured. A warning,
    not a failure: the month is still published; the coordinator looks at the 検証 dashboard.
-#}
{{ config(severity='warn') }}

select type_code, judged_run_month, drift_direction
from {{ ref('outcome_yield') }}
where is_drift_alarm
    and judged_run_month = (select max(judged_run_month) from {{ ref('outcome_yield') }})
