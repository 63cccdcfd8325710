{#-
    The overview dashboard's rows (全体概要): child × type of the run month, with the child's name,
    area, affiliation (所属), flag mark and change since the previous published month. Was the SQL
    of Superset's dataset mimamori_child_types; Superset now reads this mart's published copy
    (history.dashboard_child_types, every published month) as it is.
    Each audience's grants and row-level security (seeds/access/audience_relations.csv) decide
    which rows it reads, as they did on the tables this mart joins.
-#}
with

child_scores as (

    select * from {{ ref('child_scores') }}

),

type_scores as (

    select * from {{ ref('child_type_scores') }}
    where type_code <> '_any'

),

types as (

    select distinct
        run_month,
        type_code,
        type_label_ja,
        type_sort_order
    from type_scores

),

changes as (

    select * from {{ ref('child_score_changes') }}

),

residents as (

    select * from {{ ref('residents') }}

),

affiliations as (

    {{ dashboard_affiliations() }}

),

final as (

    select
        child_scores.run_month,
        child_scores.person_id,
        child_scores.household_id,
        types.type_code,
        types.type_label_ja,
        residents.name as child_name,
        residents.name_kana as child_name_kana,
        child_scores.age_band,
        coalesce(child_scores.area, 'データなし') as area,
        {{ affiliation_label('affiliations', 'child_scores.age') }} as affiliation,
        coalesce(changes.flag_change, 'not_flagged') as flag_change,
        case changes.flag_change
            when 'newly_flagged' then '新たに気づき'
            when 'dropped' then '気づきから外れた'
            when 'still_flagged' then '継続'
            else '—'
        end as flag_change_ja,
        changes.previous_run_month,
        case when type_scores.is_flagged then '●' else '' end as flag_mark,
        types.type_sort_order,
        child_scores.age,
        type_scores.score,
        type_scores.threshold,
        changes.previous_score,
        child_scores.total_points,
        coalesce(child_scores.flagged_type_count, 0) as flagged_type_count,
        coalesce(type_scores.is_flagged, false) as is_flagged,
        coalesce(type_scores.is_in_age_range, false) as is_in_age_range,
        coalesce(child_scores.is_flagged, false) as is_flagged_any,
        coalesce(affiliations.is_on_school_register, false) as is_on_school_register
    from child_scores
    inner join types
        on child_scores.run_month = types.run_month
    left join type_scores
        on
            child_scores.run_month = type_scores.run_month
            and child_scores.person_id = type_scores.person_id
            and types.type_code = type_scores.type_code
    left join changes
        on
            child_scores.run_month = changes.run_month
            and child_scores.person_id = changes.person_id
            and types.type_code = changes.type_code
    left join residents
        on
            child_scores.run_month = residents.run_month
            and child_scores.person_id = residents.person_id
    left join affiliations
        on
            child_scores.run_month = affiliations.run_month
            and child_scores.person_id = affiliations.person_id

)

select * from final
