"""The committed registry (include/sources/*.yaml) agrees with the contract; bad entries fail loudly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from mimamori.ingest.registry import (
    DEFAULT_REGISTRY_DIR,
    RegistryError,
    diff_against_contract,
    generate,
    load_registry,
    read_contract,
)

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "docs" / "contract" / "extracts.csv"


def test_registry_agrees_with_contract(registry):
    """A vendor change is a reviewed diff of both the contract and the YAML: they must agree."""
    assert diff_against_contract(registry, CONTRACT) == []
    assert set(registry) == {"jumin", "kodomo_shien", "kodomo_katei", "fukushi", "gakko"}
    contract = read_contract(CONTRACT)
    for name, files in contract.items():
        src = registry[name]
        assert [f.file for f in src.files] == [f["file"] for f in files]
        for spec, want in zip(src.files, files, strict=False):
            assert spec.headers == [c["header"] for c in want["columns"]]
            assert [c.type for c in spec.columns] == [c["type"] for c in want["columns"]]
            assert list(spec.keys) == want["keys"]
    assert registry["jumin"].on_failure == "block"
    assert registry["kodomo_katei"].file("妊産婦.csv").encoding == "utf-8-sig"
    assert registry["gakko"].file("出欠.xlsx").encoding == "xlsx"
    for src in registry.values():
        assert src.department and src.data_owners
        assert all(o.email.endswith("@kaisei-town.example") for o in src.data_owners)


def test_generate_reproduces_committed_yaml(tmp_path):
    out = tmp_path / "sources"
    shutil.copytree(DEFAULT_REGISTRY_DIR, out)
    generate(CONTRACT, out)
    for yml in DEFAULT_REGISTRY_DIR.glob("*.yaml"):
        assert (out / yml.name).read_text(encoding="utf-8") == yml.read_text(encoding="utf-8"), yml.name


def test_generate_keeps_owner_edits_and_reports_contract_drift(tmp_path):
    out = tmp_path / "sources"
    shutil.copytree(DEFAULT_REGISTRY_DIR, out)
    path = out / "gakko.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on_failure"] = "skip"
    data["data_owners"] = [{"name": "学務係長", "email": "gakumu@kaisei-town.example"}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    generate(CONTRACT, out)
    reg = load_registry(out)
    assert reg["gakko"].on_failure == "skip"
    assert reg["gakko"].data_owners[0].email == "gakumu@kaisei-town.example"
    # IT renames a header in the YAML only: the check names the file and position.
    text = (out / "fukushi.yaml").read_text(encoding="utf-8").replace("header: 等級,", "header: 障害等級,")
    (out / "fukushi.yaml").write_text(text, encoding="utf-8")
    problems = diff_against_contract(load_registry(out), CONTRACT)
    assert len(problems) == 1 and "障害者手帳.csv" in problems[0] and "position 3" in problems[0]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(on_failure="skip"), "must be on_failure: block"),
        (lambda d: d.update(on_failure="ignore"), "on_failure must be one of"),
        (lambda d: d["files"][0]["columns"][1].update(type="datetime"), "unknown type"),
        (lambda d: d["files"][0].update(keys=["nope"]), "key 'nope'"),
        (lambda d: d["files"][0].update(encoding="latin-1"), "encoding must be one of"),
        (lambda d: d.update(data_owners=[{"name": "x", "email": "not-an-address"}]), "invalid e-mail"),
        (lambda d: d["files"][0]["columns"].pop(), "extracted_on"),
        # what `generate` writes for a new source until a person names the department and owners
        (lambda d: d.update(department="TODO: 部署名"), "department still the generator's placeholder"),
        (lambda d: d["data_owners"][0].update(name="TODO: データ所有者"), "data_owners still the generator's"),
    ],
)
def test_invalid_registry_entries(tmp_path, edit, message):
    data = yaml.safe_load((DEFAULT_REGISTRY_DIR / "jumin.yaml").read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / "jumin.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegistryError, match=message):
        load_registry(tmp_path)


def test_check_cli(capsys):
    from mimamori.ingest.registry import main

    assert main(["check", "--contract", str(CONTRACT)]) == 0
    assert "agrees" in capsys.readouterr().out
