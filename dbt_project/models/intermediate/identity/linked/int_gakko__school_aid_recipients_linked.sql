{#- stg_gakko__school_aid_recipients with the resident each record is linked to (macros/identity/linked_records.sql). -#}
{{ identity_linked_records(ref('stg_gakko__school_aid_recipients')) }}
