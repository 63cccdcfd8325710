{#-
    Data-quality findings for IT (domain.md §3): records whose 宛名番号 is not on the spine or
    disagrees with the resident's birth date, sex or kana. No personal values, only which check.
-#}
with

checks as (

    select * from {{ ref('int_identity__atena_checks') }}

),

findings as (

    select record_id, raw_table, source_file, source_row_number, 'atena_not_on_spine' as finding_code
    from checks
    where not is_on_spine

    union all

    select record_id, raw_table, source_file, source_row_number, 'birth_date_mismatch'
    from checks
    where birth_date_check = 'disagree'

    union all

    select record_id, raw_table, source_file, source_row_number, 'sex_mismatch'
    from checks
    where sex_check = 'disagree'

    union all

    select record_id, raw_table, source_file, source_row_number, 'kana_mismatch'
    from checks
    where kana_check = 'disagree'

),

final as (

    select
        record_id,
        raw_table,
        source_file,
        finding_code,
        case finding_code
            when 'atena_not_on_spine' then '宛名番号が当月の住民記録にありません / the 宛名番号 is not on this month''s resident registry'
            when 'birth_date_mismatch' then '宛名番号の生年月日と一致しません / birth date disagrees with the resident of this 宛名番号'
            when 'sex_mismatch' then '宛名番号の性別と一致しません / sex disagrees with the resident of this 宛名番号'
            when 'kana_mismatch' then '宛名番号のカナ氏名と一致しません / kana name disagrees with the resident of this 宛名番号'
        end as message,
        source_row_number,
        {{ run_month() }} as run_month
    from findings

)

select * from final
