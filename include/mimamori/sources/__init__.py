"""A town's own exports, mapped declaratively to the input contract (issue 21, docs/onboarding.md).

Departments' vendor systems do not export the contract's layout. A town keeps one mapping file
per source in ``towns/<town>/sources/<source>.yaml`` saying how its delivered files become the
contract's files; the loader (mimamori.ingest) applies it before the contract's checks, so every
rule, gate, model and item still reads contract columns only.

- :mod:`mimamori.sources.mapping` — the mapping file: read with line numbers, checked against the contract;
- :mod:`mimamori.sources.readers` — one delivered file: CSV/TSV, an xlsx sheet, fixed width;
- :mod:`mimamori.sources.dates` — declared date styles (和暦, YYYYMMDD, Excel serials …), strictly;
- :mod:`mimamori.sources.apply` — inputs → contract files with lineage, problems as rejections;
- :mod:`mimamori.sources.check` — the dry run (``python -m mimamori.sources check``);
- :mod:`mimamori.sources.profile`, :mod:`~mimamori.sources.scan`, :mod:`~mimamori.sources.fixedguess`,
  :mod:`~mimamori.sources.draft`, :mod:`~mimamori.sources.drafttext` — ``profile``: an export never seen,
  counted (never shown), and a draft mapping with a confidence per column and TODOs for a person;
- :mod:`mimamori.sources.lineage` — gate results told by the delivered file, row and column.

The built-in synthetic town delivers in the contract layout and needs no mapping;
``towns/mimamori-vendor`` maps its こども支援班 written with ``python -m mimamori.synth --vendor-layout``.
"""
