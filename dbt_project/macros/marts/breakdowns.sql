{#-
    The children in scope, each with the area (町名) it is counted under in every published aggregate
    (int_items__reporting_areas: a child under 支援措置 is placed by a fixed rule, never a category of
    its own; docs/disclosure.md): every column of int_items__children plus reporting_area. Read by
    the breakdowns (flag_disparity, flag_cells) and evaluation_children.
-#}
{% macro children_in_reporting_areas() -%}
    select
        children.*,
        reporting_areas.reporting_area
    from {{ ref('int_items__children') }} as children
    inner join {{ ref('int_items__reporting_areas') }} as reporting_areas
        on children.person_id = reporting_areas.person_id
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
