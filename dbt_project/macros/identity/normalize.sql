{#-
    Normalisation of names, kana and addresses for identity resolution (名寄せ, domain.md §3).

    These macros are plain Jinja on purpose (no ref/var unless an argument is left out): the
    matcher CLI (python -m mimamori.identity.match) renders this same file with jinja2, so the dbt
    models and the CLI normalise and compare with the same SQL.
-#}

{#- Private-use code points: the primary area (CP932 外字 decode to U+E000–U+E757) and the two
    supplementary planes (where 行政事務標準文字 / MJ+ characters without a Unicode code point sit). -#}
{% macro identity_private_use_class() -%}
    [\uE000-\uF8FF\U000F0000-\U0010FFFD]
{%- endmacro %}

{#- 'U+XXXX' (4 to 6 hex digits) of one character. -#}
{% macro identity_code_point(expr) -%}
    'U+' || upper(case when ascii({{ expr }}) > 65535 then to_hex(ascii({{ expr }})) else lpad(to_hex(ascii({{ expr }})), 4, '0') end)
{%- endmacro %}

{#-
    The town's 外字 table (seed gaiji_map, docs/identity.md) applied before anything else: each
    private-use character with a row becomes the Unicode character(s) the row gives (`unicode`, as
    U+XXXX code points, an IVS allowed); a row with only an MJ code (an MJ+ character with no
    Unicode code point) keeps the character, which then compares as a one-character wildcard.
    Strings without a private-use character are not touched (no lookup).
-#}
{% macro identity_map_gaiji(expr, gaiji=none) -%}
    {%- set gaiji_relation = gaiji if gaiji is not none else ref('gaiji_map') -%}
    {%- set pua = identity_private_use_class() -%}
    case when {{ expr }} ~ '{{ pua }}' then (
        select string_agg(
            coalesce(
                (
                    select string_agg(chr(('x' || lpad(code, 8, '0'))::bit(32)::integer), '' order by code_position)
                    from unnest(string_to_array(upper(replace(gaiji_map.unicode, 'U+', '')), ' '))
                        with ordinality as codes (code, code_position)
                    where code <> ''
                ),
                chars.character
            ),
            '' order by chars.position
        )
        from unnest(string_to_array({{ expr }}, null)) with ordinality as chars (character, position)
        left join {{ gaiji_relation }} as gaiji_map
            on chars.character ~ '{{ pua }}'
            and upper(gaiji_map.code_point) = {{ identity_code_point('chars.character') }}
    ) else {{ expr }} end
{%- endmacro %}

{#- Variation selectors (VS1–16, IVS VS17–256) removed: the glyph variant is kept for display only. -#}
{% macro identity_strip_variation_selectors(expr) -%}
    regexp_replace({{ expr }}, '[\uFE00-\uFE0F\U000E0100-\U000E01EF]', '', 'g')
{%- endmacro %}

{#- A name as text to compare: 外字 mapped, variation selectors removed, NFKC; spaces kept. -#}
{% macro identity_name_text(expr, gaiji=none) -%}
    normalize({{ identity_strip_variation_selectors(identity_map_gaiji("coalesce(" ~ expr ~ ", '')", gaiji)) }}, nfkc)
{%- endmacro %}

{#- The name without a trailing 通称 in parentheses (氏名（通称）, as some registers print it). -#}
{% macro identity_name_main(text) -%}
    btrim(regexp_replace({{ text }}, '\s*\([^()]*\)\s*$', ''))
{%- endmacro %}

{#- A name is in Latin script when it has a Latin letter and no kana or kanji. -#}
{% macro identity_is_latin(text) -%}
    ({{ text }} ~ '[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]' and {{ text }} !~ '[\u3040-\u30FF\u3400-\u9FFF\uF900-\uFAFF\U00020000-\U0003FFFF]')
{%- endmacro %}

{#-
    Latin-script name folded for comparison: accents removed (NFD, combining marks dropped; ß, æ,
    œ, ø, ł, đ … spelled out), upper case, apostrophes dropped, any other punctuation (hyphen,
    comma, period) a space, single spaces between the words (their order is kept: the comparison's
    swapped level compares the words in any order).
-#}
{% macro identity_latin_fold(text) -%}
    nullif(btrim(regexp_replace(regexp_replace(regexp_replace(upper(translate(
        regexp_replace(normalize(
            replace(replace(replace(replace(replace(replace({{ text }}, 'ß', 'ss'), 'æ', 'ae'), 'Æ', 'AE'), 'œ', 'oe'), 'Œ', 'OE'), 'ĳ', 'ij'),
            nfd), '[\u0300-\u036F]', '', 'g'),
        'øØđĐłŁıħĦþÞŀĿ', 'oOdDlLihHtTlL')),
        '[''’‘`´]', '', 'g'),
        '[^A-Z0-9]+', ' ', 'g'),
        '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- NFKC, every kind of space removed; '' becomes null. -#}
{% macro identity_clean(expr) -%}
    nullif(regexp_replace(normalize(coalesce({{ expr }}, ''), nfkc), '\s+', '', 'g'), '')
{%- endmacro %}

{#- Part 1 (surname) or 2 (given name) of a name written 姓　名; null when there is no space. -#}
{% macro identity_name_part_raw(expr, part) -%}
    case
        when btrim(normalize(coalesce({{ expr }}, ''), nfkc)) ~ '\s'
            then nullif(split_part(regexp_replace(btrim(normalize({{ expr }}, nfkc)), '\s+', ' ', 'g'), ' ', {{ part }}), '')
    end
{%- endmacro %}

{#-
    Variant kanji folded to their canonical form (髙→高, 﨑→崎, 邊/邉→辺, 齋→斎, 齊→斉, 德→徳)
    with the seed kanji_variants (MJ 縮退マップ, 戸籍法関連通達 scheme). One character at a time,
    through the seed's key: a correlated subquery that the planner runs as an index/hash lookup.
-#}
{% macro identity_fold_kanji(expr, variants=none) -%}
    {%- set variants_relation = variants if variants is not none else ref('kanji_variants') -%}
    (
        select string_agg(coalesce(kanji_variants.canonical, chars.character), '' order by chars.position)
        from unnest(string_to_array({{ expr }}, null)) with ordinality as chars (character, position)
        left join {{ variants_relation }} as kanji_variants
            on kanji_variants.variant = chars.character
    )
{%- endmacro %}

{#-
    Name for comparison. Latin script (foreign residents): folded as identity_latin_fold says.
    Otherwise (kanji/kana): every space removed, variant kanji folded. Before either, the town's
    外字 are mapped, variation selectors dropped, NFKC applied and a trailing （通称） removed.
-#}
{%- macro identity_needs_full_path(expr) -%}
    {{ expr }} ~ '[\uE000-\uF8FF\U000F0000-\U0010FFFD\uFE00-\uFE0F\U000E0100-\U000E01EF(（A-Za-zＡ-Ｚａ-ｚ\u00C0-\u024F\u1E00-\u1EFF]'
{%- endmacro %}

{% macro identity_name_norm(expr, variants=none, gaiji=none) -%}
    {%- set main = identity_name_main(identity_name_text(expr, gaiji)) -%}
    case
        when {{ identity_needs_full_path(expr) }} then (
            select case
                when {{ identity_is_latin('name_main.main') }} then {{ identity_latin_fold('name_main.main') }}
                else {{ identity_fold_kanji(identity_clean('name_main.main'), variants) }}
            end
            from (select {{ main }} as main) as name_main
        )
        else {{ identity_fold_kanji(identity_clean(expr), variants) }}
    end
{%- endmacro %}

{#- Part 1 (surname, or first word) or 2 (given name, or second word), normalised like the name. -#}
{% macro identity_name_part(expr, part, variants=none, gaiji=none) -%}
    {%- set main = identity_name_main(identity_name_text(expr, gaiji)) -%}
    case
        when {{ identity_needs_full_path(expr) }} then (
            select case
                when {{ identity_is_latin('name_main.main') }}
                    then nullif(split_part({{ identity_latin_fold('name_main.main') }}, ' ', {{ part }}), '')
                else {{ identity_fold_kanji(identity_name_part_raw('name_main.main', part), variants) }}
            end
            from (select {{ main }} as main) as name_main
        )
        else {{ identity_fold_kanji(identity_name_part_raw(expr, part), variants) }}
    end
{%- endmacro %}

{#- The 通称 written in parentheses after the name (氏名（通称）), normalised like a name; else null. -#}
{% macro identity_alias_norm(expr, variants=none, gaiji=none) -%}
    case when {{ expr }} ~ '[(（]' then
        {{ identity_name_norm("substring(" ~ identity_name_text(expr, gaiji) ~ " from '\(([^()]*)\)\s*$')", variants, gaiji) }}
    end
{%- endmacro %}

{#-
    A name written only in kana (a foreign pupil's name in katakana, a child's name in hiragana):
    its reading as kana words, normalised, sorted (like identity_kana_key) — compared with the
    other side's カナ氏名 (level 'reading'); null for any other name (no work for those).
-#}
{% macro identity_reading_key(expr, gaiji=none) -%}
    case when {{ expr }} ~ '^[\u3041-\u309F\u30A0-\u30FF\uFF65-\uFF9F\s・=＝]+$' then {{ identity_kana_key(expr) }} end
{%- endmacro %}

{#- The words of a normalised name in alphabetical order (swapped order and middle names compare on it). -#}
{% macro identity_token_key(expr) -%}
    (
        select string_agg(word, ' ' order by word)
        from unnest(string_to_array({{ expr }}, ' ')) as words (word)
        where word <> ''
    )
{%- endmacro %}

{#-
    Kana: NFKC (half-width ﾀｶﾊｼ → タカハシ, voiced marks composed), hiragana → katakana, spaces
    removed, then the spelling differences clerks make folded away: small kana → large (ッ→ツ,
    ャ→ヤ …), ヂ→ジ, ヅ→ズ, ヲ→オ, the long-vowel mark dropped and a long vowel written with ウ/オ
    after an o- or u-row kana collapsed (サトウ = サトオ = サトー → サト).
-#}
{% macro identity_kana_norm(expr, separator='') -%}
    nullif(
        regexp_replace(
            regexp_replace(
                replace(
                    translate(
                        translate(
                            regexp_replace(btrim(normalize(coalesce({{ expr }}, ''), nfkc)), '[\s・=]+', '{{ separator }}', 'g'),
                            'ぁあぃいぅうぇえぉおかがきぎくぐけげこごさざしじすずせぜそぞただちぢっつづてでとどなにぬねのはばぱひびぴふぶぷへべぺほぼぽまみむめもゃやゅゆょよらりるれろゎわゐゑをんゔゕゖ',
                            'ァアィイゥウェエォオカガキギクグケゲコゴサザシジスズセゼソゾタダチヂッツヅテデトドナニヌネノハバパヒビピフブプヘベペホボポマミムメモャヤュユョヨラリルレロヮワヰヱヲンヴヵヶ'
                        ),
                        'ァィゥェォッャュョヮヵヶヂヅヲ',
                        'アイウエオツヤユヨワカケジズオ'
                    ),
                    'ー', ''
                ),
                '([オコソトノホモヨロゴゾドボポ])[ウオ]', '\1', 'g'
            ),
            '([ウクスツヌフムユルグズブプ])ウ', '\1', 'g'
        ),
        ''
    )
{%- endmacro %}

{#- The words of a kana name (split at spaces and ・), normalised, in alphabetical order. -#}
{% macro identity_kana_key(expr) -%}
    (
        select string_agg(kana_word, ' ' order by kana_word)
        from unnest(string_to_array({{ identity_kana_norm(expr, ' ') }}, ' ')) as kana_words (kana_word)
        where kana_word <> ''
    )
{%- endmacro %}

{% macro identity_kana_part(expr, part) -%}
    {{ identity_kana_norm(identity_name_part_raw(expr, part)) }}
{%- endmacro %}

{#-
    Address: NFKC; the town's own prefix (prefecture, county, municipality — a list, from var
    identity_address_prefixes) dropped where present; kanji numerals → digits (一丁目, 十二番);
    丁目/番地/番/号/の and dash variants → '-'; ヶ/ヵ/が → ケ; spaces removed.
    一丁目2番3号, 1-2-3, １丁目２−３ all become 1-2-3; 1234番地の5 and 1234-5 become 1234-5.
-#}
{% macro identity_address_norm(expr, prefixes=none) -%}
    {%- set strip = prefixes if prefixes is not none else var('identity_address_prefixes', []) -%}
    {%- set ns = namespace(sql="regexp_replace(normalize(coalesce(" ~ expr ~ ", ''), nfkc), '\\s+', '', 'g')") -%}
    {%- for prefix in strip -%}
        {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", '^" ~ prefix ~ "', '')" -%}
    {%- endfor -%}
    nullif(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace(
                        regexp_replace(
                            replace(replace(replace(replace(
                                translate(
                                    regexp_replace(regexp_replace(regexp_replace(regexp_replace(
                                        {{ ns.sql }},
                                        '([一二三四五六七八九])十([一二三四五六七八九])', '\1\2', 'g'),
                                        '([一二三四五六七八九])十', '\10', 'g'),
                                        '十([一二三四五六七八九])', '1\1', 'g'),
                                        '十', '10', 'g'),
                                    '〇一二三四五六七八九ヶヵが',
                                    '0123456789ケケケ'
                                ),
                                '丁目', '-'), '番地', '-'), '番', '-'), '号', '-'),
                            '[のノ]([0-9])', '-\1', 'g'
                        ),
                        '([0-9])[‐‑‒–—―−ーｰ]+', '\1-', 'g'
                    ),
                    '-{2,}', '-', 'g'
                ),
                '-+([^0-9]|$)', '\1', 'g'
            ),
            '^-+', ''
        ),
        ''
    )
{%- endmacro %}
