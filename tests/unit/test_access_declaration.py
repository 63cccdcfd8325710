"""The audience declaration: read from the seeds, validated with file and line, and every copy of a
fact derived from it (the .env template, docker-compose) kept equal to it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from mimamori import access

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def town(tmp_path):
    """A copy of what the declaration reads (seeds, catalogue, registry) to break on purpose."""
    for rel in (access.SEED_DIR, access.CATALOGUE.parent, access.SOURCES_DIR):
        shutil.copytree(REPO / rel, tmp_path / rel)
    return tmp_path


def _edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / access.SEED_DIR / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_declaration_of_this_repository_is_valid():
    decl = access.load_declaration(REPO)
    assert {"coordinator", "staff", "school_board", "analyst"} <= set(decl.audiences)
    assert decl.visible_items("school_board") and decl.visible_items("school_board") < set(decl.items)
    assert decl.visible_items("staff") == set(decl.items)
    assert decl.editable_items("analyst") == set()
    assert decl.audience_of("nurse").code == decl.audience_of("caseworker").code == "staff"


@pytest.mark.parametrize(
    ("seed", "old", "new", "message"),
    [
        ("audiences.csv", ",school_register,", ",by_school,", r"audiences\.csv:\d+: row_scope"),
        (
            "audiences.csv",
            "school_board,3,教育委員会,aud_school_board",
            "school_board,3,教育委員会,aud_staff",
            "unique",
        ),
        ("audiences.csv", ",school_register,false,false,", ",school_register,false,true,", "reads_addresses"),
        ("audience_app_roles.csv", "nurse,staff,", "nurse,nurses,", r"audience_app_roles\.csv:\d+: unknown audience"),
        ("audience_app_roles.csv", "view hand_entry sheet", "view hand_entry print", "unknown action"),
        (
            "audience_departments.csv",
            "school_board,gakko",
            "school_board,gakkou",
            r"audience_departments\.csv:\d+: unknown department",
        ),
        ("audience_departments.csv", "school_board,gakko,true,true", "school_board,gakko,yes,true", "true or false"),
        ("audience_relations.csv", "published.residents,staff,", "marts.residents,staff,", "published.<table>"),
        ("audience_relations.csv", "published.children,staff,", "published.children,staffs,", "unknown audience"),
    ],
)
def test_a_mistake_names_the_file_and_line(town, seed, old, new, message):
    _edit(town, seed, old, new)
    with pytest.raises(access.AccessConfigError, match=message):
        access.load_declaration(town)


def test_an_item_of_an_unknown_department_is_refused(town):
    path = town / access.CATALOGUE
    path.write_text(path.read_text(encoding="utf-8").replace(",gakko,", ",gakkou,", 1), encoding="utf-8")
    with pytest.raises(access.AccessConfigError, match="item_catalogue.csv:"):
        access.load_declaration(town)


def test_env_template_has_a_password_for_every_login():
    keys = set(re.findall(r"^(MIMAMORI_[A-Z0-9_]+_PASSWORD)=<generate>", (REPO / ".env.example").read_text(), re.M))
    wanted = {access.password_env_key(login) for login in access.declaration().login_roles()}
    assert wanted <= keys, f"missing in .env.example: {sorted(wanted - keys)}"


def test_compose_runs_superset_with_the_declarations_audience_logins():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    env = compose["services"]["superset"]["environment"]
    decl = access.declaration()
    assert json.loads(env["MIMAMORI_SUPERSET_AUDIENCE_LOGINS"]) == decl.superset_logins()
    assert env["MIMAMORI_SUPERSET_NO_ACCESS_LOGIN"] == access.SUPERSET_NO_ACCESS_LOGIN
    for login in {*decl.superset_logins().values(), access.SUPERSET_NO_ACCESS_LOGIN}:
        assert access.password_env_key(login) in env
    ports = [p for svc in compose["services"].values() for p in svc.get("ports", [])]
    assert ports and all(str(p).startswith("127.0.0.1:") for p in ports), "a port published beyond 127.0.0.1"
    assert "scram-sha-256" in compose["services"]["postgres"]["environment"]["POSTGRES_INITDB_ARGS"]


def test_every_published_relation_is_declared_and_every_declared_one_published(settings):
    """From dbt's manifest (the tags that decide publication): the declaration names exactly the
    published relations — a missing row would leave a mart unreadable, an extra one would make the
    publication refuse the month."""
    from mimamori import dbt, pipeline

    lines: list[str] = []
    assert dbt.run(settings, ["parse"], log=lines.append).ok, "\n".join(lines[-20:])
    tables, pseudo = pipeline.published_relations(settings)
    published = {f"published.{t.split('.')[1]}" for t in tables} | {
        f"published_pseudo.{t.split('.')[1]}" for t in pseudo
    }
    published |= {"published.publication", "published_pseudo.publication"}
    declared = {g.relation for g in access.declaration().relations}
    assert declared - published == set(), f"declared but not published: {sorted(declared - published)}"
    assert published - declared == set(), f"published but readable by nobody: {sorted(published - declared)}"
