{#-
    HMAC-SHA256 (RFC 2104) in plain SQL with PostgreSQL's built-in sha256(bytea), so pseudonyms
    need no extension (pgcrypto is not installed in the warehouse). `message` is a text
    expression, `key` a text expression (the secret); returns the hex digest (64 chars).
    The key-derived pads are uncorrelated subqueries, so PostgreSQL computes them once per query.
    int4xor is the function behind PostgreSQL's `#` (XOR) operator, called by name because the
    SQL linter (sqlfluff) cannot read `#`.
-#}
{% macro hmac_sha256(message, key) -%}
    encode(sha256(
        (
            select decode(string_agg(lpad(to_hex(int4xor(get_byte(padded_key.k, i), 92)), 2, '0'), '' order by i), 'hex')
            from {{ _hmac_padded_key(key) }}, generate_series(0, 63) as i
        )
        || sha256(
            (
                select decode(string_agg(lpad(to_hex(int4xor(get_byte(padded_key.k, i), 54)), 2, '0'), '' order by i), 'hex')
                from {{ _hmac_padded_key(key) }}, generate_series(0, 63) as i
            )
            || convert_to({{ message }}, 'UTF8')
        )
    ), 'hex')
{%- endmacro %}

{#- The key as a 64-byte block: hashed first if longer than the block, then zero-padded. -#}
{% macro _hmac_padded_key(key) -%}
    (
        select block || decode(repeat('00', 64 - length(block)), 'hex') as k
        from (
            select case
                when length(convert_to({{ key }}, 'UTF8')) > 64 then sha256(convert_to({{ key }}, 'UTF8'))
                else convert_to({{ key }}, 'UTF8')
            end as block
        ) as key_block
    ) as padded_key
{%- endmacro %}

{#-
    The analyst's pseudonym of a person: HMAC-SHA256 of the 宛名番号 keyed with MIMAMORI_PSEUDO_KEY
    (a new key gives new ids, so the link to earlier releases can be cut by rotating it). Without a
    key the pseudonymised marts are built empty, with a warning, rather than with guessable ids.
-#}
{% macro pseudo_key() -%}
    {{- return(env_var('MIMAMORI_PSEUDO_KEY', '')) -}}
{%- endmacro %}

{% macro pseudo_id(column) -%}
    {%- set key = pseudo_key() -%}
    {{ hmac_sha256(column, "'" ~ (key | replace("'", "''")) ~ "'") }}
{%- endmacro %}

{% macro pseudo_enabled() -%}
    {%- set enabled = pseudo_key() | length > 0 -%}
    {%- if execute and not enabled -%}
        {{ log("MIMAMORI_PSEUDO_KEY is not set: the pseudonymised marts are built empty", info=true) }}
    {%- endif -%}
    {{- return(enabled) -}}
{%- endmacro %}
