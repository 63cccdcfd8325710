"""Identity resolution (名寄せ): the variant-kanji map, the generic matcher CLI and the evaluation.

The matching itself is SQL (dbt models under ``dbt_project/models/intermediate/identity`` and the
templated matcher in :mod:`mimamori.identity.matcher`); this package holds what runs around it.
"""
