"""The input contract (docs/contract/extracts.csv): files, literal headers in order, types, keys."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CONTRACT = Path(__file__).resolve().parents[3] / "docs" / "contract" / "extracts.csv"


@dataclass(frozen=True)
class FileSpec:
    source: str
    file: str
    encoding: str  # cp932 | utf-8-sig | xlsx
    headers: tuple[str, ...]
    types: dict
    keys: tuple[str, ...]


@cache
def load(path: str | None = None) -> dict[tuple[str, str], FileSpec]:
    rows = list(csv.DictReader(open(path or CONTRACT, encoding="utf-8", newline="")))
    grouped: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        grouped.setdefault((r["source"], r["file"]), []).append(r)
    out = {}
    for (source, file), cols in grouped.items():
        cols.sort(key=lambda r: int(r["position"]))
        out[(source, file)] = FileSpec(
            source=source,
            file=file,
            encoding=cols[0]["encoding"],
            headers=tuple(c["header"] for c in cols),
            types={c["header"]: c["type"] for c in cols},
            keys=tuple(c["header"] for c in cols if c["key"] == "key"),
        )
    return out
