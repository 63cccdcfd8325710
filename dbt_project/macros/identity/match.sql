{#-
    The generic matcher (Fellegi–Sunter), as plain Jinja so that the dbt models and the CLI
    (python -m mimamori.identity.match) render the very same SQL. Inputs are relation (or CTE)
    names whose rows have an `id` column and the fields the rules name:

      left   the records to link;        right   the candidates (the spine);
      blocking_rules   list of field lists — a pair is a candidate when it agrees on every
                       field of at least one rule; keys with more than max_block_size right-hand
                       rows are skipped (guard against oversized blocks); dedupe: left = right
                       and a pair is taken once (left id < right id);
      comparisons      list of {comparison, kind, field, …} (below);
      weights          relation with (comparison, level, m_probability, u_probability); an
                       optional row (prior, prior) holds the prior odds of a match among all
                       pairs when u was estimated on random pairs (docs/identity.md);
      functions        schema of identity_jaro_winkler (identity_create_functions).

    Comparison kinds and their levels, strongest first (a null on either side is level 'null',
    weight 0; optional keys in brackets enable a level):
      name    exact | private_use (equal but for unregistered 外字 or an export's substitute 〓 / ?,
              each a one-character wildcard; a name made only of them never matches this way)
              | [alias_field] alias (the 通称 of one is the other's name)
              | [reading_field + kana_key_field] reading (a name written only in kana equals the
                other's カナ氏名, words in any order: スミス　ジョン / SMITH JOHN + スミス　ジョン)
              | [key_field / swap_field] swapped (the same words in another order; or the two
                name fields exchanged, each equal or Jaro–Winkler-close when jaro_winkler is set) | [given_field] given (same given name, other surname: a
              divorce) | [key_field] partial (every word of the shorter name, at least two, in the
              longer: a middle name left out) | close (edit distance 1, or for Latin script
              Jaro–Winkler ≥ [jaro_winkler] of the names or of their sorted words) | different
      date    exact | near (±1 day, or day and month transposed) | close (one digit of YYYYMMDD
              differs) | different
      exact   agree | [close: true] close (edit distance 1) | disagree
      string  exact | close (edit distance 1, or Jaro–Winkler ≥ [jaro_winkler], default 0.9)
              | different
      fuzzy   exact | similar (pg_trgm similarity ≥ threshold) | different
-#}

{#- Levels per kind, strongest first (the CLI validates mappings and explains levels with these). -#}
{% macro identity_kind_levels(kind) -%}
    {%- set levels = {
        'name': ['exact', 'private_use', 'alias', 'reading', 'swapped', 'given', 'partial', 'close', 'different'],
        'date': ['exact', 'near', 'close', 'different'],
        'exact': ['agree', 'close', 'disagree'],
        'string': ['exact', 'close', 'different'],
        'fuzzy': ['exact', 'similar', 'different'],
    } -%}
    {{- levels[kind] | join(',') -}}
{%- endmacro %}

{#- Jaro–Winkler similarity (prefix scale 0.1, up to 4 characters), used by the name and string kinds. -#}
{% macro identity_create_functions(schema) -%}
    create schema if not exists {{ schema }};
    create or replace function {{ schema }}.identity_jaro_winkler(s1 text, s2 text)
    returns double precision
    language plpgsql immutable strict parallel safe
    as $jw$
    declare
        a text[] := string_to_array(s1, null);
        b text[] := string_to_array(s2, null);
        la integer := coalesce(array_length(a, 1), 0);
        lb integer := coalesce(array_length(b, 1), 0);
        win integer;
        matches integer := 0;
        half_transpositions integer := 0;
        i integer;
        j integer;
        k integer := 1;
        prefix integer := 0;
        a_hit boolean[];
        b_hit boolean[];
        jaro double precision;
    begin
        if s1 = s2 then return 1; end if;
        if la = 0 or lb = 0 then return 0; end if;
        win := greatest(greatest(la, lb) / 2 - 1, 0);
        a_hit := array_fill(false, array[la]);
        b_hit := array_fill(false, array[lb]);
        for i in 1..la loop
            for j in greatest(1, i - win)..least(lb, i + win) loop
                if not b_hit[j] and a[i] = b[j] then
                    a_hit[i] := true;
                    b_hit[j] := true;
                    matches := matches + 1;
                    exit;
                end if;
            end loop;
        end loop;
        if matches = 0 then return 0; end if;
        for i in 1..la loop
            if a_hit[i] then
                while not b_hit[k] loop k := k + 1; end loop;
                if a[i] <> b[k] then half_transpositions := half_transpositions + 1; end if;
                k := k + 1;
            end if;
        end loop;
        jaro := (matches::double precision / la + matches::double precision / lb
            + (matches - half_transpositions / 2.0) / matches) / 3.0;
        for i in 1..least(4, la, lb) loop
            exit when a[i] <> b[i];
            prefix := prefix + 1;
        end loop;
        return jaro + prefix * 0.1 * (1 - jaro);
    end
    $jw$
{%- endmacro %}

{% macro identity_candidate_pairs(left, right, blocking_rules, max_block_size=200, dedupe=false) -%}
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
        {%- if dedupe %}
        where l.id < r.id
        {%- endif %}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ) as candidates
    group by candidates.left_id, candidates.right_id
{%- endmacro %}

{#-
    Characters that stand for an unknown one: unregistered 外字 (private use), and the substitutes
    an export writes for a character it cannot encode (〓 geta, ?).
-#}
{% macro identity_wildcard_class() -%}
    [\uE000-\uF8FF\U000F0000-\U0010FFFD〓?]
{%- endmacro %}

{% macro identity_like_pattern(expr) -%}
    regexp_replace(replace(replace(replace({{ expr }}, '\', '\\'), '%', '\%'), '_', '\_'), '{{ identity_wildcard_class() }}', '_', 'g')
{%- endmacro %}

{% macro identity_comparison_level(comparison, functions='rules') -%}
    {%- set l = "l." ~ comparison.field -%}
    {%- set r = "r." ~ comparison.field -%}
    {%- set jw = functions ~ ".identity_jaro_winkler" -%}
    {%- set pua = identity_wildcard_class() -%}
    case
        when {{ l }} is null or {{ r }} is null then 'null'
    {%- if comparison.kind == 'name' %}
        when {{ l }} = {{ r }} then 'exact'
        when ({{ l }} ~ '{{ pua }}' and {{ l }} !~ '^{{ pua }}+$' and {{ r }} like {{ identity_like_pattern(l) }})
            or ({{ r }} ~ '{{ pua }}' and {{ r }} !~ '^{{ pua }}+$' and {{ l }} like {{ identity_like_pattern(r) }})
            then 'private_use'
        {%- if comparison.alias_field %}
        {%- set la, ra = "l." ~ comparison.alias_field, "r." ~ comparison.alias_field %}
        when {{ l }} = {{ ra }} or {{ la }} = {{ r }} or {{ la }} = {{ ra }} then 'alias'
        {%- endif %}
        {%- if comparison.reading_field and comparison.kana_key_field %}
        {%- set lr, rr = "l." ~ comparison.reading_field, "r." ~ comparison.reading_field %}
        {%- set lkk, rkk = "l." ~ comparison.kana_key_field, "r." ~ comparison.kana_key_field %}
        when {{ lr }} = {{ rkk }} or {{ rr }} = {{ lkk }} then 'reading'
        {%- endif %}
        {%- if comparison.key_field %}
        when l.{{ comparison.key_field }} = r.{{ comparison.key_field }} then 'swapped'
        {%- endif %}
        {%- if comparison.swap_field %}
        {%- set ls, rs = "l." ~ comparison.swap_field, "r." ~ comparison.swap_field %}
        {%- if comparison.jaro_winkler %}
        when ({{ l }} = {{ rs }} or {{ jw }}({{ l }}, {{ rs }}) >= {{ comparison.jaro_winkler }})
            and ({{ ls }} = {{ r }} or {{ jw }}({{ ls }}, {{ r }}) >= {{ comparison.jaro_winkler }}) then 'swapped'
        {%- else %}
        when {{ l }} = {{ rs }} and {{ ls }} = {{ r }} then 'swapped'
        {%- endif %}
        {%- endif %}
        {%- if comparison.given_field %}
        when r.{{ comparison.given_field }} is not null
            and length({{ l }}) > length(r.{{ comparison.given_field }})
            and right({{ l }}, length(r.{{ comparison.given_field }})) = r.{{ comparison.given_field }}
            then 'given'
        {%- endif %}
        {%- if comparison.key_field %}
        {%- set lk, rk = "string_to_array(l." ~ comparison.key_field ~ ", ' ')", "string_to_array(r." ~ comparison.key_field ~ ", ' ')" %}
        when least(cardinality({{ lk }}), cardinality({{ rk }})) >= 2
            and ({{ lk }} <@ {{ rk }} or {{ rk }} <@ {{ lk }}) then 'partial'
        {%- endif %}
        when levenshtein({{ l }}, {{ r }}) <= 1 then 'close'
        {%- if comparison.jaro_winkler %}
        when {{ l }} ~ '[A-Za-z]' and {{ jw }}({{ l }}, {{ r }}) >= {{ comparison.jaro_winkler }} then 'close'
        {%- if comparison.key_field %}
        when {{ l }} ~ '[A-Za-z]' and {{ jw }}(l.{{ comparison.key_field }}, r.{{ comparison.key_field }}) >= {{ comparison.jaro_winkler }} then 'close'
        {%- endif %}
        {%- endif %}
        else 'different'
    {%- elif comparison.kind == 'date' %}
        when {{ l }} = {{ r }} then 'exact'
        when abs({{ l }} - {{ r }}) = 1 then 'near'
        when extract(year from {{ l }}) = extract(year from {{ r }})
            and extract(month from {{ l }}) = extract(day from {{ r }})
            and extract(day from {{ l }}) = extract(month from {{ r }}) then 'near'
        when levenshtein(to_char({{ l }}, 'YYYYMMDD'), to_char({{ r }}, 'YYYYMMDD')) <= 1 then 'close'
        else 'different'
    {%- elif comparison.kind == 'fuzzy' %}
        when {{ l }} = {{ r }} then 'exact'
        when similarity({{ l }}, {{ r }}) >= {{ comparison.threshold | default(0.5) }} then 'similar'
        else 'different'
    {%- elif comparison.kind == 'string' %}
        when {{ l }} = {{ r }} then 'exact'
        when levenshtein({{ l }}, {{ r }}) <= 1 then 'close'
        when {{ jw }}({{ l }}, {{ r }}) >= {{ comparison.jaro_winkler | default(0.9) }} then 'close'
        else 'different'
    {%- else %}
        when {{ l }} = {{ r }} then 'agree'
        {%- if comparison.close %}
        when levenshtein({{ l }}, {{ r }}) <= 1 then 'close'
        {%- endif %}
        else 'disagree'
    {%- endif %}
    end
{%- endmacro %}

{#- Scored candidate pairs: one row per pair, a level per comparison, the total weight in bits. -#}
{#- Each candidate pair's level per comparison (what identity_score_pairs weighs). -#}
{% macro identity_pair_levels(pairs, left, right, comparisons, functions='rules') -%}
        select
            pairs.left_id,
            pairs.right_id,
            pairs.blocking_rules,
            {%- for c in comparisons %}
            {{ identity_comparison_level(c, functions) }} as {{ c.comparison }}_level{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ pairs }} as pairs
        inner join {{ left }} as l on l.id = pairs.left_id
        inner join {{ right }} as r on r.id = pairs.right_id
{%- endmacro %}

{#-
    Scored candidate pairs. `levels`: a relation identity_pair_levels already computed (the CLI
    computes them once for both the estimation and the scores); else they are computed here.
-#}
{% macro identity_score_pairs(pairs, left, right, comparisons, weights, functions='rules', levels=none) -%}
    select
        levels.left_id,
        levels.right_id,
        levels.blocking_rules,
        {%- for c in comparisons %}
        levels.{{ c.comparison }}_level,
        round(coalesce(weight_{{ c.comparison }}.match_weight, 0)::numeric, 2) as {{ c.comparison }}_weight,
        {%- endfor %}
        round((
            coalesce((select ln(m_probability::float8 / u_probability::float8) / ln(2) from {{ weights }} where comparison = 'prior'), 0)
            {%- for c in comparisons %}
            + coalesce(weight_{{ c.comparison }}.match_weight, 0)
            {%- endfor %}
        )::numeric, 2) as match_score,
        concat_ws('; ',
            {%- for c in comparisons %}
            case when levels.{{ c.comparison }}_level <> 'null' then '{{ c.comparison }}=' || levels.{{ c.comparison }}_level end{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as match_reason,
        {%- set name_comparisons = comparisons | selectattr('kind', 'equalto', 'name') | list %}
        {%- if name_comparisons %}
        ({% for c in name_comparisons %}levels.{{ c.comparison }}_level not in ('different', 'null'){% if not loop.last %} or {% endif %}{% endfor %}) as has_name_agreement
        {%- else %}
        true as has_name_agreement
        {%- endif %}
    from (
        {%- if levels %}
        select * from {{ levels }}
        {%- else %}
        {{ identity_pair_levels(pairs, left, right, comparisons, functions) }}
        {%- endif %}
        -- offset 0 keeps this a subquery: flattened, each level's CASE (Jaro–Winkler included) was
        -- copied into every place that reads it and evaluated four or five times per pair
        offset 0
    ) as levels
    {%- for c in comparisons %}
    left join (
        -- float, once per level (offset 0): a numeric log in the flattened query ran twice per pair
        -- and comparison, most of the scoring time on 88k pairs
        select comparison, level, ln(m_probability::float8 / u_probability::float8) / ln(2) as match_weight
        from {{ weights }}
        offset 0
    ) as weight_{{ c.comparison }}
        on weight_{{ c.comparison }}.comparison = '{{ c.comparison }}'
        and weight_{{ c.comparison }}.level = levels.{{ c.comparison }}_level
    {%- endfor %}
{%- endmacro %}

{#-
    Best candidate per left record, no chaining: each record gets at most one right id.
    linked  score ≥ link_threshold, at least tie_margin bits ahead of the runner-up, and the name
            does not disagree (some name-kind comparison at a level other than 'different': birth
            date, sex, address and school alone never link — twins share them; require_name=false
            drops this guard for data without households, e.g. FEBRL, whose corruption replaces
            whole names);
    review  otherwise, when the score is ≥ review_threshold;  unmatched  below.
-#}
{% macro identity_resolve_pairs(scored, link_threshold, review_threshold, tie_margin, require_name=true) -%}
    select
        ranked.left_id,
        ranked.right_id,
        ranked.match_score,
        ranked.runner_up_score,
        ranked.match_reason,
        case
            when ranked.match_score >= {{ link_threshold }}
                and (ranked.runner_up_score is null or ranked.match_score - ranked.runner_up_score >= {{ tie_margin }})
                {%- if require_name %}
                and ranked.has_name_agreement
                {%- endif %}
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


{#-
    Dedupe (one file): every scored pair on its own — linked (score ≥ link_threshold and the name
    does not disagree), review (≥ review_threshold) or unmatched; the caller clusters the links.
-#}
{% macro identity_resolve_dedupe(scored, link_threshold, review_threshold, require_name=true) -%}
    select
        {{ scored }}.left_id,
        {{ scored }}.right_id,
        {{ scored }}.match_score,
        null::numeric as runner_up_score,
        {{ scored }}.match_reason,
        case
            when {{ scored }}.match_score >= {{ link_threshold }}{% if require_name %} and {{ scored }}.has_name_agreement{% endif %} then 'linked'
            when {{ scored }}.match_score >= {{ review_threshold }} then 'review'
            else 'unmatched'
        end as link_status
    from {{ scored }}
{%- endmacro %}
