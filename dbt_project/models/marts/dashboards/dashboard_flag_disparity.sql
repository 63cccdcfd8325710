{#-
    flag_disparity (flag rates by age band, sex, single-adult household and area) in words, for
    the 検証 dashboard. Was the SQL of Superset's dataset mimamori_flag_disparity. 地区: a child
    under a 支援措置 is counted in an area that is not the address (no 「不明」 group,
    docs/disclosure.md).
-#}
with

disparity as (

    select * from {{ ref('flag_disparity') }}

),

types as (

    select distinct
        run_month,
        type_code,
        type_label_ja
    from {{ ref('threshold_sensitivity') }}

),

final as (

    select
        disparity.run_month,
        case disparity.dimension
            when 'age_band' then '年齢区分'
            when 'sex' then '性別'
            when 'single_adult_household' then '大人1人の世帯'
            when 'area' then '地区'
            else disparity.dimension
        end as dimension_ja,
        case
            when disparity.dimension = 'sex' and disparity.dimension_value = '1' then '男'
            when disparity.dimension = 'sex' and disparity.dimension_value = '2' then '女'
            when disparity.dimension = 'single_adult_household' and disparity.dimension_value = 'yes' then 'はい'
            when disparity.dimension = 'single_adult_household' and disparity.dimension_value = 'no' then 'いいえ'
            else coalesce(disparity.dimension_value, 'データなし')
        end as dimension_value_ja,
        coalesce(
            types.type_label_ja,
            case disparity.type_code when '_any' then 'いずれか' else disparity.type_code end
        ) as type_label_ja,
        disparity.children_in_age_range,
        disparity.flagged_count,
        disparity.flag_rate
    from disparity
    left join types
        on
            disparity.run_month = types.run_month
            and disparity.type_code = types.type_code

)

select * from final
