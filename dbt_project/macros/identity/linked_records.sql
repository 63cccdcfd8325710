{#-
    A source's staged records with the resident each one is linked to (int_identity__links):
    person_id (null unless link_status = 'linked'), household_id, link_status, link_method,
    match_score. Each models/intermediate/identity/linked view is this macro over one staging
    model; the item rules read those views through the linked() macro.
-#}
{% macro identity_linked_records(records) -%}
with

records as (

    select * from {{ records }}

),

links as (

    select * from {{ ref('int_identity__links') }}

),

final as (

    select
        records.*,
        links.person_id,
        links.household_id,
        links.link_status,
        links.link_method,
        links.match_score
    from records
    left join links
        on records.record_id = links.record_id

)

select * from final
{%- endmacro %}
