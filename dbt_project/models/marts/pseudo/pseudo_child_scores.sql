{#-
    For the outside analyst (分析主体): child_scores with an HMAC pseudonym instead of the
    宛名番号 and 世帯番号, the age band instead of the age, no names, no addresses, no area.
-#}
with

scores as (

    select * from {{ ref('child_scores') }}

),

final as (

    select
        run_month,
        {{ pseudo_id('person_id') }} as pseudo_child_id,
        {{ pseudo_id("'setai:' || household_id") }} as pseudo_household_id,
        age_band,
        sex,
        flagged_types,
        matched_items,
        total_points,
        matched_item_count,
        unknown_item_count,
        flagged_type_count,
        max_type_score,
        is_flagged
    from scores
    where {{ pseudo_enabled() }}

)

select * from final
