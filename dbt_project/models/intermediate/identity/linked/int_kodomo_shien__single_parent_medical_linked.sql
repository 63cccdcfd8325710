{#- stg_kodomo_shien__single_parent_medical_grants with the resident each record is linked to (macros/identity/linked_records.sql). -#}
{{ identity_linked_records(ref('stg_kodomo_shien__single_parent_medical_grants')) }}
