{#-
    The dashboards' 所属 per child and month (child_affiliations: a row per place the child
    belongs to): on the 学齢簿 (学校), else in childcare (保育所等), else none — for a child of 15 or
    over no record is expected of anyone, so "none" there reads データなし.
-#}
{% macro dashboard_affiliations() -%}
    select
        run_month,
        person_id,
        bool_or(affiliation_type = '学校') as is_on_school_register,
        count(*) > 0 as has_affiliation
    from {{ ref('child_affiliations') }}
    group by run_month, person_id
{%- endmacro %}

{% macro affiliation_label(affiliations, age) -%}
    case
        when {{ affiliations }}.is_on_school_register then '学校'
        when {{ affiliations }}.has_affiliation then '保育所等'
        when {{ age }} >= 15 then 'データなし'
        else 'なし'
    end
{%- endmacro %}
