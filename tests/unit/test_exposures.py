"""Every mart a dashboard or the case screen reads is declared as a dbt exposure of that reader.

The readers are found in their code, not in a list: the Superset bundle's datasets (their table,
or the published/history relations their SQL names) and the case screen's ``self.pub("…")``
calls. A relation made by ``mimamori.publish`` itself (not a dbt model) is named below with why.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "dbt_project" / "models"
#: relations the publish step writes itself (no dbt model to point an exposure at)
PUBLISH_MADE = {
    "publication": "the published month and attempt (mimamori.publish)",
    "resident_addresses": "addresses split off residents at publish (mimamori.access, the address wall)",
}
_RELATION = re.compile(r"\b(?:published_pseudo|published|history)\.(?:pseudo__)?([a-z_][a-z0-9_]*)")
_REF = re.compile(r"ref\('([a-z0-9_]+)'\)")


def exposures() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in MODELS.rglob("*.yml"):
        for exp in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("exposures") or []:
            out[exp["name"]] = {m for dep in exp.get("depends_on") or [] for m in _REF.findall(dep)}
    return out


def models() -> set[str]:
    return {p.stem for p in MODELS.rglob("*.sql")}


def superset_reads() -> dict[str, set[str]]:
    """dataset file → the marts it reads."""
    out = {}
    for path in sorted((ROOT / "superset" / "assets" / "datasets").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        names = set(_RELATION.findall(data.get("sql") or ""))
        if not data.get("sql"):
            names.add(data["table_name"])
        out[str(path.relative_to(ROOT))] = names
    return out


def casescreen_reads(folder: Path = ROOT / "include" / "mimamori" / "casescreen") -> set[str]:
    names = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "pub"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names


def test_the_case_screen_reads_only_exposed_marts():
    declared = exposures()["case_screen"]
    read = casescreen_reads() - set(PUBLISH_MADE)
    assert read, "found no relation the case screen reads: the scan is broken"
    assert sorted(read - models()) == [], "the case screen reads relations that no dbt model makes"
    assert sorted(read - declared) == [], (
        "add these to the case_screen exposure (models/marts/_dashboards__exposures.yml)"
    )
    assert sorted(declared - read) == [], "the case_screen exposure names marts the case screen no longer reads"


def test_every_superset_dataset_reads_exposed_marts():
    dashboards = set().union(*(deps for name, deps in exposures().items() if name != "case_screen"))
    problems = []
    for dataset, names in superset_reads().items():
        assert names, f"{dataset}: found no relation it reads"
        for name in sorted(names - set(PUBLISH_MADE)):
            if name not in models():
                problems.append(f"{dataset}: {name} is not a dbt model")
            elif name not in dashboards:
                problems.append(f"{dataset}: {name} is in no dashboard exposure")
    assert problems == []


def test_the_scan_sees_a_pub_call(tmp_path):
    (tmp_path / "x.py").write_text("class R:\n    def f(self):\n        return self.pub('planted_mart')\n")
    assert casescreen_reads(tmp_path) == {"planted_mart"}
