{#- The run month and its as-of date (基準日, the month's last day): domain.md §8. -#}
{% macro run_month() -%}
    {%- set month = var('run_month') -%}
    {%- if execute and (month is none or modules.re.match('^[0-9]{4}-(0[1-9]|1[0-2])$', month | string) is none) -%}
        {{ exceptions.raise_compiler_error("var run_month must be YYYY-MM, e.g. --vars '{run_month: 2026-10}'; got: " ~ month) }}
    {%- endif -%}
    '{{ month }}'
{%- endmacro %}

{% macro as_of_date() -%}
    (to_date({{ run_month() }}, 'YYYY-MM') + interval '1 month' - interval '1 day')::date
{%- endmacro %}

{#- Age under 年齢計算ニ関スル法律: full years from birth to the as-of date + 1 day. -#}
{% macro age_on(birth_date, as_of) -%}
    extract(year from age(({{ as_of }})::date + 1, {{ birth_date }}))::integer
{%- endmacro %}

{#-
    The attempt whose raw rows this build reads (var run_id, mimamori.attempts): raw keeps every
    attempt of a month side by side, so a re-run never mixes them. Required: without it a build
    would not know which rows are "this run's" (mimamori.dbt.run passes it).
-#}
{% macro attempt_id() -%}
    {%- set attempt = var('run_id', none) -%}
    {%- if execute and not attempt -%}
        {{ exceptions.raise_compiler_error("var run_id (the attempt whose raw rows to read) is required, e.g. --vars '{run_month: 2026-10, run_id: manual__2026-11-16T06:00:00+00:00}'") }}
    {%- endif -%}
    '{{ attempt | replace("'", "''") }}'
{%- endmacro %}
