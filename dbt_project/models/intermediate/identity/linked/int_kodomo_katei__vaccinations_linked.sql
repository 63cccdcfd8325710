{#- stg_kodomo_katei__vaccinations with the resident each record is linked to (macros/identity/linked_records.sql). -#}
{{ identity_linked_records(ref('stg_kodomo_katei__vaccinations')) }}
