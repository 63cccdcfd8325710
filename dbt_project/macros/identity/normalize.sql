{#-
    Normalisation of names, kana and addresses for identity resolution (名寄せ, domain.md §3).

    These macros are plain Jinja on purpose (no ref/var unless an argument is left out): the
    matcher CLI (python -m mimamori.identity.match) renders this same file with jinja2, so the dbt
    models and the CLI normalise and compare with the same SQL.
-#}

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

{#- Kanji name: NFKC, spaces removed, variant kanji folded. -#}
{% macro identity_name_norm(expr, variants=none) -%}
    {{ identity_fold_kanji(identity_clean(expr), variants) }}
{%- endmacro %}

{% macro identity_name_part(expr, part, variants=none) -%}
    {{ identity_fold_kanji(identity_name_part_raw(expr, part), variants) }}
{%- endmacro %}

{#-
    Kana: NFKC (half-width ﾀｶﾊｼ → タカハシ, voiced marks composed), hiragana → katakana, spaces
    removed, then the spelling differences clerks make folded away: small kana → large (ッ→ツ,
    ャ→ヤ …), ヂ→ジ, ヅ→ズ, ヲ→オ, the long-vowel mark dropped and a long vowel written with ウ/オ
    after an o- or u-row kana collapsed (サトウ = サトオ = サトー → サト).
-#}
{% macro identity_kana_norm(expr) -%}
    nullif(
        regexp_replace(
            regexp_replace(
                replace(
                    translate(
                        translate(
                            regexp_replace(normalize(coalesce({{ expr }}, ''), nfkc), '\s+', '', 'g'),
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
