{#-
    The identity-linked records of one raw table (models/intermediate/identity/linked, generated from
    the source registry by bin/mimamori scaffold), as item rules read them: linked('gakko__attendance').
    The name is the contract's raw table; a name the registry does not hold fails the parse.
-#}
{% macro linked(raw_table) -%}
    {%- set known = registry_files() | rejectattr('spine') | map(attribute='raw_table') | list -%}
    {%- if raw_table not in known -%}
        {{ exceptions.raise_compiler_error("linked(): " ~ raw_table ~ " is not a raw table of the source registry") }}
    {%- endif -%}
    {{ ref('linked_' ~ raw_table) }}
{%- endmacro %}

{#-
    Import CTEs of the records linked to a resident, one per keyword argument (CTE name = raw table):
    linked_imports(attendance='gakko__attendance', school_aid='gakko__school_aid'). Each CTE is
    linked(raw_table) where link_status = 'linked', followed by a comma (more CTEs must follow).
    A CTE with more conditions (a date bound) is written out in the model.
-#}
{% macro linked_imports() -%}
    {{- linked_ctes(kwargs, "link_status = 'linked'") -}}
{%- endmacro %}

{#-
    A 相談記録 row may carry only a 世帯番号: such a row (no 宛名番号) is a fact about that household
    (docs/judgement.md). household_imports(consultations='fukushi__consultations'): as
    linked_imports, plus the household-only rows; record_owner('consultations'): a fact's person_id
    (a row with a 宛名番号, linked) and household_id (a household-only row).
-#}
{% macro household_imports() -%}
    {{- linked_ctes(kwargs, "link_status = 'linked' or (atena_no is null and setai_no is not null)") -}}
{%- endmacro %}

{% macro record_owner(relation) -%}
    case when {{ relation }}.atena_no is not null then {{ relation }}.person_id end as person_id,
    case when {{ relation }}.atena_no is null then {{ relation }}.setai_no end as household_id
{%- endmacro %}

{#- The CTEs of linked_imports / household_imports: {cte name: raw table}, the rows `condition` keeps. -#}
{% macro linked_ctes(ctes, condition) -%}
{%- for name, raw_table in ctes.items() %}
{{ name }} as (

    select * from {{ linked(raw_table) }}
    where {{ condition }}

),
{% endfor -%}
{%- endmacro %}
