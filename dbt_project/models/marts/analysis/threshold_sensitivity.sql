{#-
    Per type: children flagged at thresholds 1–5 (other rule parts unchanged), to show how the
    threshold choice moves the count (domain.md §5: tune against the single-circumstance trap).
-#}
with

type_scores as (

    select * from {{ ref('child_type_scores') }}

),

thresholds as (

    select generate_series(1, 5) as threshold

),

final as (

    select
        type_scores.run_month,
        type_scores.type_code,
        type_scores.type_label_ja,
        thresholds.threshold,
        count(*) filter (where type_scores.is_in_age_range)::integer as children_in_age_range,
        count(*) filter (
            where type_scores.is_in_age_range
                and type_scores.is_required_met
                and type_scores.score >= thresholds.threshold
        )::integer as flagged_count,
        round(
            count(*) filter (
                where type_scores.is_in_age_range
                    and type_scores.is_required_met
                    and type_scores.score >= thresholds.threshold
            )::numeric / nullif(count(*) filter (where type_scores.is_in_age_range), 0),
            4
        ) as flagged_share,
        thresholds.threshold = max(type_scores.threshold) as is_current_threshold
    from type_scores
    cross join thresholds
    group by type_scores.run_month, type_scores.type_code, type_scores.type_label_ja, thresholds.threshold

)

select * from final
