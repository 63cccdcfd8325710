{#-
    The up to three best candidate residents of every record in identity_review_records, each
    comparison of each pair as a row: its level, its weight in bits and what it means in words
    (seed match_level_labels) — the waterfall of the pair's score — plus the resident's normalised
    name and kana (what the matcher compared; no address). Comparisons at level 'null' (a field one
    side lacks) are left out: they weigh nothing.
-#}
{%- set comparisons = var('identity_comparisons') -%}
with

records as (

    select record_id from {{ ref('identity_review_records') }}

),

pairs as (

    {% for model in ['int_identity__register_pairs', 'int_identity__school_pairs'] %}
    select
        left_id,
        right_id,
        match_score,
        {%- for c in comparisons %}
        {{ c.comparison }}_level,
        {{ c.comparison }}_weight{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

ranked as (

    select
        pairs.*,
        {{ identity_candidate_rank('pairs') }} as candidate_rank
    from pairs
    inner join records
        on pairs.left_id = records.record_id

),

top_three as (

    select * from ranked
    where candidate_rank <= 3

),

levels as (

    {% for c in comparisons %}
    select
        left_id,
        right_id,
        candidate_rank,
        match_score,
        '{{ c.comparison }}' as comparison,
        {{ loop.index }} as comparison_order,
        {{ c.comparison }}_level as level,
        {{ c.comparison }}_weight as match_weight
    from top_three
    where {{ c.comparison }}_level <> 'null'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

labels as (

    select * from {{ ref('match_level_labels') }}

),

spine as (

    select * from {{ ref('int_identity__spine') }}

),

final as (

    select
        levels.left_id as record_id,
        levels.right_id as person_id,
        levels.comparison,
        levels.level,
        labels.label_ja,
        spine.name_norm as candidate_name_norm,
        spine.kana_norm as candidate_kana_norm,
        levels.candidate_rank::integer as candidate_rank,
        levels.comparison_order,
        levels.match_weight,
        levels.match_score,
        {{ run_month() }} as run_month
    from levels
    left join labels
        on levels.comparison = labels.comparison
        and levels.level = labels.level
    left join spine
        on levels.right_id = spine.person_id

)

select * from final
