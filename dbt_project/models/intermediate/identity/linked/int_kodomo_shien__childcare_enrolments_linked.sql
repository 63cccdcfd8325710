{#- stg_kodomo_shien__childcare_enrolments with the resident each record is linked to (macros/identity/linked_records.sql). -#}
{{ identity_linked_records(ref('stg_kodomo_shien__childcare_enrolments')) }}
