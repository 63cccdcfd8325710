"""The lint `make lint` and the git hooks run (mimamori.lint): ruff over the Python, sqlfluff over the
dbt SQL with the project's .sqlfluff (postgres, plain jinja templater: offline, no database).
It fails on any violation; a planted violation shows the SQL lint really reads the models."""

import json
import shutil
import subprocess
from pathlib import Path

import yaml
from mimamori import lint

ROOT = lint.ROOT


def test_ruff_finds_nothing():
    cmds = lint.commands()
    for name in ("ruff check", "ruff format"):
        result = subprocess.run(cmds[name], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, f"{name}:\n{result.stdout[-5000:]}{result.stderr[-2000:]}"


def test_sqlfluff_lints_every_model_and_singular_test_and_finds_nothing():
    cmd = [*lint.commands()["sqlfluff"], "--format", "json", "--nofail"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.strip(), result.stderr[-3000:]
    files = json.loads(result.stdout)
    linted = {Path(f["filepath"]).as_posix() for f in files}
    expected = {p.relative_to(ROOT).as_posix() for base in lint.SQL_PATHS for p in (ROOT / base).rglob("*.sql")}
    # Nothing ignored by accident (a path typo, a .sqlfluffignore line) and every file rendered.
    assert linted == expected
    violations = [
        f"{f['filepath']}:{v['start_line_no']}: {v['code']} {v['description']}" for f in files for v in f["violations"]
    ]
    assert not violations, "\n".join(violations)


def test_sqlfluff_reports_a_planted_violation(tmp_path):
    """The same config on a copy of a model with one unqualified column in a join (RF02) and an
    unparsable line: both reported, so the clean run above is not a templater that rendered nothing."""
    shutil.copy(ROOT / ".sqlfluff", tmp_path / ".sqlfluff")
    config = (tmp_path / ".sqlfluff").read_text(encoding="utf-8")
    for key in ("load_macros_from_path", "exclude_macros_from_path", "library_path"):
        config = config.replace(f"{key} = dbt_project/", f"{key} = {ROOT}/dbt_project/")
        config = config.replace(",dbt_project/", f",{ROOT}/dbt_project/")
    (tmp_path / ".sqlfluff").write_text(config, encoding="utf-8")
    model = (ROOT / "dbt_project/models/marts/judgement/child_item_evidence.sql").read_text(encoding="utf-8")
    planted = model.replace("        evidence.detail,\n", "        detail,\n        evidence.detail,, oops\n", 1)
    assert planted != model
    (tmp_path / "planted.sql").write_text(planted, encoding="utf-8")
    result = subprocess.run(
        [str(lint.sqlfluff()), "lint", "planted.sql", "--format", "json"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode != 0
    codes = {v["code"] for f in json.loads(result.stdout) for v in f["violations"]}
    assert {"RF02", "PRS"} <= codes, codes


def test_the_hooks_are_local_and_run_the_locked_tools():
    """No hook is fetched from the internet: every repo is `local`, every hook a system command from
    the project's own virtualenvs; and the tools come from the lock files."""
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    assert {hook["language"] for hook in hooks} == {"system"}
    entries = {hook["entry"].split()[0] for hook in hooks}
    assert entries == {".local/venv/airflow/bin/ruff", ".local/venv/dbt/bin/sqlfluff"}
    locks = {name: (ROOT / f"requirements/{name}.lock").read_text(encoding="utf-8") for name in ("airflow", "dbt")}
    assert "\nruff==" in locks["airflow"]
    assert "\nsqlfluff==" in locks["dbt"] and "\npre-commit==" in locks["dbt"]
