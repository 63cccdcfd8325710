"""Learning from what the conference decides (issue #23, docs/evaluation.md).

* :mod:`~mimamori.learning.rules` — the rule seeds as data, and re-scoring cached item matches
  with any variant of them (the same arithmetic as the dbt marts, tested against them);
* :mod:`~mimamori.learning.towns` — run the pipeline once per town-month and cache what a rule
  variant needs (matched items, children, already supported);
* :mod:`~mimamori.learning.fit` — per-type weights from outcome margins, regularised toward the
  current points, as whole-number points;
* :mod:`~mimamori.learning.whatif` — a proposal against the current rule over the last months,
  and the guard that refuses one;
* :mod:`mimamori.synth.conferences` simulates conferences with imperfect human judgement;
  :mod:`mimamori.pool` exports margins that may leave a town and fits several towns' exports.

Nothing here changes a rule: a proposal is a seed diff that people review and commit.
"""
