{#- Helpers of the judgement models (domain.md §4–§8). -#}

{#- First day of the school year (1 April – 31 March) that contains date `d`. -#}
{% macro school_year_start(d) -%}
    make_date(extract(year from ({{ d }})::date - interval '3 months')::integer, 4, 1)
{%- endmacro %}

{#-
    Does evidence fall within an item's look-back on the as-of date? `lookback` is the catalogue's
    column (ever | valid | days:N | years:N | this_school_year | this_or_last_school_year |
    this_month | latest_checkup | this_birth). The last three are snapshots: the fact models pick
    the record that counts, so no date filter applies here.
-#}
{% macro within_lookback(lookback, event_date, valid_from, valid_through, as_of) -%}
    case
        when {{ lookback }} = 'ever'
            then coalesce({{ event_date }}, {{ valid_from }}) <= {{ as_of }}
        when {{ lookback }} = 'valid'
            then coalesce({{ valid_from }}, {{ event_date }}) <= {{ as_of }}
                and ({{ valid_through }} is null or {{ valid_through }} >= {{ as_of }})
        when {{ lookback }} like 'days:%'
            then {{ event_date }} <= {{ as_of }}
                and {{ event_date }} > {{ as_of }} - split_part({{ lookback }}, ':', 2)::integer
        when {{ lookback }} like 'years:%'
            then {{ event_date }} <= {{ as_of }}
                and {{ event_date }} > ({{ as_of }} - make_interval(years => split_part({{ lookback }}, ':', 2)::integer))::date
        when {{ lookback }} = 'this_school_year'
            then {{ event_date }} between {{ school_year_start(as_of) }} and {{ as_of }}
        when {{ lookback }} = 'this_or_last_school_year'
            then {{ event_date }} between ({{ school_year_start(as_of) }} - interval '1 year')::date and {{ as_of }}
        else true
    end
{%- endmacro %}

{#-
    Sources that failed this month under the `skip` policy (domain.md §2): the DAG passes
    --vars '{skipped_sources: [fukushi]}'. Renders a one-column relation (source).
-#}
{% macro skipped_sources_relation() -%}
    {%- set skipped = var('skipped_sources', []) -%}
    {%- if skipped is string -%}
        {%- set skipped = skipped.split(',') | map('trim') | reject('equalto', '') | list -%}
    {%- endif -%}
    {%- if skipped | length == 0 -%}
        (select null::text as source where false) as skipped_sources
    {%- else -%}
        (select source::text from (values
            {%- for s in skipped %}
            ('{{ s | replace("'", "''") }}'){{ "," if not loop.last }}
            {%- endfor %}
        ) as skipped (source)) as skipped_sources
    {%- endif -%}
{%- endmacro %}

{#- A catalogue parameter of an item (30 days, 4 teeth, EPDS 9 …) as a scalar subquery. -#}
{% macro item_param(item_code) -%}
    (select param_value from {{ ref('item_catalogue') }} where item_code = '{{ item_code }}')
{%- endmacro %}

{#- Does a history relation exist? Keeps the project buildable before the first publish. -#}
{% macro history_relation(table_name) -%}
    {%- if execute -%}
        {%- set relation = adapter.get_relation(database=target.database, schema='history', identifier=table_name) -%}
        {{ return(relation) }}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
{%- endmacro %}
