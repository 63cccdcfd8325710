"""The project's lint: ruff over the Python, sqlfluff over the dbt SQL (.sqlfluff, docs/manual-data-engineer.md).

`make lint`, the test suite (tests/unit/test_lint.py) and the git hooks (.pre-commit-config.yaml, local
hooks only) run the same tools from the locked virtualenvs: ruff from .local/venv/airflow, sqlfluff
from .local/venv/dbt (requirements/*.lock). `python -m mimamori.lint` runs them all and exits non-zero
on any violation.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_PATHS = ("include", "dags", "tests", "plugins", "superset", "dbt_project/lint")
# The models and the singular tests; .sqlfluffignore leaves out the macros (they render to nothing alone).
SQL_PATHS = ("dbt_project/models", "dbt_project/tests")


def ruff(root: Path = ROOT) -> Path:
    return root / ".local" / "venv" / "airflow" / "bin" / "ruff"


def sqlfluff(root: Path = ROOT) -> Path:
    return root / ".local" / "venv" / "dbt" / "bin" / "sqlfluff"


def commands(root: Path = ROOT) -> dict[str, list[str]]:
    """Each check by name: the command line, run from the repository root."""
    return {
        "ruff check": [str(ruff(root)), "check", *PYTHON_PATHS],
        "ruff format": [str(ruff(root)), "format", "--check", *PYTHON_PATHS],
        # --processes 0: one per CPU (the SQL lint is the slow part: about 40 s of CPU over 109 files).
        "sqlfluff": [str(sqlfluff(root)), "lint", *SQL_PATHS, "--processes", "0", "--disable-progress-bar"],
    }


def run(root: Path = ROOT) -> dict[str, subprocess.CompletedProcess]:
    results = {}
    for name, cmd in commands(root).items():
        started = time.monotonic()
        results[name] = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
        results[name].seconds = round(time.monotonic() - started, 1)
    return results


def main() -> int:
    failed = []
    for name, result in run().items():
        status = "ok" if result.returncode == 0 else "FAILED"
        print(f"[lint] {name}: {status} ({result.seconds} s)")
        if result.returncode != 0:
            failed.append(name)
            sys.stdout.write(result.stdout[-20000:])
            sys.stderr.write(result.stderr[-5000:])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
