"""No function over 100 lines in runtime code (issue #20): a long function is split into named steps.

Scanned: every Python file under ``include/``, ``dags/`` and ``bin/`` (a file of ``bin/`` counts when
it is Python: a ``.py`` name or a python shebang). A function's length is from its ``def`` line
(decorators excluded) to its last line, nested functions included in their parent.

The exceptions below are named, each with its reason; an exception that no longer applies (the
function is gone or has become short) fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOTS = ("include", "dags", "bin")
MAX_LINES = 100
SKIP_PARTS = ("__pycache__", ".local")

#: "path::function" → why it may stay long (for now)
EXCEPTIONS: dict[str, str] = {}


def _python_files() -> list[Path]:
    files = []
    for root in ROOTS:
        for path in sorted((ROOT / root).rglob("*")):
            if not path.is_file() or any(part in SKIP_PARTS for part in path.parts):
                continue
            if path.suffix == ".py":
                files.append(path)
            elif root == "bin" and path.read_bytes()[:64].startswith(b"#!") and b"python" in path.read_bytes()[:64]:
                files.append(path)
    return files


def _long_functions() -> dict[str, int]:
    found = {}
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_LINES:
                    found[f"{path.relative_to(ROOT).as_posix()}::{node.name}"] = length
    return found


def test_the_scan_reads_runtime_code():
    files = {p.relative_to(ROOT).as_posix() for p in _python_files()}
    assert "include/mimamori/casescreen/app.py" in files
    assert "dags/mimamori_monthly.py" in files


def test_no_function_over_100_lines():
    long = {k: v for k, v in _long_functions().items() if k not in EXCEPTIONS}
    assert not long, "functions over 100 lines (split them into named steps): " + ", ".join(
        f"{k} ({v} lines)" for k, v in sorted(long.items())
    )


def test_every_exception_still_applies():
    found = _long_functions()
    stale = sorted(k for k in EXCEPTIONS if k not in found)
    assert not stale, "no longer over 100 lines (remove from EXCEPTIONS): " + ", ".join(stale)
