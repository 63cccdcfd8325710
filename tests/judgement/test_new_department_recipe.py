"""The new-department recipe of docs/manual-data-engineer.md §3.3, followed in a temporary copy.

A department not yet delivering (住宅係: 家賃滞納.csv, public-housing tenants in rent arrears)
becomes a source with one file, and its file a new item used in one type, by editing exactly the
seven files the manual lists — the contract, the registry entry's owners, the audience
declaration, one fact model, the catalogue seed, the type-items seed, one unit test — and running
the two generators (registry, scaffold). The copy then holds: the registry has the source with its
department and owners; the scaffolding carries it (sources YAML, staging model, linked view, the
registry_files() list the identity record list reads, the facts union); the raw GX suite for its
file is generated; the audience declaration lets the case-screen audiences see and enter the item;
the item is in the vocabulary and the type; and it matches in a dbt unit test run by dbt against
the suite's PostgreSQL (dbt parses the copy's whole project for it). Leaving out any one step makes
a check fail. The synthetic generator (listed apart in the manual) is not needed for any of this.
"""

from __future__ import annotations

import pytest
import yaml
from recipe_steps import (
    add_type_item,
    add_unit_test,
    append_csv_rows,
    copy_checkout,
    csv_rows,
    dbt_unit_test,
    first_type,
    hand_edited,
    run_generators,
    seed_path,
    unit_tests_expecting,
)

SOURCE = "jutaku"  # not in the registry: the recipe's new department
DEPARTMENT, LABEL = "建設課住宅係", "住宅係"
FILE = "家賃滞納.csv"
RAW_TABLE = f"{SOURCE}__rent_arrears"
CODE = "I91"  # not in the catalogue: the department's item
FACT_MODEL = f"int_items__facts_{SOURCE}"
UNIT_TEST = "items_recipe_rent_arrears_gives_the_new_item"
STEPS = ("contract", "registry entry", "audience", "fact model", "catalogue", "type items", "unit test")
#: the contract's rows of the new file: header, column, type, key
COLUMNS = (
    ("宛名番号", "atena_no", "id", "key"),
    ("滞納月数", "months_in_arrears", "int", ""),
    ("抽出日", "extracted_on", "date", ""),
)


def _contract(root) -> None:
    path = root / "docs" / "contract" / "extracts.csv"
    append_csv_rows(
        path,
        [
            {
                "source": SOURCE,
                "file": FILE,
                "raw_table": RAW_TABLE,
                "encoding": "cp932",
                "position": str(n),
                "header": header,
                "column": column,
                "type": type_,
                "required": "yes",
                "key": key,
                "notes": "公営住宅の家賃を滞納している世帯の名義人" if n == 1 else "",
            }
            for n, (header, column, type_, key) in enumerate(COLUMNS, 1)
        ],
    )


def _registry_entry(root) -> None:
    """The manual: generate, then name the department, its short label and its data owner."""
    from mimamori.ingest import registry

    registry.generate(root / "docs" / "contract" / "extracts.csv", root / "include" / "sources")
    path = root / "include" / "sources" / f"{SOURCE}.yaml"
    if not path.exists():
        return  # nothing generated to complete (the contract has no such source)
    entry = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry.update(
        department=DEPARTMENT,
        label=LABEL,
        data_owners=[{"name": "住宅係長", "email": "jutaku-owner@kaisei-town.example"}],
        on_failure="skip",
    )
    path.write_text(yaml.safe_dump(entry, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _audience(root) -> None:
    """Each audience that sees every department now sees (and edits, as it does the others) this one."""
    path = seed_path(root, "audience_departments.csv", "access")
    rows = csv_rows(path)
    departments = {r["department"] for r in rows}
    by_audience: dict[str, list[dict]] = {}
    for row in rows:
        by_audience.setdefault(row["audience"], []).append(row)
    append_csv_rows(
        path,
        [
            {**own[0], "department": SOURCE}
            for own in by_audience.values()
            if {r["department"] for r in own} == departments
        ],
    )


def _fact_model(root) -> None:
    (root / "dbt_project" / "models" / "intermediate" / "items" / f"{FACT_MODEL}.sql").write_text(
        f"""with

arrears as (

    select * from {{{{ linked('{RAW_TABLE}') }}}}
    where link_status = 'linked' and months_in_arrears >= 3

),

final as (

    select
        '{CODE}' as item_code,
        person_id,
        null::text as household_id,
        '{RAW_TABLE}' as raw_table,
        record_id,
        '家賃滞納 ' || months_in_arrears || 'か月' as detail,
        extracted_on as event_date,
        extracted_on as valid_from,
        null::date as valid_through
    from arrears

)

select * from final
""",
        encoding="utf-8",
    )


def _catalogue(root) -> None:
    path = seed_path(root, "item_catalogue.csv")
    rows = csv_rows(path)
    template = next(r for r in rows if not r["param_name"] and r["legal_basis"].startswith("個人情報保護法69条2項2号"))
    new = {
        **template,
        "item_code": CODE,
        "sort_order": str(max(int(r["sort_order"]) for r in rows) + 1),
        "label_ja": "公営住宅の家賃を3か月以上滞納している",
        "sources": SOURCE,
        "source_mode": "all",
        "lookback": "valid",
        "holder_department": DEPARTMENT,
        "disabled_since": "",
    }
    append_csv_rows(path, [new])


def _type_items(root) -> None:
    add_type_item(root, first_type(root), CODE)


def _unit_test(root) -> None:
    given = (
        "select * from (values "
        "('r:1', 'p1', 'linked', 3, date '2026-11-05'), "
        "('r:2', 'p2', 'linked', 2, date '2026-11-05'), "
        "('r:3', 'p3', 'review', 6, date '2026-11-05')"
        ") as t (record_id, person_id, link_status, months_in_arrears, extracted_on)"
    )
    add_unit_test(
        root,
        {
            "name": UNIT_TEST,
            "description": "The recipe's new department: 3 months of rent arrears on a linked record match;"
            " 2 months and a record in review do not.",
            "model": FACT_MODEL,
            "given": [{"input": f"ref('linked_{RAW_TABLE}')", "format": "sql", "rows": given}],
            "expect": {"rows": [{"item_code": CODE, "person_id": "p1", "record_id": "r:1"}]},
        },
    )


def follow_recipe(root, skip: str | None = None) -> list[str]:
    """The seven hand edits (but ``skip``), then the two generators (commands, not hand edits);
    what stopped the generators."""
    edits = (_contract, _registry_entry, _audience, _fact_model, _catalogue, _type_items, _unit_test)
    for step, edit in zip(STEPS, edits, strict=True):
        if step != skip:
            edit(root)
    return run_generators(root)


def _scaffolding(root) -> list[str]:
    """What the scaffold generated for the new source and its fact model (beside scaffold.check)."""
    from mimamori import scaffold

    found = []
    dbt_dir = root / "dbt_project"
    for path in (
        f"models/staging/{SOURCE}/_{SOURCE}__sources.yml",
        f"models/staging/{SOURCE}/_{SOURCE}__models.yml",
        f"models/staging/{SOURCE}/stg_{RAW_TABLE}.sql",
        f"models/intermediate/identity/linked/linked_{RAW_TABLE}.sql",
    ):
        if not (dbt_dir / path).exists():
            found.append(f"the scaffold did not generate {path}")
    generated = (dbt_dir / "macros" / "generated" / "registry_files.sql").read_text(encoding="utf-8")
    if f"'raw_table': '{RAW_TABLE}'" not in generated:
        found.append("registry_files() (the identity record list) has no entry for the new file")
    if f"ref('{FACT_MODEL}')" not in (dbt_dir / scaffold.FACTS_UNION).read_text(encoding="utf-8"):
        found.append("the facts union does not read the new fact model")
    return found


def problems(settings, root) -> list[str]:
    """Every way the copy falls short of the recipe's promise (empty: the department and its item are in)."""
    from mimamori import access, scaffold, vocabulary
    from mimamori.expectations import raw_suites
    from mimamori.ingest.registry import RegistryError, load_registry
    from mimamori.quality import load_thresholds

    try:
        registry = load_registry(root / "include" / "sources")
    except RegistryError as exc:
        return [f"registry: {exc}"]
    if SOURCE not in registry:
        return ["the registry has no source for the new department"]
    source = registry[SOURCE]
    found = []
    if (source.department, source.display_label) != (DEPARTMENT, LABEL):
        found.append(f"the registry entry does not name the department: {source.display_label}")
    spec = source.file(FILE)
    checks = {c.check_id for c in raw_suites.file_checks(spec, load_thresholds(settings), None, "2026-11")}
    if not {f"column_exists:{column}" for _, column, _, _ in COLUMNS} <= checks:
        found.append(f"the raw GX suite of {FILE} does not check its columns")
    found += scaffold.check(registry, root / "dbt_project")
    found += _scaffolding(root)
    try:
        items = vocabulary.items(root)
        in_type = [t.item_code for t in vocabulary.type_items(root) if t.type_code == first_type(root)]
        declaration = access.load_declaration(root)
    except (vocabulary.VocabularyError, access.AccessConfigError) as exc:
        return [*found, f"vocabulary: {exc}"]
    if CODE not in items:
        return [*found, "the catalogue has no row for the item"]
    if CODE not in in_type:
        found.append("the item is not used in the type")
    for audience in ("staff", "coordinator"):
        if CODE not in declaration.visible_items(audience) or CODE not in declaration.editable_items(audience):
            found.append(f"the audience declaration does not let {audience} see and enter the item")
    if not unit_tests_expecting(root, CODE):
        found.append("no unit test expects the item to match")
    if found:
        return found  # dbt would only fail later for the same reason (and takes half a minute)
    failure = dbt_unit_test(settings, root, UNIT_TEST)
    if failure:
        found.append("the dbt unit test does not pass:\n" + failure)
    return found


#: the files the manual's §3.3 table lists, as the recipe edits them
HAND_EDITED = [
    "dbt_project/models/intermediate/items/_items__unit_tests.yml",
    f"dbt_project/models/intermediate/items/{FACT_MODEL}.sql",
    "dbt_project/seeds/access/audience_departments.csv",
    "dbt_project/seeds/rules/item_catalogue.csv",
    "dbt_project/seeds/rules/type_items.csv",
    "docs/contract/extracts.csv",
    f"include/sources/{SOURCE}.yaml",
]


def test_the_recipe_adds_a_department_in_seven_hand_edited_files(warehouse, tmp_path):
    root = copy_checkout(tmp_path)
    assert follow_recipe(root) == []
    assert problems(warehouse, root) == []
    # the registry entry is generated, then completed by hand: it counts; no other file changed
    assert hand_edited(root) == HAND_EDITED and len(HAND_EDITED) <= 7


@pytest.mark.parametrize(
    ("skip", "caught"),
    [
        ("contract", "the registry has no source for the new department"),
        # the loader refuses the generator's placeholders, so the scaffold stops too
        ("registry entry", f"registry: {SOURCE}.yaml: department and data_owners still the generator's placeholder"),
        ("audience", "the audience declaration does not let staff see and enter the item"),
        ("fact model", "the facts union does not read the new fact model"),
        ("catalogue", "vocabulary: "),  # the type-items row names an item the catalogue lacks
        ("type items", "the item is not used in the type"),
        ("unit test", "no unit test expects the item to match"),
    ],
)
def test_a_missing_department_step_fails(warehouse, tmp_path, skip, caught):
    assert sorted(s for s, _ in test_a_missing_department_step_fails.pytestmark[0].args[1]) == sorted(STEPS)
    root = copy_checkout(tmp_path)
    found = follow_recipe(root, skip=skip) + problems(warehouse, root)
    assert any(p.startswith(caught) for p in found), found
