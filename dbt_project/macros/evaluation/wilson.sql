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
