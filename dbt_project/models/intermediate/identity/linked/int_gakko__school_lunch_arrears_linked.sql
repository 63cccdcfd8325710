{#- stg_gakko__school_lunch_arrears with the resident each record is linked to (macros/identity/linked_records.sql). -#}
{{ identity_linked_records(ref('stg_gakko__school_lunch_arrears')) }}
