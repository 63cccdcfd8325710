"""The new-item recipe of docs/manual-data-engineer.md §3.1, followed in a temporary copy.

A new column of an existing file (予防接種.csv: 接種勧奨) becomes a new item used in one type, by
editing exactly the five files the manual lists — the contract, one fact model, the catalogue
seed, the type-items seed, one unit test — and running the two generators (registry, scaffold).
The copy then holds: the registry and the dbt scaffolding carry the column, the type-items seed
uses the item, the item matches in a dbt unit test (run by dbt against the suite's PostgreSQL),
and on the copy's running case screen a caseworker finds it with its label on the page of a
child of the published month and among the hand-entry choices, enters it by hand through the
form, and the entry is stored. Leaving out any one step makes a check fail.

The case screen reads its catalogue and audience declaration once, at import, from its own
checkout (mimamori.settings.REPO_ROOT), so the copy holds the code too (``include/``) and the
screen is started from it, as the project starts it (``python -m mimamori.stack.casescreen
start``: tables, the declaration's grants and row-level security, uvicorn on 127.0.0.1), on the
suite's warehouse with the judged town published (tests/town_fixtures.py). The database decides
which items a caseworker may enter (the row-level security on ``hand_entries`` lists the
declaration's items): the copy's start applies the copy's declaration, as a checkout with the
recipe's files applies it at its next start or publication. It does so on a casework schema of
the module's own (``SCREEN_SCHEMA``, dropped at the end), so neither the copy's policies nor the
test's hand entries reach the ``casework`` other tests read. The item's status on the page is
データなし: a match needs the copy's `dbt build` and publication, which the unit test stands for.
The screen starts once for the recipe followed in full and once for the copy without the
catalogue row (the one step only the screen sees); the other missing steps are caught before it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import shutil
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
from recipe_steps import (
    REPO,
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
LABEL = "予防接種の接種勧奨を受けた"
COLUMN = "was_recommended"
RAW_TABLE = "kodomo_katei__vaccinations"
FACT_MODEL = "int_items__facts_recommendation"
UNIT_TEST = "items_recipe_recommendation_gives_the_new_item"
STEPS = ("contract", "fact model", "catalogue", "type items", "unit test")
SCREEN_SCHEMA = "recipe_casework"  # the copy's case screen writes here, not to casework


def _copy(tmp: Path) -> Path:
    """The recipe's copy, and the code too: the copy's case screen runs from it (its REPO_ROOT is the copy)."""
    root = copy_checkout(tmp)
    shutil.copytree(
        REPO / "include", root / "include", ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
    )
    return root


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
        "label_ja": LABEL,
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


class CopyScreen:
    """The case screen of a copy, on the suite's warehouse and its published judged town.

    Started as the project starts it — ``python -m mimamori.stack.casescreen start`` (create the
    tables and apply the audience declaration's grants and row-level security, then uvicorn on
    127.0.0.1) — but from the copy: ``PYTHONPATH`` is the copy's ``include/``, so the screen's
    ``mimamori.settings.REPO_ROOT`` is the copy and it reads the copy's catalogue and declaration.
    It writes to a casework schema of its own (``SCREEN_SCHEMA``, dropped at the end), so the
    copy's policies and the test's hand entries never reach the ``casework`` other tests read; its
    pid file and log are in a state folder of its own, its port the suite's case screen's + 9.
    One screen runs at a time; asking for another copy's stops the running one."""

    USERNAME = "recipe_caseworker"

    def __init__(self, settings, state: Path):
        self.settings = dataclasses.replace(settings, state_dir=state, casescreen_port=settings.casescreen_port + 9)
        self.url = f"http://127.0.0.1:{self.settings.casescreen_port}"
        self.password = "recipe-" + uuid.uuid4().hex
        self.root: Path | None = None

    def _start(self, root: Path) -> str | None:
        """Start the copy's screen; None when it is healthy, else what the command said."""
        from mimamori import access
        from mimamori.casescreen import auth
        from mimamori.stack import pg

        self.stop()
        if not (root / ".env").exists():
            (root / ".env").symlink_to(REPO / ".env")  # the suite's role passwords, as a checkout has them
        env = {
            **os.environ,
            "PYTHONPATH": str(root / "include"),
            "MIMAMORI_STATE_DIR": str(self.settings.state_dir),
            "MIMAMORI_CASESCREEN_PORT": str(self.settings.casescreen_port),
            "MIMAMORI_CASESCREEN_CASEWORK_SCHEMA": SCREEN_SCHEMA,
        }
        env.pop("MIMAMORI_ROOT", None)
        proc = subprocess.run(
            [sys.executable, "-m", "mimamori.stack.casescreen", "start"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if proc.returncode != 0:
            return "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        self.root = root
        with pg.connect(self.settings, role=access.PREAUTH_LOGIN) as conn:
            auth.add_user(conn, SCREEN_SCHEMA, self.USERNAME, "caseworker", self.password, "手順の確認")
        return None

    def stop(self) -> None:
        from mimamori.stack import procs

        procs.stop(self.settings, "casescreen", timeout=15.0)  # ours only: the pid file of our state folder
        self.root = None

    def problems(self, root: Path) -> list[str]:
        """A caseworker logs in to the copy's running screen, finds the item with the recipe's label
        on a published child's page and among the hand-entry choices, enters it by hand through the form, and the
        entry is stored (read back from the database and on the page)."""
        import httpx
        from mimamori.stack import pg

        if self.root != root:
            failure = self._start(root)
            if failure:
                return ["the copy's case screen does not start:\n" + failure]
        with pg.connect(self.settings, autocommit=True) as conn:
            conn.execute(f"delete from {SCREEN_SCHEMA}.hand_entries where entered_by = %s", (self.USERNAME,))
            (child,) = conn.execute("select person_id from published.children order by person_id limit 1").fetchone()
        found = []
        with httpx.Client(base_url=self.url, timeout=30) as http:
            token = _csrf(http.get("/login").text)
            login = http.post(
                "/login", data={"username": self.USERNAME, "password": self.password, "csrf_token": token, "next": ""}
            )
            assert login.status_code == 303, f"the caseworker could not log in: {login.status_code}"
            page = http.get(f"/children/{child}")
            assert page.status_code == 200, f"the child's page: {page.status_code}"
            row = re.search(rf'<tr [^>]*data-item="{CODE}">\s*<td>{CODE}</td><td>([^<]*)</td>', page.text)
            if not (row and row.group(1) == LABEL):
                found.append("the child page does not list the item with its label")
            form = page.text.partition('id="hand-entry"')[2].partition("</form>")[0]
            choice = re.search(rf'<option value="{CODE}"[^>]*>{CODE} ([^<]*)</option>', form)
            if not (choice and choice.group(1) == LABEL):
                found.append("the child page's hand entry does not offer the item")
            sent = http.post(
                f"/children/{child}/hand-entries",
                data={
                    "csrf_token": _csrf(page.text),
                    "item_code": CODE,
                    "value": "true",
                    "as_of_date": date.today().isoformat(),
                    "origin": "紙台帳",
                },
            )
            if sent.status_code != 303 or "saved=hand" not in sent.headers.get("location", ""):
                errors = re.findall(
                    r"<li>([^<]*)</li>", sent.text.partition('id="hand-errors"')[2].partition("</ul>")[0]
                )
                found.append(f"hand entry refuses the item: HTTP {sent.status_code} {errors}")
                return found
            shown = http.get(sent.headers["location"]).text.partition('id="hand-entry"')[2]
        with pg.connect(self.settings, autocommit=True) as conn:
            stored = conn.execute(
                f"select item_code, value, origin from {SCREEN_SCHEMA}.hand_entries where entered_by = %s"
                " and person_id = %s",
                (self.USERNAME, child),
            ).fetchall()
        if stored != [(CODE, True, "紙台帳")]:
            found.append(f"the hand entry is not stored as entered: {stored}")
        if f"<td>{CODE} {LABEL}</td><td>該当あり</td>" not in shown:
            found.append("the stored hand entry is not listed on the child page")
        return found


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture(scope="module")
def copy_screen(published_town, tmp_path_factory):
    """The copies' case screen (started on first use, by :meth:`CopyScreen.problems`), its schema
    created here and dropped, with everything the screen wrote to it, at the end of the module."""
    from mimamori.stack import pg

    settings = published_town.settings
    with pg.connect(settings, autocommit=True) as conn:
        conn.execute(f"drop schema if exists {SCREEN_SCHEMA} cascade")
        conn.execute(f"create schema {SCREEN_SCHEMA} authorization transformer")
    screen = CopyScreen(settings, tmp_path_factory.mktemp("copy-screen-state"))
    try:
        yield screen
    finally:
        screen.stop()
        with pg.connect(settings, autocommit=True) as conn:
            conn.execute(f"drop schema if exists {SCREEN_SCHEMA} cascade")


def problems(settings, root: Path, tmp: Path, screen: CopyScreen) -> list[str]:
    """How the copy falls short of the recipe's promise (empty: the item is in). The cheap checks
    of the files come first; the dbt unit test, then the running case screen, only for a copy they
    found nothing wrong with (a screen start costs seconds, a dbt run more)."""
    from mimamori import scaffold, vocabulary
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
    in_type = csv.DictReader(seed_path(root, "type_items.csv").read_text(encoding="utf-8").splitlines())
    if not any(r["type_code"] == type_code and r["item_code"] == CODE for r in in_type):
        found.append(f"the item is not used in type {type_code}")
    if not unit_tests_expecting(root, CODE):
        found.append("no unit test expects the item to match")
    if found:
        return found
    failure = dbt_unit_test(settings, root, UNIT_TEST)
    if failure:
        return ["the dbt unit test does not pass:\n" + failure]
    # the catalogue row is what the screen reads: its label, who may see and enter the item
    found += screen.problems(root)
    try:
        vocabulary.type_items(root)
    except vocabulary.VocabularyError as exc:
        found.append(f"vocabulary: {exc}")
    return found


def test_the_recipe_adds_an_item_in_five_hand_edited_files(published_town, copy_screen, tmp_path):
    root = _copy(tmp_path)
    follow_recipe(root)
    assert problems(published_town.settings, root, tmp_path, copy_screen) == []


@pytest.mark.parametrize(
    ("skip", "caught"),
    [
        ("contract", "the registry has no column for the new header"),
        ("fact model", "the dbt unit test does not pass"),
        # only the screen reads the catalogue row: without it the item has no label, no audience
        ("catalogue", "the child page does not list the item with its label"),
        ("type items", "the item is not used in type"),
        ("unit test", "no unit test expects the item to match"),
    ],
)
def test_a_missing_recipe_step_fails(published_town, copy_screen, tmp_path, skip, caught):
    assert sorted(s for s, _ in test_a_missing_recipe_step_fails.pytestmark[0].args[1]) == sorted(STEPS)
    root = _copy(tmp_path)
    follow_recipe(root, skip=skip)
    found = problems(published_town.settings, root, tmp_path, copy_screen)
    assert any(p.startswith(caught) for p in found), found
