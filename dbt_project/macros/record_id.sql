{#-
    record_id: a raw row of the run month's attempt, `<raw_table>:<row>` — the row of the file as
    delivered (source_row_number). A town's mapping (mimamori.sources, docs/onboarding.md) may append
    several delivered files into one contract file, and their row numbers repeat; a row whose
    source_file is not the contract's own file name therefore carries it:
    `<raw_table>:<delivered file>:<row>`. Files delivered in the contract layout keep `<raw_table>:<row>`.
-#}
{% macro record_id(raw_table, contract_file) -%}
    '{{ raw_table }}:' || coalesce(nullif(source_file, '{{ contract_file }}') || ':', '') || source_row_number
{%- endmacro %}
