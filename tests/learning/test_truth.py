"""Any town supplies its truth as truth/<month>/children.csv (docs/evaluation.md §2): types map to
latent columns through the seed; a town of another generator without a type's column leaves that
type unmeasured instead of guessing."""

from __future__ import annotations

from mimamori.synth.conferences import Judgement, load_truth, load_type_latents


def test_truth_of_another_generator(tmp_path):
    month = tmp_path / "truth" / "2026-10"
    month.mkdir(parents=True)
    (month / "children.csv").write_text(
        "atena_no,poverty,abuse_neglect,school_refusal,other_signal\n0000000001,1,0,0,1\n0000000002,0,1,1,0\n",
        encoding="utf-8",
    )
    latents = load_type_latents()
    assert latents["poverty"] == ["poverty"]
    truth = load_truth(tmp_path, "2026-10", latents)
    assert list(truth["person_id"]) == ["0000000001", "0000000002"]
    assert list(truth["poverty"]) == [True, False]
    assert list(truth["withdrawal"]) == [False, True]
    assert set(truth.attrs["missing_types"]) == {"young_carer", "postpartum_depression", "developmental_disability"}
    assert "young_carer" not in truth.columns


def test_judgement_is_imperfect_both_ways():
    j = Judgement()
    draws = [i / 1000 for i in range(1000)]
    with_difficulty = [j.outcome(True, u) for u in draws]
    without = [j.outcome(False, u) for u in draws]
    assert 0.4 < with_difficulty.count("要支援") / 1000 < 0.5
    assert with_difficulty.count("支援不要") > 0
    assert 0 < without.count("要支援") / 1000 < 0.1
