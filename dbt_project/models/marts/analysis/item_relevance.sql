{#-
    How each item relates to conference outcomes and to children already supported (domain.md §1.8):
    per item and reference group, the children in the group, how many have the item, the share, the
    share among all children in scope, and the lift (share in group / share overall).
    Groups: each outcome (the last outcome of each child, any month) and 'already_supported'.
-#}
with

matches as (

    select * from {{ ref('child_item_matches') }}

),

outcomes as (

    select * from {{ ref('int_items__outcomes') }}

),

exclusions as (

    select * from {{ ref('child_exclusions') }}

),

groups as (

    select person_id, outcome as reference_group
    from outcomes
    union
    select person_id, 'already_supported'
    from exclusions
    where rule_kind = 'already_supported'

),

overall as (

    select
        run_month,
        item_code,
        count(*) as children,
        count(*) filter (where is_matched) as matched
    from matches
    group by run_month, item_code

),

in_group as (

    select
        matches.item_code,
        groups.reference_group,
        count(*) as children,
        count(*) filter (where matches.is_matched) as matched
    from matches
    inner join groups
        on matches.person_id = groups.person_id
    group by matches.item_code, groups.reference_group

),

final as (

    select
        overall.run_month,
        overall.item_code,
        in_group.reference_group,
        in_group.children::integer as group_children,
        in_group.matched::integer as group_matched,
        overall.children::integer as all_children,
        overall.matched::integer as all_matched,
        round(in_group.matched::numeric / nullif(in_group.children, 0), 4) as group_share,
        round(overall.matched::numeric / nullif(overall.children, 0), 4) as all_share,
        round(
            (in_group.matched::numeric / nullif(in_group.children, 0))
            / nullif(overall.matched::numeric / nullif(overall.children, 0), 0),
            3
        ) as lift
    from overall
    inner join in_group
        on overall.item_code = in_group.item_code

)

select * from final
