"""Issue #23 on the session's judged town (docs/evaluation.md).

* re-scoring the judged month's matched items in Python gives exactly the marts' scores, flags,
  total points and proposed households — the benchmark and the what-if try rule variants with
  this code, so it must be the rules' own arithmetic;
* conference outcomes, recorded by a coordinator on the case screen (HTTP: login, CSRF, the form),
  become the outcome history and the per-type yield with the right counts;
* the benchmark's code path on one month: simulated conferences, margins, a fit that stays at the
  current points with a handful of outcomes, thresholds, what-if, guard, proposal files.
Personal values are wrapped (learning.helpers.Hidden) so a failure prints counts, never an id.
"""

from __future__ import annotations

import stat

import pandas as pd
import pytest
from town_fixtures import MONTH

from learning.helpers import Hidden, month_from_marts


@pytest.fixture(scope="module")
def rules():
    from mimamori.learning.rules import RuleSet

    return RuleSet.load()


def test_rescoring_equals_the_marts(judged_conn, rules):
    from mimamori.learning.rules import rank_households, total_points, type_scores

    md = month_from_marts(judged_conn, MONTH)
    ours = type_scores(rules, md.matches, md.children)
    theirs = pd.DataFrame(
        judged_conn.execute("select person_id, type_code, score, is_flagged from marts.child_type_scores").fetchall(),
        columns=["person_id", "type_code", "score", "is_flagged"],
    )
    merged = ours.merge(theirs, on=["person_id", "type_code"], how="outer", suffixes=("", "_mart"), indicator=True)
    assert (merged["_merge"] == "both").all(), (
        f"{(merged['_merge'] != 'both').sum()} child × type rows differ in presence"
    )
    assert (merged["score"] == merged["score_mart"].astype(int)).all(), "scores differ"
    assert (merged["is_flagged"] == merged["is_flagged_mart"]).all(), "flags differ"
    assert merged["is_flagged"].sum() > 0

    points = total_points(rules, md.matches, md.children)
    mart_points = dict(judged_conn.execute("select person_id, total_points from marts.child_scores").fetchall())
    differ = sum(1 for p, v in points.items() if int(mart_points[p]) != int(v))
    assert differ == 0, f"{differ} children's total points differ"

    excluded = {
        r[0]
        for r in judged_conn.execute(
            "select person_id from marts.child_exclusions union select person_id from marts.follow_ups"
        )
    }
    ours_hh = rank_households(rules, ours, points, md.children, excluded)
    theirs_hh = judged_conn.execute(
        "select household_id, household_rank, is_proposed from marts.household_candidates order by household_rank"
    ).fetchall()
    assert [Hidden(h) for h in ours_hh["household_id"]] == [Hidden(h) for h, _, _ in theirs_hh]
    assert list(ours_hh["is_proposed"]) == [p for _, _, p in theirs_hh]


def test_outcomes_become_history_and_yield(conference, judged_conn, rules):
    """The outcomes the coordinator recorded on the case screen for the month's proposed children:
    the history carries each with its judgement; the yield counts them per type; known-to-the-town
    follows the seed."""
    from mimamori.synth.conferences import known_to_town, load_known_registers

    assert len(conference) >= 3
    history = judged_conn.execute(
        "select person_id, outcome, flagged_types, is_known from marts.conference_outcome_history"
        " where judged_run_month = %s",
        (MONTH,),
    ).fetchall()
    assert sorted((Hidden(p), o) for p, o, *_ in history) == sorted((Hidden(p), o) for p, o in conference)
    md = month_from_marts(judged_conn, MONTH)
    known = known_to_town(md, load_known_registers(), set())
    assert all(bool(k) == bool(known[p]) for p, _, _, k in history), "known to the town differs from the seed's rule"
    flagged = dict(judged_conn.execute("select person_id, flagged_types from marts.child_scores").fetchall())
    expected: dict[str, list[int]] = {}
    for person, outcome in conference:
        for t in ["_any", *(flagged[person] or "").split()]:
            e = expected.setdefault(t, [0, 0, 0])
            e[0] += 1
            e[1] += outcome == "要支援"
            e[2] += outcome in ("要支援", "調査継続", "経過観察")
    got = {
        t: [d, n, c]
        for t, d, n, c in judged_conn.execute(
            "select type_code, discussed_count, needs_support_count, concern_count from marts.outcome_yield"
            " where judged_run_month = %s and discussed_count > 0",
            (MONTH,),
        ).fetchall()
    }
    assert got == expected
    assert expected["_any"][1] < expected["_any"][0], "every outcome 要支援: the shares would prove nothing"
    lo, hi, share = judged_conn.execute(
        "select needs_support_lower, needs_support_upper, needs_support_share from marts.outcome_yield"
        " where type_code = '_any' and judged_run_month = %s",
        (MONTH,),
    ).fetchone()
    assert 0 <= lo <= share <= hi <= 1


def test_the_benchmark_code_path_on_one_month(judged_town, judged_conn, rules, tmp_path):
    """One month of conferences gives a handful of outcomes: the fit stays at the current points
    (the prior at today's rule dominates), the thresholds stay, the what-if shows no change, the
    guard lets it through, and the proposal's diff is empty; the id file is the coordinator's."""
    from mimamori import pool
    from mimamori.learning import fit, proposal, whatif
    from mimamori.synth import conferences

    md = month_from_marts(judged_conn, MONTH, judged_town.town_dir)
    history = conferences.simulate(rules, [md], seed="test")
    assert 3 <= len(history) <= 40
    assert set(history["outcome"]) <= set(conferences.OUTCOMES)
    fits = fit.fit(fit.margins_from_history(history, rules, "town"), rules)
    assert all(f.points == f.current_points for f in fits)
    proposed = whatif.choose_thresholds(rules, fit.proposed_weights(fits), [md])
    assert {t: r.threshold for t, r in proposed.types.items()} == {t: r.threshold for t, r in rules.types.items()}
    result = whatif.what_if(rules, proposed, [md])
    assert not result.gained and not result.lost
    assert whatif.guard(result) == []
    assert set(result.fairness["dimension"]) == set(whatif.DIMENSIONS)
    out = proposal.write_proposal(tmp_path / "proposal", rules, proposed, result, [])
    assert (out / "seed.diff").read_text(encoding="utf-8") == ""
    assert stat.S_IMODE((out / "whatif_ids.csv").stat().st_mode) == 0o600
    document = pool.export_margins(
        history.rename(columns={"month": "judged_run_month"}), rules, [MONTH], threshold=5, town="test"
    ).document
    text = str(document)
    assert not any(p in text for p in md.children["person_id"]), "an id in the pool export"
    assert not any(h in text for h in md.children["household_id"]), "a household id in the pool export"
