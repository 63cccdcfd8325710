{#- Flagged children who are neither excluded nor followed up: the conference candidates (domain.md §6). -#}
with

scores as (

    select * from {{ ref('child_scores') }}

),

exclusions as (

    select * from {{ ref('child_exclusions') }}

),

follow_ups as (

    select * from {{ ref('follow_ups') }}

),

final as (

    select scores.*
    from scores
    where scores.is_flagged
        and not exists (select 1 from exclusions where exclusions.person_id = scores.person_id)
        and not exists (select 1 from follow_ups where follow_ups.person_id = scores.person_id)

)

select * from final
