"""Great Expectations suites of mimamori, as code (docs/quality.md).

The modules here describe *what* each gate checks, as :class:`checks.Check` objects that carry
their GX expectation, a Japanese description for the data owner's e-mail and, where rows can be
named, the SQL predicate that finds the offending rows (row numbers only: GX itself runs with a
result format that keeps no values). ``mimamori.quality`` turns them into GX suites
(add-or-update), runs them and builds the data docs. Nothing here imports GX at module level.

- ``raw_suites``: one suite per raw table, grouped per source (one checkpoint per department);
- ``identity_suite``: unmatched / review shares of each source's records after 名寄せ;
- ``marts_suite``: flagged share per type, evidence behind every flag, ages 0–18;
- ``thresholds.yml``: every number the town may tune.
"""
