{#-
    Deterministic links on 宛名番号 (domain.md §3): a record claiming a number links to that
    resident only if the number is on the spine and the birth date, sex and kana the record
    carries agree (kana: equal after normalisation, or the same given name under another surname
    — a divorce). A disagreement is a finding for IT; such records are then matched like records
    without a number. A manual 'different' decision for the pair also fails the check.
-#}
with

records as (

    select * from {{ ref('int_identity__records') }}
    where claimed_atena_no is not null

),

spine as (

    select * from {{ ref('int_identity__spine') }}

),

decisions as (

    select * from {{ ref('int_identity__decisions') }}

),

compared as (

    select
        records.*,
        spine.person_id,
        case
            when records.birth_date is null then 'n/a'
            when records.birth_date = spine.birth_date then 'agree'
            else 'disagree'
        end as birth_date_check,
        case
            when records.sex is null then 'n/a'
            when records.sex = spine.sex then 'agree'
            else 'disagree'
        end as sex_check,
        case
            when records.kana_norm is null then 'n/a'
            when records.kana_norm = spine.kana_norm then 'agree'
            when spine.given_kana_norm is not null
                and length(records.kana_norm) > length(spine.given_kana_norm)
                and right(records.kana_norm, length(spine.given_kana_norm)) = spine.given_kana_norm
                then 'agree_given_name'
            else 'disagree'
        end as kana_check,
        spine.person_id is not null as is_on_spine,
        decisions.decision = 'different' as is_ruled_out
    from records
    left join spine
        on records.claimed_atena_no = spine.person_id
    left join decisions
        on records.record_key = decisions.record_key
        and spine.person_id = decisions.person_id

),

final as (

    select
        record_id,
        record_key,
        raw_table,
        source_file,
        claimed_atena_no,
        person_id,
        birth_date_check,
        sex_check,
        kana_check,
        concat_ws('; ',
            'atena_no',
            case when birth_date_check <> 'n/a' then 'birth_date=' || birth_date_check end,
            case when sex_check <> 'n/a' then 'sex=' || sex_check end,
            case when kana_check <> 'n/a' then 'kana=' || kana_check end,
            case when coalesce(is_ruled_out, false) then 'manual=different' end
        ) as check_reason,
        source_row_number,
        is_on_spine,
        coalesce(is_ruled_out, false) as is_ruled_out,
        is_on_spine
            and birth_date_check <> 'disagree'
            and sex_check <> 'disagree'
            and kana_check <> 'disagree'
            and not coalesce(is_ruled_out, false) as has_passed
    from compared

)

select * from final
