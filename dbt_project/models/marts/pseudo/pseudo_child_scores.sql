{#-
    For the outside analyst (分析主体): child_scores with an HMAC pseudonym instead of the
    宛名番号, the age band instead of the age, no names, no addresses, no area, no household:
    which rows share a household (their composition) would identify large or unusual families,
    so the quasi-identifiers stay age band and sex (docs/disclosure.md).
-#}
with

scores as (

    select * from {{ ref('child_scores') }}

),

final as (

    select
        run_month,
        {{ pseudo_id('person_id') }} as pseudo_child_id,
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
