"""Readers for the generated files (tests only; never print personal values)."""

from __future__ import annotations

import csv
import io
from pathlib import Path


def read_csv(path: Path, encoding: str) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode(encoding)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def read_truth(path: Path) -> list[dict]:
    return list(csv.DictReader(open(path, encoding="utf-8", newline="")))
