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
