{#-
    The verdict per child × type in words, per audience (docs/judgement.md): display only — the
    flag itself is child_type_scores.is_flagged and is unchanged. In this order of precedence:
    対象年齢外 → 気づきあり → 必須項目がデータなし → 必須項目が非該当 → 判定保留 (only when the score plus
    the most the データなし items could add reaches the threshold) → 基準点未満.

    One row per audience (seeds/access/audiences.csv), and row-level security gives each audience
    only its own rows (mimamori.access): an audience that does not see every department an item
    of the type comes from gets a sentence that names no item and no reason it may not see
    (「この権限では表示しない課の項目」); its list of items is child_type_items under its own
    row-level security. The wording is a prompt for human judgement, never a label.
-#}
with

scores as (

    select * from {{ ref('child_type_scores') }}

),

items as (

    select * from {{ ref('child_type_items') }}

),

catalogue as (

    select * from {{ ref('item_catalogue') }}

),

audiences as (

    select * from {{ ref('audiences') }}

),

audience_departments as (

    select * from {{ ref('audience_departments') }}
    where may_view

),

{#- the items each audience may see: every department the item comes from is viewable -#}
visible_items as (

    select
        audiences.audience,
        catalogue.item_code
    from audiences
    cross join catalogue
    where not exists (
        select 1
        from unnest(string_to_array(catalogue.sources, ' ')) as source (department)
        where not exists (
            select 1
            from audience_departments
            where
                audience_departments.audience = audiences.audience
                and audience_departments.department = source.department
        )
    )

),

{#- per group: what it adds now, and the most its データなし items could add -#}
groups as (

    select
        person_id,
        type_code,
        group_key,
        bool_or(status = 'true') as is_matched,
        coalesce(max(weight) filter (where status = 'unknown'), 0) as unknown_weight,
        max(weight) filter (where status = 'true') as matched_weight
    from items
    group by person_id, type_code, group_key

),

potential as (

    select
        person_id,
        type_code,
        sum(
            case when is_matched then greatest(unknown_weight - matched_weight, 0) else unknown_weight end
        ) as could_add
    from groups
    group by person_id, type_code

),

required as (

    select
        person_id,
        type_code,
        count(*) filter (where is_required) as required_items,
        count(*) filter (where is_required and status = 'true') as required_true,
        count(*) filter (where is_required and status = 'unknown') as required_unknown,
        count(*) filter (where status = 'unknown') as unknown_items
    from items
    group by person_id, type_code

),

scope as (

    select
        audiences.audience,
        items.person_id,
        items.type_code,
        bool_and(visible_items.item_code is not null) as sees_every_item
    from items
    cross join audiences
    left join visible_items
        on audiences.audience = visible_items.audience
        and items.item_code = visible_items.item_code
    group by audiences.audience, items.person_id, items.type_code

),

coded as (

    select
        scope.audience,
        scores.run_month,
        scores.person_id,
        scores.household_id,
        scores.type_code,
        scores.type_label_ja,
        scores.type_sort_order,
        scores.score,
        scores.threshold,
        scores.min_age,
        scores.max_age,
        required.unknown_items,
        required.required_unknown,
        potential.could_add,
        scores.is_flagged,
        scope.sees_every_item,
        scores.as_of_date,
        case
            when not scores.is_in_age_range then 'out_of_age'
            when scores.is_flagged then 'flagged'
            when not scope.sees_every_item then 'not_flagged'
            when required.required_items > 0 and required.required_true = 0 and required.required_unknown > 0
                then 'required_unknown'
            when required.required_items > 0 and required.required_true = 0 then 'required_false'
            when scores.score + potential.could_add >= scores.threshold then 'pending'
            else 'below_threshold'
        end as verdict_code
    from scores
    inner join scope
        on scores.person_id = scope.person_id
        and scores.type_code = scope.type_code
    inner join required
        on scores.person_id = required.person_id
        and scores.type_code = required.type_code
    inner join potential
        on scores.person_id = potential.person_id
        and scores.type_code = potential.type_code

),

final as (

    select
        audience,
        run_month,
        person_id,
        household_id,
        type_code,
        type_label_ja,
        verdict_code,
        case verdict_code
            when 'out_of_age' then '対象年齢外'
            when 'flagged' then '気づきあり'
            when 'required_unknown' then '必須項目がデータなし'
            when 'required_false' then '必須項目が非該当'
            when 'pending' then '判定保留'
            else '基準点未満'
        end as verdict_label_ja,
        case verdict_code
            when 'out_of_age' then
                'この類型は' || min_age || '～' || max_age || '歳が対象のため、判定していません。'
            when 'flagged' then
                '該当した項目の点数が' || trim_scale(score::numeric) || '点で、基準点（' || trim_scale(threshold::numeric)
                || '点）に達しました。支援が必要かどうかを人が確かめるための気づきです（レッテルではありません）。'
            when 'not_flagged' then
                '気づきの基準には達していません。この類型の判定には、この権限では表示しない課の項目も使われています。'
            when 'required_unknown' then
                '必須の項目に該当がなく、そのうち' || required_unknown || '件はデータなしのため、気づきかどうかを判定できません（点数は'
                || trim_scale(score::numeric) || '点、基準点は' || trim_scale(threshold::numeric)
                || '点）。データなしは「該当しない」という意味ではありません。'
            when 'required_false' then
                '必須の項目がいずれも非該当のため、気づきの対象になりません（点数は' || trim_scale(score::numeric) || '点、基準点は'
                || trim_scale(threshold::numeric) || '点）。'
            when 'pending' then
                '点数は' || trim_scale(score::numeric) || '点で、基準点（' || trim_scale(threshold::numeric)
                || '点）に届いていませんが、データなしの項目が'
                || unknown_items || '件あり、それらが該当すれば基準点に達します。判定を保留しています。'
            else
                '点数は' || trim_scale(score::numeric) || '点で、基準点（' || trim_scale(threshold::numeric) || '点）に届いていません。'
        end as verdict_ja,
        type_sort_order,
        score,
        threshold,
        is_flagged,
        sees_every_item,
        as_of_date
    from coded

)

select * from final
