"""The new-item recipe of docs/manual-data-engineer.md §3.1, followed in a temporary copy.

A new column of an existing file (予防接種.csv: 接種勧奨) becomes a new item used in one type, by
editing exactly the five files the manual lists — the contract, one fact model, the catalogue
seed, the type-items seed, one unit test — and running the two generators (registry, scaffold).
The copy then holds: the registry and the dbt scaffolding carry the column, the item matches in
a dbt unit test (run by dbt against the suite's PostgreSQL), the vocabulary the case screen reads
labels it, the staff audience may see it and enter it by hand, the case screen's child page
template lists it with its label and offers it for hand entry, and hand entry validation accepts
it. Leaving out any one step makes a check fail.

The child page is the template rendered with the copy's catalogue, not the running screen over
HTTP: the screen reads its catalogue and audience declaration once, at import, from its own
checkout (mimamori.settings.REPO_ROOT), so showing the copy's item there would take a second
checkout of the code with its own state, and the page's item statuses a full build and
publication of the copy.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from recipe_steps import (
    add_type_item,
    add_unit_test,
    copy_checkout,
    dbt_unit_test,
    first_type,
    run_generators,
    seed_path,
    unit_tests_expecting,
)

CODE = "I90"  # not in the catalogue: the recipe's new item
COLUMN = "was_recommended"
RAW_TABLE = "kodomo_katei__vaccinations"
FACT_MODEL = "int_items__facts_recommendation"
UNIT_TEST = "items_recipe_recommendation_gives_the_new_item"
STEPS = ("contract", "fact model", "catalogue", "type items", "unit test")


def _contract(root: Path) -> None:
    path = root / "docs" / "contract" / "extracts.csv"
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    fields = list(rows[0])
    out = []
    for row in rows:
        if row["raw_table"] == RAW_TABLE and row["column"] == "extracted_on":
            new = {**row, "header": "接種勧奨", "column": COLUMN, "type": "flag:有/無", "required": "no", "notes": ""}
            out.append(new)
            row = {**row, "position": str(int(row["position"]) + 1)}
        out.append(row)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(out)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _fact_model(root: Path) -> None:
    (root / "dbt_project" / "models" / "intermediate" / "items" / f"{FACT_MODEL}.sql").write_text(
        f"""with

vaccinations as (

    select * from {{{{ linked('{RAW_TABLE}') }}}}
    where link_status = 'linked' and {COLUMN}

),

final as (

    select
        '{CODE}' as item_code,
        person_id,
        null::text as household_id,
        '{RAW_TABLE}' as raw_table,
        record_id,
        '接種勧奨' as detail,
        due_on as event_date,
        due_on as valid_from,
        null::date as valid_through
    from vaccinations

)

select * from final
""",
        encoding="utf-8",
    )


def _catalogue(root: Path) -> None:
    path = seed_path(root, "item_catalogue.csv")
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    template = next(r for r in rows if r["sources"] == "kodomo_katei" and not r["param_name"])
    new = {
        **template,
        "item_code": CODE,
        "sort_order": str(max(int(r["sort_order"]) for r in rows) + 1),
        "label_ja": "予防接種の接種勧奨を受けた",
    }
    with path.open("a", encoding="utf-8", newline="") as f:
        csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n").writerow(new)


def _type_items(root: Path) -> None:
    add_type_item(root, first_type(root), CODE)


def _unit_test(root: Path) -> None:
    # the input as SQL: the suite's warehouse holds the linked view without the new column, and a
    # dict fixture would be checked against it (a real `make dbt-build` rebuilds it first)
    given = (
        "select * from (values "
        "('v:1', 'p1', 'linked', true, date '2026-09-30'), "
        "('v:2', 'p2', 'linked', false, date '2026-09-30'), "
        "('v:3', 'p3', 'review', true, date '2026-09-30')"
        f") as t (record_id, person_id, link_status, {COLUMN}, due_on)"
    )
    test = {
        "name": UNIT_TEST,
        "description": "The recipe's new item: 接種勧奨=有 on a linked record matches; 無 and a record in review do not.",
        "model": FACT_MODEL,
        "given": [{"input": f"ref('linked_{RAW_TABLE}')", "format": "sql", "rows": given}],
        "expect": {"rows": [{"item_code": CODE, "person_id": "p1", "record_id": "v:1"}]},
    }
    add_unit_test(root, test)


def follow_recipe(root: Path, skip: str | None = None) -> None:
    """The five hand edits (but ``skip``), then the two generators (commands, not hand edits)."""
    for step, edit in zip(STEPS, (_contract, _fact_model, _catalogue, _type_items, _unit_test), strict=True):
        if step != skip:
            edit(root)
    run_generators(root)


def _child_page(root: Path) -> str:
    """The case screen's child page (templates/child.html with the app's filters) for a staff member,
    its item list made as Repo.item_labels()/item_matches() make it (every catalogue item the
    audience sees, 'データなし' until a month publishes a match) but from the copy's catalogue and
    audience declaration: the running screen reads both once, at import, from its own checkout."""
    from types import SimpleNamespace

    import jinja2
    from mimamori import access, vocabulary
    from mimamori.casescreen import app as screen
    from mimamori.casescreen.vocab import COMPARISON_LABELS, ROLES, STATUS_LABELS, STATUS_MARKS, TYPE_LABELS

    declaration = access.load_declaration(root)
    labels = {c: i.label for c, i in vocabulary.items(root).items() if c in declaration.visible_items("staff")}
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(screen.HERE / "templates"), autoescape=True, undefined=jinja2.ChainableUndefined
    )
    env.filters.update(d=screen._fmt_date, sex=screen._sex, num=screen._num)
    env.globals.update(ROLES=ROLES, TYPE_LABELS=TYPE_LABELS, COMPARISON_LABELS=COMPARISON_LABELS)
    unknown = {"status": "unknown", "status_label": STATUS_LABELS["unknown"], "status_mark": STATUS_MARKS["unknown"]}
    return env.get_template("child.html").render(
        person={"person_id": "recipe"},
        items=[{"code": code, "label": label, **unknown} for code, label in labels.items()],
        item_labels=labels,
        editable_labels={c: label for c, label in labels.items() if c in declaration.editable_items("staff")},
        staff=SimpleNamespace(may=lambda action: True, display_name="", role_label=""),
        history=SimpleNamespace(types={}, months=[], flags={}),
        form={},
        errors={},
    )


def problems(settings, root: Path, tmp: Path) -> list[str]:
    """Every way the copy falls short of the recipe's promise (empty: the item is in)."""
    from mimamori import access, scaffold, vocabulary
    from mimamori.casescreen.validation import validate_hand_entry
    from mimamori.ingest.registry import load_registry

    found = []
    type_code = first_type(root)
    registry = load_registry(root / "include" / "sources")
    spec = registry["kodomo_katei"].file("予防接種.csv")
    if COLUMN not in [c.column for c in spec.columns]:
        found.append("the registry has no column for the new header")
    # every staging model is staging_model('<raw_table>'), its columns the generated registry_files()
    generated = (root / "dbt_project" / "macros" / "generated" / "registry_files.sql").read_text(encoding="utf-8")
    entry = next((line for line in generated.splitlines() if f"'raw_table': '{RAW_TABLE}'" in line), "")
    if f"'{COLUMN}'" not in entry.partition("'columns':")[2]:
        found.append("the staging model does not carry the new column")
    found += scaffold.check(registry, root / "dbt_project")
    try:
        items = vocabulary.items(root)
        in_type = [t.item_code for t in vocabulary.type_items(root) if t.type_code == type_code]
    except vocabulary.VocabularyError as exc:
        return [*found, f"vocabulary: {exc}"]
    if CODE not in items:
        found.append("the catalogue has no row for the item (no label on the child page)")
        return found
    if CODE not in in_type:
        found.append(f"the item is not used in type {type_code}")
    if not unit_tests_expecting(root, CODE):
        found.append("no unit test expects the item to match")
        return found
    declaration = access.load_declaration(root)
    if CODE not in declaration.visible_items("staff") or CODE not in declaration.editable_items("staff"):
        found.append("the staff audience may not see or enter the item")
    page = _child_page(root)
    label = items[CODE].label
    if f'data-item="{CODE}">\n  <td>{CODE}</td><td>{label}</td>' not in page:
        found.append("the child page does not list the item with its label")
    if f'<option value="{CODE}" >{CODE} {label}</option>' not in page:
        found.append("the child page's hand entry does not offer the item")
    labels = {code: item.label for code, item in items.items()}
    entry = validate_hand_entry(
        {"item_code": CODE, "value": "true", "as_of_date": "2026-10-01", "origin": "paper"},
        today=date(2026, 10, 31),
        known_items=labels,
    )
    if "item_code" in entry.errors:
        found.append("hand entry refuses the item")
    failure = dbt_unit_test(settings, root, UNIT_TEST)
    if failure:
        found.append("the dbt unit test does not pass:\n" + failure)
    return found


def test_the_recipe_adds_an_item_in_five_hand_edited_files(warehouse, tmp_path):
    root = copy_checkout(tmp_path)
    follow_recipe(root)
    assert problems(warehouse, root, tmp_path) == []


@pytest.mark.parametrize(
    ("skip", "caught"),
    [
        ("contract", "the registry has no column for the new header"),
        ("fact model", "the dbt unit test does not pass"),
        ("catalogue", "vocabulary: "),  # the type-items row names an item the catalogue lacks
        ("type items", "the item is not used in type"),
        ("unit test", "no unit test expects the item to match"),
    ],
)
def test_a_missing_recipe_step_fails(warehouse, tmp_path, skip, caught):
    assert sorted(s for s, _ in test_a_missing_recipe_step_fails.pytestmark[0].args[1]) == sorted(STEPS)
    root = copy_checkout(tmp_path)
    follow_recipe(root, skip=skip)
    found = problems(warehouse, root, tmp_path)
    assert any(p.startswith(caught) for p in found), found
