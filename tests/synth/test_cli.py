"""The command line: help in Japanese and English, a tiny run, progress on stderr (counts only)."""

from __future__ import annotations

import json

import pytest
from mimamori.synth.cli import main


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "見守町" in text and "Generate" in text and "truncated_xlsx" in text


def test_tiny_run(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--scale", "0.05", "--months", "1", "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["months"] == ["2026-10"] and summary["residents"]["2026-10"] > 500
    assert "[synth]" in captured.err
    assert (tmp_path / "manifest.json").is_file()
    assert main(["--out", str(tmp_path), "--fault", "bogus"]) == 2
