"""The dbt scaffolding is what the source registry implies (mimamori.scaffold), and drift is caught.

The committed staging models, sources YAML, linked views, the identity record list and the facts
union must equal what ``bin/mimamori scaffold`` writes from include/sources; an edit, a missing or
an extra file, a registry change not regenerated, or a new fact model not in the union fails here.
"""

from __future__ import annotations

import shutil

import pytest
import yaml
from mimamori import scaffold
from mimamori.ingest.registry import DEFAULT_REGISTRY_DIR, RegistryError, load_registry, source_from_dict

DBT = scaffold.DBT_DIR


@pytest.fixture()
def copy(tmp_path):
    """A copy of the registry and the dbt project's generated folders (and the item models)."""
    registry = tmp_path / "sources"
    shutil.copytree(DEFAULT_REGISTRY_DIR, registry)
    dbt = tmp_path / "dbt_project"
    for rel in (*scaffold.GENERATED_DIRS, "models/intermediate/items"):
        shutil.copytree(DBT / rel, dbt / rel)
    return registry, dbt


def test_the_committed_scaffolding_is_what_the_registry_implies():
    assert scaffold.check(load_registry()) == []


def test_every_raw_table_has_its_staging_model_and_linked_view():
    registry = load_registry()
    for source in registry.values():
        for spec in source.files:
            staging = DBT / "models" / "staging" / source.source / f"stg_{spec.raw_table}.sql"
            assert staging.read_text(encoding="utf-8").startswith(scaffold.SQL_HEADER)
            linked = DBT / "models" / "intermediate" / "identity" / "linked" / f"linked_{spec.raw_table}.sql"
            assert linked.exists() != spec.spine, spec.raw_table


@pytest.mark.parametrize("how", ["edited", "removed", "hand-written beside", "stale"])
def test_drift_in_a_generated_folder_is_caught(copy, how):
    registry_dir, dbt = copy
    registry = load_registry(registry_dir)
    assert scaffold.check(registry, dbt) == []
    staging = dbt / "models" / "staging" / "kodomo_katei"
    target = staging / "stg_kodomo_katei__vaccinations.sql"
    if how == "edited":
        text = target.read_text(encoding="utf-8")
        target.write_text(text.replace("'kodomo_katei__vaccinations'", "'kodomo_katei__maternity'"), encoding="utf-8")
    elif how == "removed":
        target.unlink()
    elif how == "hand-written beside":
        (staging / "stg_kodomo_katei__extra.sql").write_text("select 1\n", encoding="utf-8")
    else:
        (staging / "stg_kodomo_katei__gone.sql").write_text(scaffold.SQL_HEADER + "\nselect 1\n", encoding="utf-8")
    problems = scaffold.check(registry, dbt)
    assert len(problems) == 1, problems
    assert problems[0].startswith("models/staging/kodomo_katei/stg_kodomo_katei__")
    scaffold.generate(registry, dbt)
    # a stale generated file is removed; a hand-written one is never deleted, only reported
    assert scaffold.check(registry, dbt) == ([problems[0]] if how == "hand-written beside" else [])


def test_a_new_fact_model_joins_the_facts_union(copy):
    registry_dir, dbt = copy
    registry = load_registry(registry_dir)
    (dbt / "models" / "intermediate" / "items" / "int_items__facts_new.sql").write_text("select 1\n", encoding="utf-8")
    assert scaffold.check(registry, dbt) == [
        f"{scaffold.FACTS_UNION}: differs from what the registry implies (run bin/mimamori scaffold)"
    ]
    scaffold.generate(registry, dbt)
    assert "{{ ref('int_items__facts_new') }}" in (dbt / scaffold.FACTS_UNION).read_text(encoding="utf-8")


def test_a_registry_change_regenerates_staging_sources_and_the_identity_list(copy):
    """A new column of an existing file: the registry (from the contract) changes, scaffold follows."""
    registry_dir, dbt = copy
    path = registry_dir / "kodomo_katei.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    vaccinations = next(f for f in data["files"] if f["raw_table"] == "kodomo_katei__vaccinations")
    vaccinations["columns"].insert(-1, {"header": "接種場所", "column": "given_at", "type": "text", "required": True})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    registry = load_registry(registry_dir)
    drift = scaffold.check(registry, dbt)
    assert sorted(p.split(":")[0] for p in drift) == [
        "macros/generated/registry_files.sql",
        "models/staging/kodomo_katei/_kodomo_katei__models.yml",
        "models/staging/kodomo_katei/_kodomo_katei__sources.yml",
    ]  # the staging model itself is one call, staging_model('kodomo_katei__vaccinations'): unchanged
    scaffold.generate(registry, dbt)
    assert scaffold.check(registry, dbt) == []
    listing = (dbt / "macros" / "generated" / "registry_files.sql").read_text(encoding="utf-8")
    entry = next(line for line in listing.splitlines() if "'raw_table': 'kodomo_katei__vaccinations'" in line)
    assert "'given_on', 'given_at', 'extracted_on'" in entry
    sources = yaml.safe_load((dbt / "models" / "staging" / "kodomo_katei" / "_kodomo_katei__sources.yml").read_text())
    table = next(t for t in sources["sources"][0]["tables"] if t["identifier"] == "kodomo_katei__vaccinations")
    assert {"name": "given_at", "description": "接種場所", "data_tests": ["not_null"]} in table["columns"]


def test_a_raw_table_name_too_long_for_a_unit_test_is_refused(copy):
    registry_dir, dbt = copy
    path = registry_dir / "kodomo_katei.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "raw_table: kodomo_katei__vaccinations", "raw_table: kodomo_katei__vaccinations_given_and_due_this_year"
        ),
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="longer than 51 characters"):
        scaffold.check(load_registry(registry_dir), dbt)


def _entry(**file_fields) -> dict:
    columns = [
        {"header": "宛名番号", "column": "atena_no", "type": "id", "required": True},
        {"header": "子宛名番号", "column": "child_atena_no", "type": "id", "required": True},
        {"header": "抽出日", "column": "extracted_on", "type": "date", "required": True},
    ]
    file = {"file": "x.csv", "raw_table": "src__x", "encoding": "cp932", "keys": ["atena_no"], "columns": columns}
    return {
        "source": "src",
        "department": "課",
        "data_owners": [{"name": "班長", "email": "owner@kaisei-town.example"}],
        "files": [{**file, **file_fields}],
    }


def test_the_identity_roles_of_a_file_are_checked():
    assert source_from_dict(_entry()).files[0].claims == "atena_no"  # the default
    assert source_from_dict(_entry(claims="child_atena_no")).files[0].claims == "child_atena_no"
    with pytest.raises(RegistryError, match="claims 'mother_atena_no' is not one of the file's columns"):
        source_from_dict(_entry(claims="mother_atena_no"))
    with pytest.raises(RegistryError, match="record_key must list the identifying columns"):
        source_from_dict(_entry(keys=[]))
    assert source_from_dict(_entry(keys=[], record_key=["child_atena_no"])).files[0].record_key == ("child_atena_no",)
    with pytest.raises(RegistryError, match="record_key is for files without contract keys"):
        source_from_dict(_entry(record_key=["child_atena_no"]))


def test_scaffold_check_cli_names_the_drift(copy, capsys):
    registry_dir, dbt = copy
    (dbt / "macros" / "generated" / "registry_files.sql").unlink()
    assert scaffold.main(["--check", "--registry", str(registry_dir), "--dbt-dir", str(dbt)]) == 1
    assert "macros/generated/registry_files.sql: missing" in capsys.readouterr().out
    assert scaffold.main(["--registry", str(registry_dir), "--dbt-dir", str(dbt)]) == 0
    assert scaffold.main(["--check", "--registry", str(registry_dir), "--dbt-dir", str(dbt)]) == 0
