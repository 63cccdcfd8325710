{#-
    The per-type detail dashboard's rows (類型別詳細): type × child × rule item of the run month,
    for children in the type's age range with a score above 0, ranked within the type, with the
    verdict in words. Was the SQL of Superset's dataset mimamori_type_items; Superset now reads
    this mart's published copy (history.dashboard_type_items) through a select that only escapes
    the text for HTML and adds the case-screen link (the URL is the machine's).

    One row per audience (seeds/access/audiences.csv), as child_type_verdicts: row-level security
    gives each audience its own rows (mimamori.access), with the verdict worded for it. An
    audience's rows are the children its row scope lets it see (row_scope school_register: this
    month's 学齢簿), and type_rank ranks those (1, 2, 3 … for every audience, as when the rank was
    computed over what the audience's login could read). Which items an audience sees is its
    row-level security on item_code (audience_relations.csv), as on child_type_items.
-#}
with

audiences as (

    select * from {{ ref('audiences') }}

),

type_scores as (

    select * from {{ ref('child_type_scores') }}
    where type_code <> '_any' and is_in_age_range and score > 0

),

child_scores as (

    select * from {{ ref('child_scores') }}

),

affiliations as (

    {{ dashboard_affiliations() }}

),

{#- the children each audience's row scope lets it see -#}
in_scope as (

    select
        audiences.audience,
        type_scores.run_month,
        type_scores.person_id,
        type_scores.type_code,
        type_scores.type_label_ja,
        type_scores.score,
        type_scores.threshold,
        type_scores.is_flagged,
        child_scores.age,
        child_scores.age_band,
        child_scores.area,
        child_scores.total_points
    from type_scores
    inner join child_scores
        on
            type_scores.run_month = child_scores.run_month
            and type_scores.person_id = child_scores.person_id
    cross join audiences
    left join affiliations
        on
            type_scores.run_month = affiliations.run_month
            and type_scores.person_id = affiliations.person_id
    where audiences.row_scope = 'all' or coalesce(affiliations.is_on_school_register, false)

),

ranked as (

    select
        *,
        rank() over (
            partition by audience, run_month, type_code
            order by score desc, total_points desc
        ) as type_rank
    from in_scope

),

type_items as (

    select * from {{ ref('child_type_items') }}

),

verdicts as (

    select * from {{ ref('child_type_verdicts') }}

),

residents as (

    select * from {{ ref('residents') }}

),

final as (

    select
        ranked.audience,
        ranked.run_month,
        ranked.type_code,
        ranked.type_label_ja,
        ranked.person_id,
        residents.name as child_name,
        ranked.age_band,
        coalesce(ranked.area, 'データなし') as area,
        {{ affiliation_label('affiliations', 'ranked.age') }} as affiliation,
        type_items.item_code,
        type_items.item_code || ' ' || coalesce(type_items.item_label_ja, '') as item_label,
        -- a mark beside the word: the status never depends on colour alone
        case type_items.status when 'true' then '● ' when 'false' then '○ ' else '？ ' end
        || type_items.status_ja as item_status,
        type_items.status as item_status_code,
        ranked.score::text || ' / ' || ranked.threshold::text as score_vs_threshold,
        verdicts.verdict_label_ja as flag_label,
        verdicts.verdict_ja,
        ranked.type_rank,
        type_items.item_sort_order,
        ranked.age,
        ranked.score,
        ranked.threshold,
        ranked.total_points,
        type_items.points as item_points,
        type_items.is_required as is_required_item,
        ranked.is_flagged,
        coalesce(affiliations.is_on_school_register, false) as is_on_school_register
    from ranked
    inner join type_items
        on
            ranked.run_month = type_items.run_month
            and ranked.person_id = type_items.person_id
            and ranked.type_code = type_items.type_code
    left join verdicts
        on
            ranked.audience = verdicts.audience
            and ranked.run_month = verdicts.run_month
            and ranked.person_id = verdicts.person_id
            and ranked.type_code = verdicts.type_code
    left join residents
        on
            ranked.run_month = residents.run_month
            and ranked.person_id = residents.person_id
    left join affiliations
        on
            ranked.run_month = affiliations.run_month
            and ranked.person_id = affiliations.person_id

)

select * from final
