"""The package's import graph: no cycles, and runtime code connects without the local stack.

Imports inside functions count too (a cycle hidden in a function is still a cycle: the two modules
cannot be understood or tested apart). A package importing its own submodules is not a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "include"
#: may use the local stack (start, provision, pg_dump …): set-up, demo, backups, benchmarks, the
#: identity matcher's stand-alone CLI, the Superset asset loader, the learning benchmark's towns
#: (each town gets a fresh warehouse)
STACK_USERS = (
    "mimamori.stack",
    "mimamori.demo",
    "mimamori.backup",
    "mimamori.bench",
    "mimamori.identity.match",
    "mimamori.superset_assets",
    "mimamori.learning.towns",
)


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    out = {}
    for path in root.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    def resolve(name: str) -> str:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [resolve(a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                targets = [
                    resolve(f"{base}.{a.name}") if f"{base}.{a.name}" in mods else resolve(base) for a in node.names
                ]
            for target in targets:
                # a package importing its own submodules is how packages are built, not a cycle
                if target and target != mod and not target.startswith(mod + "."):
                    graph[mod].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_no_import_cycles():
    assert cycles(import_graph(modules())) == []


def test_runtime_code_connects_without_the_local_stack():
    graph = import_graph(modules())
    wrong = sorted(
        f"{mod} imports {target}"
        for mod, targets in graph.items()
        for target in targets
        if target.startswith("mimamori.stack") and not mod.startswith(STACK_USERS)
    )
    assert wrong == [], "use mimamori.db.connect; the local stack is set-up's business:\n" + "\n".join(wrong)


def test_the_cycle_finder_finds_a_hidden_cycle(tmp_path):
    pkg = tmp_path / "mimamori"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from mimamori.b import g\n")
    (pkg / "b.py").write_text("from mimamori import a\n")
    (pkg / "c.py").write_text("from . import a\n")
    assert cycles(import_graph(modules(tmp_path))) == [["mimamori.a", "mimamori.b"]]


#: the operating system's own variables, passed through to child processes: not configuration
OS_VARIABLES = ("PATH", "LANG", "LC_ALL", "HOME", "TZ", "TMPDIR", "USER")


def environment_reads(root: Path = PACKAGE) -> list[str]:
    """``os.environ.get("X")``, ``os.getenv("X")`` and ``os.environ["X"]`` read outside settings.py."""
    found = []
    for mod, path in modules(root).items():
        if mod == "mimamori.settings":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = ""
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.environ.get", "os.getenv", "environ.get"):
                text = ast.unparse(node)
            elif (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Load)
                and ast.unparse(node.value) in ("os.environ", "environ")
            ):
                text = ast.unparse(node)
            if text and not any(f"'{name}'" in text for name in OS_VARIABLES):
                found.append(f"{mod}:{node.lineno}: {text}")
    return found


def test_configuration_is_read_in_one_place():
    """Every setting comes from mimamori.settings, so .env and the environment mean the same everywhere."""
    assert environment_reads() == []


def test_the_environment_scan_sees_a_read(tmp_path):
    pkg = tmp_path / "mimamori"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "import os\nX = os.environ.get('MIMAMORI_X')\nY = os.environ['Y']\nos.environ['Z'] = '1'\nP = os.environ.get('PATH')\n"
    )
    assert [f.split(": ", 1)[1] for f in environment_reads(tmp_path)] == [
        "os.environ.get('MIMAMORI_X')",
        "os.environ['Y']",
    ]
