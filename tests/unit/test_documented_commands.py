"""Commands the README and the manuals tell a person to type work as written.

Every tool is run through ``bin/mimamori`` (the project's Python and code, no PYTHONPATH to set);
each one named in README.md or docs/*.md must answer ``--help`` with exit status 0.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOOL = re.compile(r"bin/mimamori ([a-z_][a-z_.]*)")
BARE = re.compile(r"(?<![\w/])python3? -m mimamori\.")


def documented_tools() -> list[str]:
    found = {m.group(1).rstrip(".") for doc in DOCS for m in TOOL.finditer(doc.read_text())}
    return sorted(found)


def test_the_docs_name_tools_through_the_wrapper_only():
    bare = [
        f"{doc.relative_to(ROOT)}:{n}"
        for doc in DOCS
        for n, line in enumerate(doc.read_text().splitlines(), 1)
        if BARE.search(line)
    ]
    assert not bare, f"a bare 'python -m mimamori.…' needs PYTHONPATH and the venv; write bin/mimamori: {bare}"
    assert len(documented_tools()) >= 10


@pytest.mark.parametrize("tool", documented_tools())
def test_each_documented_tool_answers_help(tool):
    done = subprocess.run(
        [str(ROOT / "bin" / "mimamori"), tool, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, f"bin/mimamori {tool} --help: exit {done.returncode}: {done.stderr[-500:]}"
    assert "usage" in done.stdout.lower() or "使い方" in done.stdout


def test_the_wrapper_lists_its_tools_and_fails_clearly_without_setup(tmp_path):
    listed = subprocess.run([str(ROOT / "bin" / "mimamori"), "--help"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "casescreen" in listed.stdout
    copy = tmp_path / "bin"
    copy.mkdir()
    (copy / "mimamori").write_bytes((ROOT / "bin" / "mimamori").read_bytes())
    (copy / "mimamori").chmod(0o755)
    missing = subprocess.run(
        [str(copy / "mimamori"), "casescreen", "--help"], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and "make setup" in missing.stderr
