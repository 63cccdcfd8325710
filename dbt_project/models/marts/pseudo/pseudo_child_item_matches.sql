{#- child_item_matches for the analyst: status per item, no record ids, dates or names. -#}
with

matches as (

    select * from {{ ref('child_item_matches') }}

),

children as (

    select * from {{ ref('int_items__children') }}

),

final as (

    select
        matches.run_month,
        {{ pseudo_id('matches.person_id') }} as pseudo_child_id,
        children.age_band,
        matches.item_code,
        matches.status,
        matches.evidence_raw_table,
        matches.is_matched,
        matches.is_unknown,
        matches.has_hand_entry
    from matches
    inner join children
        on matches.person_id = children.person_id
    where {{ pseudo_enabled() }}

)

select * from final
