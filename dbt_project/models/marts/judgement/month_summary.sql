{#-
    The month in figures, per type and overall (type_code '_any'): children in scope, in the
    type's age range, flagged and their share — what the overview dashboard headlines.
-#}
with

type_scores as (

    select * from {{ ref('child_type_scores') }}

),

scores as (

    select * from {{ ref('child_scores') }}

),

candidates as (

    select * from {{ ref('household_candidates') }}

),

per_type as (

    select
        run_month,
        type_code,
        type_label_ja,
        type_sort_order,
        count(*) as children_in_scope,
        count(*) filter (where is_in_age_range) as children_in_age_range,
        count(*) filter (where is_flagged) as flagged_count,
        min(as_of_date) as as_of_date
    from type_scores
    group by run_month, type_code, type_label_ja, type_sort_order

),

overall as (

    select
        run_month,
        '_any' as type_code,
        'いずれかの類型' as type_label_ja,
        0 as type_sort_order,
        count(*) as children_in_scope,
        count(*) as children_in_age_range,
        count(*) filter (where is_flagged) as flagged_count,
        min(as_of_date) as as_of_date
    from scores
    group by run_month

),

unioned as (

    select * from overall
    union all
    select * from per_type

),

households as (

    select
        count(*) as candidate_household_count,
        count(*) filter (where is_proposed) as proposed_household_count
    from candidates

),

final as (

    select
        unioned.run_month,
        unioned.type_code,
        unioned.type_label_ja,
        unioned.type_sort_order,
        unioned.children_in_scope::integer as children_in_scope,
        unioned.children_in_age_range::integer as children_in_age_range,
        unioned.flagged_count::integer as flagged_count,
        round(unioned.flagged_count::numeric / nullif(unioned.children_in_scope, 0), 4) as flagged_share,
        round(
            unioned.flagged_count::numeric / nullif(unioned.children_in_age_range, 0), 4
        ) as flagged_share_in_age_range,
        households.candidate_household_count::integer as candidate_household_count,
        households.proposed_household_count::integer as proposed_household_count,
        unioned.as_of_date
    from unioned
    cross join households

)

select * from final
