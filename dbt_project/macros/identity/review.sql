{#-
    The order of a record's candidate residents in the review marts (identity_review_queue,
    identity_review_candidates): best score first, ties by person id, numbered from 1 per record
    (`pairs` is a relation with left_id = record, right_id = resident, match_score). Both marts
    keep the first three, so the queue and the waterfall list the same candidates in the same order.
-#}
{% macro identity_candidate_rank(pairs) -%}
    row_number() over (
        partition by {{ pairs }}.left_id order by {{ pairs }}.match_score desc, {{ pairs }}.right_id asc
    )
{%- endmacro %}

{#-
    The columns that name a delivered record in the review marts, from int_identity__links:
    record_id, record_key (the same every month), raw_table and source_file.
-#}
{% macro identity_record_columns(links) -%}
    {{ links }}.record_id,
    {{ links }}.record_key,
    {{ links }}.raw_table,
    {{ links }}.source_file
{%- endmacro %}
