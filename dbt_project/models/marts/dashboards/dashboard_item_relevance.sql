{#-
    item_relevance (each item's share among a conference outcome or the already supported against
    all children: the lift) with the item's label, for the 検証 dashboard. Was the SQL of
    Superset's dataset mimamori_item_relevance.
-#}
with

relevance as (

    select * from {{ ref('item_relevance') }}

),

catalogue as (

    select distinct
        run_month,
        item_code,
        item_label_ja
    from {{ ref('child_item_matches') }}

),

final as (

    select
        relevance.run_month,
        relevance.item_code,
        relevance.item_code || ' ' || coalesce(catalogue.item_label_ja, '') as item_label,
        case relevance.reference_group
            when 'already_supported' then '既に支援中'
            else relevance.reference_group
        end as reference_group_ja,
        relevance.group_children,
        relevance.group_matched,
        relevance.group_share,
        relevance.all_share,
        relevance.lift
    from relevance
    left join catalogue
        on
            relevance.run_month = catalogue.run_month
            and relevance.item_code = catalogue.item_code

)

select * from final
