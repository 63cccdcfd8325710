{#-
    Stage 1 of probabilistic matching: scored candidate pairs (record × resident) for 学齢簿 rows
    without a 宛名番号 or whose number failed its check (macros/identity/stage_pairs.sql).
-#}
{{ identity_stage_pairs(1, ref('int_identity__spine')) }}
