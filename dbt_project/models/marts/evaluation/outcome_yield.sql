{#-
    Measured yield of the rules (docs/evaluation.md): per type (and '_any') and judged month, the
    children discussed at the conference who were flagged in the type, how many were judged
    要支援, and 要支援 + 調査継続 + 経過観察 ("concern"), with Wilson 95 % intervals (sound for a
    handful of outcomes); the same cumulated over every judged month up to this one; among the
    要支援, how many were not known to the town (discovery). A drift alarm compares the last three
    judged months with everything before them: it is raised when the recent interval lies
    wholly below or above the earlier share (at least 5 discussed recently and 10 before).
    A measure of a prompt for human judgement, never of a child. Which outcome is which: the seed
    conference_outcomes (is_needs_support, is_concern).
-#}
with

history as (

    select * from {{ ref('conference_outcome_history') }}

),

outcome_kinds as (

    select * from {{ ref('conference_outcomes') }}

),

types as (

    select type_code, label_ja, sort_order
    from {{ ref('types') }}
    where is_enabled
    union all
    select '_any', 'いずれかの類型', 0

),

months as (

    select distinct judged_run_month
    from history

),

per_type as (

    select
        history.judged_run_month,
        types.type_code,
        history.outcome,
        outcome_kinds.is_needs_support,
        outcome_kinds.is_concern,
        history.is_known
    from history
    left join outcome_kinds
        on history.outcome = outcome_kinds.outcome
    inner join types
        on types.type_code = '_any'
        or (' ' || coalesce(history.flagged_types, '') || ' ') like ('% ' || types.type_code || ' %')

),

monthly as (

    select
        months.judged_run_month,
        types.type_code,
        types.label_ja as type_label_ja,
        types.sort_order as type_sort_order,
        count(per_type.outcome) as discussed,
        count(*) filter (where per_type.is_needs_support) as needs_support,
        count(*) filter (where per_type.is_concern) as concern,
        count(*) filter (where per_type.is_needs_support and per_type.is_known = false) as needs_support_new,
        count(*) filter (where per_type.is_needs_support and per_type.is_known = true) as needs_support_known
    from months
    cross join types
    left join per_type
        on months.judged_run_month = per_type.judged_run_month
        and types.type_code = per_type.type_code
    group by months.judged_run_month, types.type_code, types.label_ja, types.sort_order

),

windowed as (

    select
        monthly.*,
        sum(monthly.discussed) over cumulative as cumulative_discussed,
        sum(monthly.needs_support) over cumulative as cumulative_needs_support,
        sum(monthly.concern) over cumulative as cumulative_concern,
        sum(monthly.needs_support_new) over cumulative as cumulative_needs_support_new,
        sum(monthly.needs_support_known) over cumulative as cumulative_needs_support_known,
        sum(monthly.discussed) over recent as recent_discussed,
        sum(monthly.needs_support) over recent as recent_needs_support,
        coalesce(sum(monthly.discussed) over earlier, 0) as earlier_discussed,
        coalesce(sum(monthly.needs_support) over earlier, 0) as earlier_needs_support
    from monthly
    window
        cumulative as (
            partition by monthly.type_code order by monthly.judged_run_month
            rows between unbounded preceding and current row
        ),
        recent as (
            partition by monthly.type_code order by monthly.judged_run_month
            rows between 2 preceding and current row
        ),
        earlier as (
            partition by monthly.type_code order by monthly.judged_run_month
            rows between unbounded preceding and 3 preceding
        )

),

alarms as (

    select
        windowed.*,
        case
            when windowed.recent_discussed >= 5 and windowed.earlier_discussed >= 10
                and {{ wilson_upper('windowed.recent_needs_support', 'windowed.recent_discussed') }}
                < windowed.earlier_needs_support::numeric / windowed.earlier_discussed
                then '下降'
            when windowed.recent_discussed >= 5 and windowed.earlier_discussed >= 10
                and {{ wilson_lower('windowed.recent_needs_support', 'windowed.recent_discussed') }}
                > windowed.earlier_needs_support::numeric / windowed.earlier_discussed
                then '上昇'
        end as drift_direction
    from windowed

),

final as (

    select
        {{ run_month() }} as run_month,
        type_code,
        type_label_ja,
        judged_run_month,
        drift_direction,
        type_sort_order,
        {#- the month's figures, then the same figures summed up to the month (cumulative_) -#}
        {%- for p in ['', 'cumulative_'] %}
        {{ p }}discussed::integer as {{ p }}discussed_count,
        {{ p }}needs_support::integer as {{ p }}needs_support_count,
        {{ p }}concern::integer as {{ p }}concern_count,
        {{ p }}needs_support_new::integer as {{ p }}needs_support_new_count,
        {{ share_with_bounds(p ~ 'needs_support', p ~ 'discussed', p ~ 'needs_support') }},
        {{ share_with_bounds(p ~ 'concern', p ~ 'discussed', p ~ 'concern') }},
        {%- endfor %}
        {{ share_with_bounds(
            'cumulative_needs_support_new',
            'cumulative_needs_support_new + cumulative_needs_support_known',
            'cumulative_discovery'
        ) }},
        drift_direction is not null as is_drift_alarm
    from alarms

)

select * from final
