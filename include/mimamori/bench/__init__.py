"""Benchmarks: how mimamori's monthly run grows with the town, and how its 名寄せ compares.

    python -m mimamori.bench --scales 1,10,100 [--months 1] [--skip-splink] [--state DIR]

Generates synthetic towns at each scale, runs each stage of the month bare (Python, psycopg and
dbt called directly, no Airflow) measuring wall seconds, peak memory and rows in/out, then the
whole month under ``airflow dags test``; at one scale it compares identity resolution with Splink
(DuckDB) on the same normalised records. Results go to ``docs/benchmarks.md``. A benchmark prints
measured numbers; no test asserts a timing. See docs/benchmarks.md.
"""
