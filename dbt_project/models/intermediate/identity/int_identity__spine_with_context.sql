{#-
    The spine with each resident's 学齢簿 context (児童生徒番号, 学校): the candidates of stage 2.
    A table of its own, analysed, so that the matcher's blocking joins (two per rule) read one
    relation with statistics instead of re-joining the spine to the context each time
    (docs/benchmarks.md).
-#}
with

spine as (

    select * from {{ ref('int_identity__spine') }}

),

pupil_context as (

    select * from {{ ref('int_identity__pupil_context') }}

),

final as (

    select
        spine.id,
        spine.person_id,
        spine.household_id,
        spine.name_norm,
        spine.given_norm,
        spine.alias_norm,
        spine.reading_key,
        spine.name_key,
        spine.kana_norm,
        spine.given_kana_norm,
        spine.kana_key,
        spine.sex,
        spine.address_norm,
        pupil_context.school,
        pupil_context.student_no,
        spine.birth_year,
        spine.birth_date
    from spine
    left join pupil_context
        on spine.person_id = pupil_context.person_id

)

select * from final
