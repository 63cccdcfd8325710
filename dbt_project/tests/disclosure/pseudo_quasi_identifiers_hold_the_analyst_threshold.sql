{#-
    The analyst's rows (published_pseudo) are k-anonymous on their quasi-identifiers: every
    combination of age band, sex and the set of types whose age range the child is in (which
    splits 0–2 at age 1 and 6–11 at age 10) holds at least the analyst threshold of children
    (seed disclosure_rules; docs/disclosure.md). A failing row names a combination and its count,
    never a child.
-#}
with

scores as (

    select * from {{ ref('pseudo_child_scores') }}

),

type_scores as (

    select * from {{ ref('pseudo_child_type_scores') }}

),

rules as (

    select threshold from {{ ref('disclosure_rules') }}
    where audience = 'analyst'

),

in_range as (

    select
        pseudo_child_id,
        string_agg(type_code, ' ' order by type_code) filter (where is_in_age_range) as in_range_types
    from type_scores
    group by pseudo_child_id

),

classes as (

    select
        scores.age_band,
        scores.sex,
        coalesce(in_range.in_range_types, '') as in_range_types,
        count(*) as children
    from scores
    left join in_range
        on scores.pseudo_child_id = in_range.pseudo_child_id
    group by scores.age_band, scores.sex, coalesce(in_range.in_range_types, '')

)

select classes.*
from classes
cross join rules
where classes.children < rules.threshold
