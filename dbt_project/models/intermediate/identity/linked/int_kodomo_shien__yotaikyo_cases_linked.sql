{#- stg_kodomo_shien__yotaikyo_cases with the resident each record is linked to (macros/identity/linked_records.sql). -#}
{{ identity_linked_records(ref('stg_kodomo_shien__yotaikyo_cases')) }}
