{#- Rows whose values of `columns` occur more than once. -#}
{% test identity_unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Rows whose column_name value also occurs in other_column of the same model. -#}
{% test identity_not_among(model, column_name, other_column) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} in (select {{ other_column }} from {{ model }})
{% endtest %}

{#- Rows whose column_name value (when not null) does not match the regular expression `pattern`. -#}
{% test identity_matches(model, column_name, pattern) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
        and upper({{ column_name }}) !~ '{{ pattern }}'
{% endtest %}
