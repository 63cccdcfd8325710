"""ケース画面 (the case screen): conference outcomes, hand entry, identity review, 情報収集シート.

A small server-rendered FastAPI application for the coordinating team's staff (domain.md §1
steps 4–8, §6). It reads the published judgement (schema ``published`` by default) as the
database role ``casework`` and writes only to schema ``casework``: conference outcomes, hand-entered
items and identity decisions become a source of the next monthly run; staff accounts, sessions and
the append-only audit log are its own tables.

    python -m mimamori.casescreen init-db                 # as role transformer: its tables
    python -m mimamori.casescreen add-user sato --role caseworker
    python -m mimamori.casescreen serve                   # uvicorn on 127.0.0.1:<casescreen_port>

It lives in ``include/`` beside the rest of the package because it shares the settings, the
database roles and the month arithmetic with the pipeline, and its tests run in the same suite.
"""
