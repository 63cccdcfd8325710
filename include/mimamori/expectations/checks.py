"""What a gate checks, independent of GX: a check = one expectation + how to explain it.

A :class:`Check` names a GX Core 1.x expectation class and its arguments, a Japanese sentence for
the data owner, and optionally ``rows_where``: a SQL predicate over the batch (available as the
CTE ``batch``) that selects the offending rows, so that the gate reports ``source_row_number``s
computed by our own SQL — never values taken from GX's unexpected lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.yml")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SEVERITIES = ("block", "notice")


@dataclass(frozen=True)
class Check:
    check_id: str
    expectation: str  # class name in great_expectations.expectations
    kwargs: dict[str, Any]
    description_ja: str
    column: str | None = None
    file: str | None = None
    rows_where: str | None = None
    #: Row numbers are only meaningful for raw batches (source_row_number of the delivered file).
    row_column: str | None = "source_row_number"
    #: ``block``: a failure fails the gate (the month is held back unless the source's policy is
    #: skip); ``notice``: the data owner is told (file, rows, check), the gate still passes.
    severity: str = "block"

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.check_id}: severity must be one of {SEVERITIES}, not {self.severity!r}")

    def to_gx(self, gxe) -> Any:
        cls = getattr(gxe, self.expectation)
        # notes: the check in Japanese on GX's suite pages (検査項目の一覧; mimamori.gxdocs)
        return cls(**self.kwargs, meta={"check_id": self.check_id}, notes=[self.description_ja])


@dataclass
class SuiteSpec:
    """One GX suite over one batch (a query restricted to the run month)."""

    name: str  # e.g. raw.fukushi.fukushi__consultations
    source: str  # registry source, or 'marts'
    asset: str  # GX query-asset name
    query: str
    checks: list[Check] = field(default_factory=list)
    file: str | None = None


def qi(name: str) -> str:
    """A quoted SQL identifier; only plain snake_case names are accepted (they come from config)."""
    if not _IDENT_RE.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def qrel(relation: str) -> str:
    return ".".join(qi(part) for part in relation.split("."))


def load_thresholds(path: Path | str | None = None) -> dict:
    return yaml.safe_load(Path(path or THRESHOLDS_FILE).read_text(encoding="utf-8"))


def band(previous: float, relative: float, absolute_slack: float, floor: float = 0) -> tuple[float, float]:
    """(min, max) around ``previous``: ±relative, never tighter than ±absolute_slack."""
    slack = max(previous * relative, absolute_slack)
    return max(floor, previous - slack), previous + slack
