{#-
    The generic matcher (Fellegi–Sunter), as plain Jinja so that the dbt models and the CLI
    (python -m mimamori.identity.match) render the very same SQL. Inputs are relation (or CTE)
    names whose rows have an `id` column and the fields the rules name:

      left   the records to link;        right   the candidates (the spine);
      blocking_rules   list of field lists — a pair is a candidate when it agrees on every
                       field of at least one rule; keys with more than max_block_size right-hand
                       rows are skipped (guard against oversized blocks);
      comparisons      list of {comparison, kind, field, given_field?, threshold?};
      weights          relation with (comparison, level, m_probability, u_probability).

    Comparison kinds and their levels (a null on either side is level 'null', weight 0):
      name   exact | given (same given name, other surname: a divorce) | close (edit distance 1)
             | different
      date   exact | near (±1 day, or day and month transposed) | different
      exact  agree | disagree
      fuzzy  exact | similar (pg_trgm similarity ≥ threshold) | different
-#}

{% macro identity_candidate_pairs(left, right, blocking_rules, max_block_size=200) -%}
    select
        candidates.left_id,
        candidates.right_id,
        string_agg(distinct candidates.blocking_rule, ',' order by candidates.blocking_rule) as blocking_rules
    from (
        {%- for rule in blocking_rules %}
        select
            l.id as left_id,
            r.id as right_id,
            '{{ rule | join("+") }}' as blocking_rule
        from {{ left }} as l
        inner join {{ right }} as r
            on {% for field in rule %}l.{{ field }} = r.{{ field }}{% if not loop.last %} and {% endif %}{% endfor %}
        inner join (
            select {{ rule | join(", ") }}
            from {{ right }} as block_source
            where {% for field in rule %}{{ field }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
            group by {{ rule | join(", ") }}
            having count(*) <= {{ max_block_size }}
        ) as small_blocks
            on {% for field in rule %}r.{{ field }} = small_blocks.{{ field }}{% if not loop.last %} and {% endif %}{% endfor %}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ) as candidates
    group by candidates.left_id, candidates.right_id
{%- endmacro %}

{% macro identity_comparison_level(comparison) -%}
    {%- set l = "l." ~ comparison.field -%}
    {%- set r = "r." ~ comparison.field -%}
    case
        when {{ l }} is null or {{ r }} is null then 'null'
    {%- if comparison.kind == 'name' %}
        when {{ l }} = {{ r }} then 'exact'
        {%- if comparison.given_field %}
        when r.{{ comparison.given_field }} is not null
            and length({{ l }}) > length(r.{{ comparison.given_field }})
            and right({{ l }}, length(r.{{ comparison.given_field }})) = r.{{ comparison.given_field }}
            then 'given'
        {%- endif %}
        when levenshtein({{ l }}, {{ r }}) <= 1 then 'close'
        else 'different'
    {%- elif comparison.kind == 'date' %}
        when {{ l }} = {{ r }} then 'exact'
        when abs({{ l }} - {{ r }}) = 1 then 'near'
        when extract(year from {{ l }}) = extract(year from {{ r }})
            and extract(month from {{ l }}) = extract(day from {{ r }})
            and extract(day from {{ l }}) = extract(month from {{ r }}) then 'near'
        else 'different'
    {%- elif comparison.kind == 'fuzzy' %}
        when {{ l }} = {{ r }} then 'exact'
        when similarity({{ l }}, {{ r }}) >= {{ comparison.threshold | default(0.5) }} then 'similar'
        else 'different'
    {%- else %}
        when {{ l }} = {{ r }} then 'agree'
        else 'disagree'
    {%- endif %}
    end
{%- endmacro %}

{#- Scored candidate pairs: one row per pair, a level per comparison, the total weight in bits. -#}
{% macro identity_score_pairs(pairs, left, right, comparisons, weights) -%}
    select
        levels.left_id,
        levels.right_id,
        levels.blocking_rules,
        {%- for c in comparisons %}
        levels.{{ c.comparison }}_level,
        {%- endfor %}
        round((
            {%- for c in comparisons %}
            coalesce(weight_{{ c.comparison }}.match_weight, 0){% if not loop.last %} +{% endif %}
            {%- endfor %}
        )::numeric, 2) as match_score,
        concat_ws('; ',
            {%- for c in comparisons %}
            case when levels.{{ c.comparison }}_level <> 'null' then '{{ c.comparison }}=' || levels.{{ c.comparison }}_level end{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as match_reason,
        {%- set name_comparisons = comparisons | selectattr('kind', 'equalto', 'name') | list %}
        {%- if name_comparisons %}
        ({% for c in name_comparisons %}levels.{{ c.comparison }}_level in ('exact', 'given'){% if not loop.last %} or {% endif %}{% endfor %}) as has_name_agreement
        {%- else %}
        true as has_name_agreement
        {%- endif %}
    from (
        select
            pairs.left_id,
            pairs.right_id,
            pairs.blocking_rules,
            {%- for c in comparisons %}
            {{ identity_comparison_level(c) }} as {{ c.comparison }}_level{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ pairs }} as pairs
        inner join {{ left }} as l on l.id = pairs.left_id
        inner join {{ right }} as r on r.id = pairs.right_id
    ) as levels
    {%- for c in comparisons %}
    left join (
        select comparison, level, log(2, m_probability::numeric / u_probability::numeric) as match_weight
        from {{ weights }}
    ) as weight_{{ c.comparison }}
        on weight_{{ c.comparison }}.comparison = '{{ c.comparison }}'
        and weight_{{ c.comparison }}.level = levels.{{ c.comparison }}_level
    {%- endfor %}
{%- endmacro %}

{#-
    Best candidate per left record, no chaining: each record gets at most one right id.
    linked  score ≥ link_threshold, at least tie_margin bits ahead of the runner-up, and the name
            agrees (a name-kind comparison exact or given: a twin shares everything but the name,
            so birth date, sex and address alone never link);
    review  otherwise, when the score is ≥ review_threshold;  unmatched  below.
-#}
{% macro identity_resolve_pairs(scored, link_threshold, review_threshold, tie_margin) -%}
    select
        ranked.left_id,
        ranked.right_id,
        ranked.match_score,
        ranked.runner_up_score,
        ranked.match_reason,
        case
            when ranked.match_score >= {{ link_threshold }}
                and (ranked.runner_up_score is null or ranked.match_score - ranked.runner_up_score >= {{ tie_margin }})
                and ranked.has_name_agreement
                then 'linked'
            when ranked.match_score >= {{ review_threshold }} then 'review'
            else 'unmatched'
        end as link_status
    from (
        select
            {{ scored }}.*,
            row_number() over (partition by left_id order by match_score desc, right_id) as candidate_rank,
            lead(match_score) over (partition by left_id order by match_score desc, right_id) as runner_up_score
        from {{ scored }}
    ) as ranked
    where ranked.candidate_rank = 1
{%- endmacro %}
