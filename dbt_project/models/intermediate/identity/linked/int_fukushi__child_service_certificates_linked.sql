{#- stg_fukushi__disabled_child_service_certificates with the resident each record is linked to (macros/identity/linked_records.sql). -#}
{{ identity_linked_records(ref('stg_fukushi__disabled_child_service_certificates')) }}
