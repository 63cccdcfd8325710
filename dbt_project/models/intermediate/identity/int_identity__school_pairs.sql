{#-
    Stage 2 of probabilistic matching: scored candidate pairs for 出欠, 学校健診, 就学援助 and 給食費
    (no 宛名番号; macros/identity/stage_pairs.sql). The residents carry their 学齢簿 context
    (児童生徒番号, 学校) from int_identity__pupil_context, so a record's student number and school are
    compared with the pupil's, and blocking on 児童生徒番号 finds the pupil even when name and birth
    date are off.
-#}
{{ identity_stage_pairs(2, ref('int_identity__spine_with_context')) }}
