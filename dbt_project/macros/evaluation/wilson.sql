{#-
    Wilson score interval of a proportion k / n at z (default 1.96, 95 %): sound for tiny counts
    (never below 0 or above 1, not empty at k = 0 or k = n), where the normal interval is not.
    Null when n = 0. docs/evaluation.md.
-#}
{% macro _wilson(k, n, z, sign) -%}
    case when ({{ n }}) > 0 then round({{ 'greatest(0::numeric' if sign == '-' else 'least(1::numeric' }}, (
        (({{ k }})::numeric / ({{ n }})::numeric + ({{ z }})::numeric ^ 2 / (2 * ({{ n }})::numeric))
        {{ sign }} ({{ z }})::numeric * sqrt(
            (({{ k }})::numeric / ({{ n }})::numeric) * (1 - ({{ k }})::numeric / ({{ n }})::numeric) / ({{ n }})::numeric
            + ({{ z }})::numeric ^ 2 / (4 * ({{ n }})::numeric ^ 2)
        )
    ) / (1 + ({{ z }})::numeric ^ 2 / ({{ n }})::numeric)), 4) end
{%- endmacro %}

{% macro wilson_lower(k, n, z=1.96) -%}
    {{ _wilson(k, n, z, '-') }}
{%- endmacro %}

{% macro wilson_upper(k, n, z=1.96) -%}
    {{ _wilson(k, n, z, '+') }}
{%- endmacro %}

{#-
    A proportion k / n as the three columns <name>_share, <name>_lower and <name>_upper: the share
    rounded to 4 places (null when n = 0) and its Wilson interval at z (outcome_yield's yields).
-#}
{% macro share_with_bounds(k, n, name, z=1.96) -%}
    round(({{ k }})::numeric / nullif({{ n }}, 0), 4) as {{ name }}_share,
    {{ wilson_lower(k, n, z) }} as {{ name }}_lower,
    {{ wilson_upper(k, n, z) }} as {{ name }}_upper
{%- endmacro %}
