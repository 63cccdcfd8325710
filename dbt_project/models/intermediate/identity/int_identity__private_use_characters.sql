{#-
    Private-use characters (外字) in the names and kana the departments delivered this month, per
    file and code point: how many records carry each, and whether the town's 外字 table
    (seed gaiji_map) maps it. The identity gate reports the unmapped ones to the file's data
    owners by file, code point and count — never a name, a row or a value (docs/identity.md).
-#}
{%- set pua = identity_private_use_class() -%}
with

records as (

    select raw_table, source_file, record_id, record_name as name, record_name_kana as name_kana
    from {{ ref('int_identity__records') }}
    where record_name ~ '{{ pua }}' or record_name_kana ~ '{{ pua }}'

),

residents as (

    select 'jumin__residents' as raw_table, source_file, record_id, name, name_kana
    from {{ ref('stg_jumin__residents') }}
    where name ~ '{{ pua }}' or name_kana ~ '{{ pua }}'

),

delivered as (

    select * from records
    union all
    select * from residents

),

characters as (

    select distinct
        delivered.raw_table,
        delivered.source_file,
        delivered.record_id,
        {{ identity_code_point('chars.character') }} as code_point
    from delivered
    cross join lateral unnest(string_to_array(coalesce(delivered.name, '') || coalesce(delivered.name_kana, ''), null))
        as chars (character)
    where chars.character ~ '{{ pua }}'

),

gaiji_map as (

    select upper(code_point) as code_point from {{ ref('gaiji_map') }}

),

final as (

    select
        characters.raw_table,
        characters.source_file,
        characters.code_point,
        count(*)::integer as n_records,
        bool_or(gaiji_map.code_point is not null) as is_mapped
    from characters
    left join gaiji_map
        on characters.code_point = gaiji_map.code_point
    group by characters.raw_table, characters.source_file, characters.code_point

)

select * from final
