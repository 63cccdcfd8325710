"""Conventions of the dbt project that keep every rule testable (issue #6).

dbt runs its unit tests by turning each input into a CTE named ``__dbt__cte__<model>``; PostgreSQL
identifiers stop at 63 bytes, so a model whose name is longer cannot be a unit-test input. And each
of the catalogue's items must be asserted true by at least one unit test, so no item rule is
untested.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
PG_IDENTIFIER_BYTES = 63
CTE_PREFIX = "__dbt__cte__"


def _unit_tests() -> list[dict]:
    tests = []
    for path in sorted((DBT / "models").rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        tests.extend(doc.get("unit_tests") or [])
    return tests


def test_every_model_name_fits_a_unit_test_fixture():
    too_long = [
        path.stem
        for path in (DBT / "models").rglob("*.sql")
        if len((CTE_PREFIX + path.stem).encode("utf-8")) > PG_IDENTIFIER_BYTES
    ]
    assert too_long == [], f"model names too long to be unit-test inputs: {too_long}"


def test_every_catalogue_item_is_asserted_by_a_unit_test():
    with (DBT / "seeds" / "rules" / "item_catalogue.csv").open(encoding="utf-8") as f:
        catalogue = [row["item_code"] for row in csv.DictReader(f)]
    assert catalogue, "the item catalogue seed is empty"
    asserted = set()
    for test in _unit_tests():
        for row in (test.get("expect") or {}).get("rows") or []:
            if isinstance(row, dict) and "item_code" in row and str(row.get("status", "true")).lower() == "true":
                asserted.add(row["item_code"])
    untested = [code for code in catalogue if code not in asserted]
    assert untested == [], f"items no unit test expects to match: {untested}"


def test_unit_tests_have_descriptions_and_unique_names():
    tests = _unit_tests()
    names = [t["name"] for t in tests]
    assert len(names) == len(set(names))
    assert all(t.get("description") for t in tests), "each unit test says which rule and edge it proves"


def test_every_model_reading_raw_reads_one_attempt():
    """Raw holds every attempt of a month side by side (mimamori.attempts): a model that reads a
    raw source must filter it to this build's attempt, or a re-run would mix attempts."""
    import re

    raw_sources = set()
    for path in (DBT / "models").rglob("_*__sources.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        raw_sources |= {s["name"] for s in doc.get("sources") or [] if s.get("schema") == "raw"}
    assert raw_sources, "no raw source found: the check would prove nothing"
    # a staging model is {{ staging_model('<raw_table>') }}: the macro reads raw, for the registry's file
    staging = (DBT / "macros" / "staging" / "staging_model.sql").read_text(encoding="utf-8")
    assert "source(f.source, f.table)" in staging and "run_id = {{ attempt_id() }}" in staging
    for path in (DBT / "macros").rglob("*.sql"):
        if "source(" in path.read_text(encoding="utf-8").replace("{{ source(f.source, f.table) }}", ""):
            raise AssertionError(f"{path.name}: a macro reading a source other than through staging_model()")
    readers = []
    for path in (DBT / "models").rglob("*.sql"):
        sql = path.read_text(encoding="utf-8")
        if re.search(r"\{\{ staging_model\('[^']+'\) \}\}", sql):
            readers.append(path.stem)
        elif any(re.search(rf"source\(\s*'{name}'", sql) for name in raw_sources):
            readers.append(path.stem)
            assert "run_id = {{ attempt_id() }}" in sql, f"{path.stem} reads raw without the attempt filter"
    assert len(readers) == 20, readers


def test_record_ids_name_the_contract_file_of_their_raw_table():
    """The record_id macro keeps ``<raw_table>:<row>`` for rows delivered in the contract's own file
    and adds the delivered file's name otherwise (a town's mapping, issue 21). A staging model that
    names another file than docs/contract/extracts.csv would give every record of the built-in town
    the longer form, and the marts' record ids would change without a mapping."""
    import re

    with (DBT.parent / "docs" / "contract" / "extracts.csv").open(encoding="utf-8") as f:
        contract = {row["raw_table"]: row["file"] for row in csv.DictReader(f)}
    calls = {}
    # staging_model() calls record_id(f.raw_table, f.file) with the file the generated registry_files() names
    assert "record_id(f.raw_table, f.file)" in (DBT / "macros" / "staging" / "staging_model.sql").read_text("utf-8")
    listing = (DBT / "macros" / "generated" / "registry_files.sql").read_text("utf-8")
    files = dict(re.findall(r"'raw_table': '([^']+)'.*?'file': '([^']+)'", listing))
    for path in (DBT / "models").rglob("*.sql"):
        text = path.read_text("utf-8")
        for raw_table in re.findall(r"\{\{ staging_model\('([^']+)'\) \}\}", text):
            calls[(path.stem, raw_table)] = file = files.get(raw_table)
            assert contract.get(raw_table) == file, f"{path.stem}: registry_files() names {file} for {raw_table}"
        for raw_table, file in re.findall(r"record_id\(\s*'([^']+)'\s*,\s*'([^']+)'\s*\)", text):
            calls[(path.stem, raw_table)] = file
            assert contract.get(raw_table) == file, f"{path.stem}: record_id('{raw_table}', '{file}')"
    assert sorted({t for _, t in calls}) == sorted(contract), "every raw table has its record ids"
