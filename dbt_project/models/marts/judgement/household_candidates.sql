{#-
    Candidate households, ranked (domain.md §6): (1) distinct flagged types among its candidate
    children, (2) the highest total points, (3) the highest single type score, (4) the lowest
    世帯番号. The top N (candidate_settings.households_per_month) are proposed.
-#}
with

candidates as (

    select * from {{ ref('candidate_children') }}

),

type_scores as (

    select * from {{ ref('child_type_scores') }}

),

settings as (

    select * from {{ ref('candidate_settings') }}

),

top_n as (

    select coalesce(max(value) filter (where setting = 'households_per_month'), '5')::integer as households_per_month
    from settings

),

flagged_types as (

    select
        type_scores.household_id,
        type_scores.type_code,
        type_scores.type_sort_order,
        max(type_scores.score) as score
    from type_scores
    inner join candidates
        on type_scores.person_id = candidates.person_id
    where type_scores.is_flagged
    group by type_scores.household_id, type_scores.type_code, type_scores.type_sort_order

),

households as (

    select
        candidates.run_month,
        candidates.household_id,
        string_agg(candidates.person_id, ' ' order by candidates.person_id) as person_ids,
        count(*) as candidate_child_count,
        max(candidates.total_points) as max_total_points,
        min(candidates.as_of_date) as as_of_date
    from candidates
    group by candidates.run_month, candidates.household_id

),

household_types as (

    select
        household_id,
        string_agg(type_code, ' ' order by type_sort_order) as flagged_types,
        count(*) as flagged_type_count,
        max(score) as max_type_score
    from flagged_types
    group by household_id

),

ranked as (

    select
        households.*,
        household_types.flagged_types,
        household_types.flagged_type_count,
        household_types.max_type_score,
        row_number() over (
            order by
                household_types.flagged_type_count desc,
                households.max_total_points desc,
                household_types.max_type_score desc,
                length(households.household_id),
                households.household_id asc
        ) as household_rank
    from households
    inner join household_types
        on households.household_id = household_types.household_id

),

final as (

    select
        ranked.run_month,
        ranked.household_id,
        ranked.flagged_types,
        ranked.person_ids,
        ranked.household_rank::integer as household_rank,
        ranked.flagged_type_count::integer as flagged_type_count,
        ranked.candidate_child_count::integer as candidate_child_count,
        ranked.max_total_points,
        ranked.max_type_score,
        ranked.household_rank <= top_n.households_per_month as is_proposed,
        ranked.as_of_date
    from ranked
    cross join top_n

)

select * from final
