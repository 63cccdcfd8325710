"""``bin/mimamori sources profile`` on the synthetic town's vendor-layout files (issue 21 step 4).

For each vendor-layout source, the profiler's draft must pass ``sources check`` on the delivered
files after a person (:data:`PERSON`, written out here) does what the draft's TODO comments ask:
fills the code-value maps from the vendor's code table, says which value splits a merged export,
writes the one column the files do not hold, and confirms the positions and columns of files
without a header. The lines the person edited are counted per source and printed (the issue asks
for the number). Before the edit the draft must not pass: every TODO is a named mapping mistake.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_sources_cli import _run as run_sources

REPO = Path(__file__).resolve().parents[2]
MONTH = "2026-10"


def confirm(anchor: str, line: str) -> tuple[str, str, str | None]:
    """The person checked the line against the vendor's layout document: the TODO goes, the line stays."""
    return anchor, line, None


def fill(anchor: str, line: str, text: str) -> tuple[str, str, str | None]:
    """The person writes ``text`` (indentation kept) in place of the first line matching ``line`` after ``anchor``."""
    return anchor, line, text


#: What a person does to each draft: every TODO of the draft, and nothing else.
PERSON = {
    "kodomo_shien": [
        # 要対協: no header — the columns by position are confirmed, the code tables filled.
        *(
            confirm(r"file: 要対協", rf"^\s+{k}:")
            for k in ("宛名番号", "区分", "登録日", "終結日", "一時保護歴", "一時保護日")
        ),
        fill(r"file: 要対協", r'^\s+"A":', '"A": 要保護'),
        fill(r"file: 要対協", r'^\s+"B":', '"B": 要支援'),
        fill(r"file: 要対協", r'^\s+"C":', '"C": 特定妊婦'),
        fill(r"^\s+一時保護歴:", r"^\s+codes: \{\}", 'codes: {"○": 有}'),
        fill(r"^\s+一時保護歴:", r"^\s+blank:", "blank: 無"),
        # ひとり親: one export, two contract files, split on 制度.
        fill(r"file: ひとり親医療", r"^\s+where:", 'where: {column: 制度, equals: "02"}'),
        fill(r"file: 児童扶養手当", r"^\s+where:", 'where: {column: 制度, equals: "01"}'),
        # 保育所入所 from two exports: 地域型 has no 種別 column (its merge confirmed); 認可保育's 種別 codes.
        confirm(r"file: 保育所入所", r"^\s+- input: 地域型"),
        fill(r"input: 地域型", r"^\s+施設種別: \{constant: \"\"\}", "施設種別: {constant: 地域型保育}"),
        fill(r"input: 認可保育", r'^\s+"1":', '"1": 保育所'),
        fill(r"input: 認可保育", r'^\s+"2":', '"2": 認定こども園'),
        fill(r"input: 認可保育", r'^\s+"3":', '"3": 幼稚園'),
        # 相談記録: 分類 codes.
        fill(r"file: 児童相談記録", r'^\s+"1":', '"1": 生活困窮'),
        fill(r"file: 児童相談記録", r'^\s+"2":', '"2": 障がい者'),
        fill(r"file: 児童相談記録", r'^\s+"9":', '"9": その他'),
    ],
    "jumin": [
        # 固定長: every field's position and name confirmed against the レイアウト表; 支援措置 codes.
        *(
            confirm(r"layout:", rf"^\s+- {{name: {k},")
            for k in (
                "宛名番号",
                "世帯番号",
                "氏名",
                "カナ氏名",
                "生年月日",
                "性別",
                "続柄",
                "住所",
                "転入日",
                "住民となった日",
                "支援措置",
            )
        ),
        fill(r"^\s+支援措置:", r'^\s+"0":', '"0": 無'),
        fill(r"^\s+支援措置:", r'^\s+"1":', '"1": 有'),
    ],
}


def _edit(draft: str, steps) -> str:
    lines = draft.splitlines()
    for anchor, pattern, text in steps:
        start = next((i for i, t in enumerate(lines) if re.search(anchor, t)), None)
        assert start is not None, f"the draft has no line like {anchor!r}"
        at = next((i for i in range(start, len(lines)) if re.search(pattern, lines[i])), None)
        assert at is not None, f"after {anchor!r} the draft has no line like {pattern!r}"
        assert "TODO" in lines[at], f"the person only edits lines the draft marks TODO: {lines[at]!r}"
        indent = re.match(r"\s*", lines[at]).group(0)
        lines[at] = indent + text if text is not None else lines[at].split("  #", 1)[0].rstrip()
    return "\n".join(lines) + "\n"


def lines_edited(before: str, after: str) -> int:
    count = 0
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            count += max(i2 - i1, j2 - j1)
    return count


@pytest.fixture(scope="module")
def vendor_inbox(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("vendor-town")
    subprocess.run(
        [sys.executable, "-m", "mimamori.synth", "--out", str(out), "--scale", "0.1", "--months", "1",
         "--end-month", MONTH, "--vendor-layout", "--quiet"],
        check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO / "include")}, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return out / "inbox" / MONTH


@pytest.mark.parametrize("source", sorted(PERSON))
def test_a_draft_passes_check_after_a_person_fills_in_its_todos(
    source, vendor_inbox, tmp_path, capsys, record_property
):
    from mimamori.synth.vendor import VENDOR_SOURCES

    assert source in VENDOR_SOURCES
    folder = vendor_inbox / source
    mapping = tmp_path / "town" / "sources" / f"{source}.yaml"
    done = run_sources("profile", "--out", mapping, folder)
    assert done.returncode == 0, done.stderr
    draft = mapping.read_text(encoding="utf-8")
    todos = [n for n, t in enumerate(draft.splitlines(), 1) if re.search(r"#.*\bTODO\b", t)]
    assert todos, "a draft always leaves something to a person"

    unfilled = run_sources("check", mapping, folder)
    assert unfilled.returncode == 1, unfilled.stdout
    for n in todos:  # every TODO is a mapping mistake named by its line
        assert f"{mapping}:{n}: 下書きの TODO が残っています" in unfilled.stdout

    edited = _edit(draft, PERSON[source])
    assert "TODO" not in edited.replace("ＴＯＤＯ", "")
    mapping.write_text(edited, encoding="utf-8")
    checked = run_sources("check", mapping, folder)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "結果: 合格" in checked.stdout
    count = lines_edited(draft, edited)
    assert count == len(PERSON[source])  # one line per step: no step rewrote more than its line
    record_property(f"profile_lines_edited_{source}", count)
    with capsys.disabled():
        print(f"\n[profile] {source}: {len(draft.splitlines())} draft lines, {count} edited by the person")


def test_profile_help_in_japanese_and_english():
    done = run_sources("profile", "--help")
    assert done.returncode == 0
    out = done.stdout
    assert "対応表の下書き" in out and "draft mapping" in out and "docs/onboarding.md" in out
    assert "値は数えるだけで表示しません" in out and "never printed" in out
    assert "--out" in out and "--source" in out and "--quiet" in out
    top = run_sources("--help")
    assert "profile" in top.stdout and "check" in top.stdout
    assert run_sources("profile").returncode == 2  # no file given: a usage error
    assert run_sources("profile", "/nonexistent/export.csv").returncode == 2


@pytest.mark.parametrize(
    "name, pattern, comment",
    [
        ("JUKI202609.DAT", '"JUKI*.DAT"', "# ファイル名の年月（6桁）を * にしました"),
        ("ひとり親_20261101.csv", '"ひとり親_*.csv"', "# ファイル名の日付（西暦8桁）を * にしました"),
        ("ひとり親.csv", '"ひとり親.csv"', "# ファイル名そのまま（年月・日付が見つかりません"),
    ],
)
def test_the_files_line_says_what_was_done_to_the_name(tmp_path, name, pattern, comment):
    """The comment on `files:` is true: 「そのまま」 only when the name is literal (issue 21 retry: it said so on
    every `*` pattern)."""
    from mimamori.sources.drafttext import Lines, _input
    from mimamori.sources.profile import FileProfile

    lines = Lines()
    _input(lines, "x", FileProfile(tmp_path / name, "cp932", "csv"), {})
    (line,) = [ln for ln in lines if ln.lstrip().startswith("files:")]
    assert f"files: {pattern}" in line and comment in line, line
