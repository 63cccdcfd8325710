{#- stg_fukushi__disability_medical_grants with the resident each record is linked to (macros/identity/linked_records.sql). -#}
{{ identity_linked_records(ref('stg_fukushi__disability_medical_grants')) }}
