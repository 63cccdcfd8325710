"""Plain-text tables for the command lines' summaries (terminal columns, East Asian wide characters)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The header, a rule of dashes, and the rows, each column padded to its widest cell."""
    table = [header, *rows]
    widths = [max(display_width(r[i]) for r in table) for i in range(len(header))]
    lines = []
    for k, row in enumerate(table):
        lines.append("  ".join(c + " " * (w - display_width(c)) for c, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
