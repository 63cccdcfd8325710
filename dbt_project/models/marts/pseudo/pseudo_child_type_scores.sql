{#- child_type_scores for the analyst: pseudonym and age band only (see pseudo_child_scores). -#}
with

type_scores as (

    select * from {{ ref('child_type_scores') }}

),

children as (

    select * from {{ ref('int_items__children') }}

),

final as (

    select
        type_scores.run_month,
        {{ pseudo_id('type_scores.person_id') }} as pseudo_child_id,
        children.age_band,
        type_scores.type_code,
        type_scores.type_label_ja,
        type_scores.matched_items,
        type_scores.unknown_items,
        type_scores.score,
        type_scores.threshold,
        type_scores.is_in_age_range,
        type_scores.is_required_met,
        type_scores.is_flagged
    from type_scores
    inner join children
        on type_scores.person_id = children.person_id
    where {{ pseudo_enabled() }}

)

select * from final
