-- The explanation adds up: per child and type, the points of child_type_items are the score.
with

items as (

    select person_id, type_code, sum(points) as points
    from {{ ref('child_type_items') }}
    group by person_id, type_code

)

select
    scores.person_id,
    scores.type_code
from {{ ref('child_type_scores') }} as scores
left join items
    on scores.person_id = items.person_id
    and scores.type_code = items.type_code
where coalesce(items.points, 0) <> scores.score
