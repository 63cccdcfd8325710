{#-
    What staff need to decide a record the matcher could not (名寄せ確認: review) or did not link
    (未照合一覧: unmatched): the record as delivered (name, kana, birth date, sex, school, grade,
    student number, claimed 宛名番号 — never an address) and as normalised (the names the matcher
    compared), its status, score and reason, and the decision rule of this run in numbers (the
    case screen puts it in words). One row per record in review or unmatched; records linked to a
    household only (世帯番号) are not listed. Candidates and the waterfall of their scores:
    identity_review_candidates.
-#}
with

links as (

    select * from {{ ref('int_identity__links') }}
    where link_status in ('review', 'unmatched')
        and not (link_method = 'setai_no' and household_id is not null)

),

records as (

    select * from {{ ref('int_identity__records') }}

),

final as (

    select
        {{ identity_record_columns('links') }},
        links.link_status,
        links.link_method,
        case when links.link_method = 'manual' then 'not_in_town' end as decision,
        links.match_reason,
        records.record_name,
        records.record_name_kana,
        records.sex as record_sex,
        records.school as record_school,
        records.grade as record_grade,
        records.student_no as record_student_no,
        records.claimed_atena_no as record_claimed_atena_no,
        records.name_norm,
        records.kana_norm,
        links.match_score,
        links.runner_up_score,
        {{ var('identity_link_threshold') }}::numeric as rule_link_threshold,
        {{ var('identity_review_threshold') }}::numeric as rule_review_threshold,
        {{ var('identity_tie_margin') }}::numeric as rule_tie_margin,
        links.source_row_number,
        records.birth_date as record_birth_date,
        {{ run_month() }} as run_month
    from links
    inner join records
        on links.record_id = records.record_id

)

select * from final
