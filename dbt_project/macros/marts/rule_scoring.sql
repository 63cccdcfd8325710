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

{#-
    A child's flags per type and overall, as one relation (person_id, type_code,
    is_in_age_range, is_flagged): the types' rows of child_type_scores plus a row '_any' per child
    from child_scores (every child is in range; flagged in any type). What the fairness and
    disclosure breakdowns (flag_disparity, flag_cells) count.
-#}
{% macro flags_by_type_and_any() -%}
    select person_id, type_code, is_in_age_range, is_flagged
    from {{ ref('child_type_scores') }}
    union all
    select person_id, '_any', true, is_flagged
    from {{ ref('child_scores') }}
{%- endmacro %}

{#-
    Adults (18 or over on the as-of date) per household of the month's registry (household_id,
    adult_count): the household type of the fairness and evaluation figures (one adult = a
    single-adult household); a row for every household, 0 where no one is 18 or over.
-#}
{% macro household_adult_counts() -%}
    select
        household_id,
        count(*) filter (where {{ age_on('birth_date', as_of_date()) }} >= 18) as adult_count
    from {{ ref('int_items__residents') }}
    group by household_id
{%- endmacro %}
