{#-
    The inputs of the marts that score the rules (domain.md §5): child_type_scores,
    child_type_items and leave_one_item_out read the same four relations — the children in scope,
    their judged items, the enabled types and the rules' items — as import CTEs named children,
    judged, types and type_items. One place, so that "only enabled types are scored" is written
    once. Renders the CTEs without the leading `with` and the trailing comma.
-#}
{% macro rule_scoring_imports() -%}
children as (

    select * from {{ ref('int_items__children') }}

),

judged as (

    select * from {{ ref('int_child_items_judged') }}

),

types as (

    select * from {{ ref('types') }}
    where is_enabled

),

type_items as (

    select * from {{ ref('type_items') }}

)
{%- endmacro %}
