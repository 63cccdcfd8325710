{#- No address may be published for a resident under 支援措置 or in such a resident's household. -#}
{% test address_withheld_when_protected(model, column_name) %}
    select person_id
    from {{ model }}
    where {{ column_name }} is not null
      and (has_dv_protection or is_address_withheld)
{% endtest %}
