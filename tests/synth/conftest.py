"""One generated town per test session (scale 1, 2 months), plus small towns for faults/determinism."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from mimamori.synth import generate

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "docs" / "contract" / "extracts.csv"


def contract_files() -> dict[tuple[str, str], dict]:
    rows = list(csv.DictReader(open(CONTRACT, encoding="utf-8", newline="")))
    out: dict[tuple[str, str], dict] = {}
    for r in rows:
        f = out.setdefault((r["source"], r["file"]), {"encoding": r["encoding"], "headers": [], "keys": []})
        f["headers"].append((int(r["position"]), r["header"]))
        if r["key"] == "key":
            f["keys"].append(r["header"])
    for f in out.values():
        f["headers"] = [h for _, h in sorted(f["headers"])]
    return out


@pytest.fixture(scope="session")
def town(tmp_path_factory):
    from town_fixtures import generate_town

    out = tmp_path_factory.mktemp("town")
    # the town tests/airflow's DAG runs read: generated once per session (a copy when it ran first)
    summary = generate_town(out, seed=42, scale=1.0, months=2, end_month="2026-10")
    return out, summary


@pytest.fixture(scope="session")
def small_faulty(tmp_path_factory):
    out = tmp_path_factory.mktemp("faulty")
    faults = (
        "wrong_encoding",
        "missing_column",
        "renamed_column",
        "duplicate_key",
        "future_birth_date",
        "bad_era_date:gakko/学齢簿.csv",
        "empty_file",
        "header_only",
        "other_month",
        "truncated_xlsx",
        "missing_source",
        "wrong_encoding:kodomo_katei/妊産婦.csv",
    )
    summary = generate(out, seed=7, scale=0.2, months=2, end_month="2026-10", faults=faults)
    return out, summary
