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

types as (

    select * from {{ ref('types') }}

),

{#- the flagged types as the analyst reads them (Japanese labels, in the types' order) -#}
type_labels as (

    select
        scores.person_id,
        string_agg(types.label_ja, '・' order by types.sort_order) as flagged_type_labels_ja
    from scores
    cross join lateral unnest(string_to_array(scores.flagged_types, ' ')) as flagged (type_code)
    inner join types
        on flagged.type_code = types.type_code
    group by scores.person_id

),

final as (

    select
        scores.run_month,
        {{ pseudo_id('scores.person_id') }} as pseudo_child_id,
        scores.age_band,
        scores.sex,
        scores.flagged_types,
        type_labels.flagged_type_labels_ja,
        scores.matched_items,
        scores.total_points,
        scores.matched_item_count,
        scores.unknown_item_count,
        scores.flagged_type_count,
        scores.max_type_score,
        scores.is_flagged
    from scores
    left join type_labels
        on scores.person_id = type_labels.person_id
    where {{ pseudo_enabled() }}

)

select * from final
